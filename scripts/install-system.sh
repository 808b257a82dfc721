#!/bin/sh
# Installs the Debian packages every real part of the tests needs, so that `npm test`,
# `npm run demo` and `npm run test:tidb` work on a fresh machine with nothing installed by hand:
#   etcd-server, etcd-client   a real etcd and etcdctl (test/e2e/etcd.e2e.test.js)
#   openssl                    SPIFFE certificates for the mTLS tests
#   mariadb-client             the `mysql` command-line client (real-TiDB suite and demo)
#   iproute2, util-linux       `ip netns` and `nsenter` (one network namespace per tenant)
# Idempotent: installs only what is missing. Runs as root or through sudo; apt-get only.
set -eu

need=""
command -v etcd >/dev/null 2>&1 || need="$need etcd-server"
command -v etcdctl >/dev/null 2>&1 || need="$need etcd-client"
command -v openssl >/dev/null 2>&1 || need="$need openssl"
command -v mysql >/dev/null 2>&1 || need="$need mariadb-client"
command -v ip >/dev/null 2>&1 || need="$need iproute2"
command -v nsenter >/dev/null 2>&1 || need="$need util-linux"
if [ -z "$need" ]; then
  echo "install-system: etcd, etcdctl, openssl, mysql, ip, nsenter present"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-system: missing:$need and no apt-get; install them yourself" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-system: not root and no sudo; run as root: apt-get install -y$need" >&2; exit 1; }
  SUDO="sudo"
fi
echo "install-system: installing$need with apt-get"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need
# The Debian package may start an etcd system service; tests start their own etcd on random
# loopback ports, so stop it (harmless either way).
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet etcd 2>/dev/null; then
  $SUDO systemctl stop etcd || true
fi
for c in etcd etcdctl openssl mysql ip nsenter; do
  command -v $c >/dev/null 2>&1 || { echo "install-system: $c still missing after apt-get" >&2; exit 1; }
done
echo "install-system: done"
