#!/bin/sh
# Installs a real etcd (server + etcdctl) for the etcd end-to-end test
# (test/e2e/etcd.e2e.test.js). Idempotent: does nothing when `etcd` is already on PATH.
# Debian/Ubuntu only: etcd-server ships the etcd binary, etcd-client ships etcdctl.
# Runs non-interactively (CI runs it as root); uses sudo when not root and sudo exists.
set -eu

if command -v etcd >/dev/null 2>&1; then
  echo "install-etcd: etcd already installed: $(command -v etcd)"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-etcd: apt-get not found; install etcd and etcdctl (3.4+) yourself and put them on PATH" >&2
  exit 1
fi

SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-etcd: not root and no sudo; run as root: apt-get install -y etcd-server etcd-client" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends etcd-server etcd-client

# The Debian package enables an etcd system service; the tests start their own etcd on random
# loopback ports with a temporary data dir, so a running service is not needed (and harmless).
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet etcd 2>/dev/null; then
  $SUDO systemctl stop etcd || true
fi

command -v etcd >/dev/null 2>&1 || { echo "install-etcd: etcd still not on PATH after install" >&2; exit 1; }
echo "install-etcd: installed $(etcd --version 2>/dev/null | head -1)"
