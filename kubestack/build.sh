#!/usr/bin/env bash
# Step 1 of the kube stack: build a real kube-apiserver and kubectl (k8s.io/kubernetes v1.36.3),
# istioctl and our Istio Wasm fetcher (one istio.io/istio wrapper module, so the two share one
# build cache), a CNCF distribution OCI registry and the oras CLI, all from the Go module proxy.
# Same pattern as realstack/build.sh: each binary is cached under
# $TIDB_MESH_CACHE/kubestack/bin (default ~/.cache/tidb-mesh) by a hash of its wrapper module
# (go.mod, go.sum, every *.go below it); one big build at a time on this machine (the lock is
# realstack's, $TIDB_MESH_CACHE/realstack/build.lock, so a realstack build and ours never run
# together); a progress line every minute; a failed build exits non-zero and names its log.
#
# usage: kubestack/build.sh [kube-apiserver|kubectl|istioctl|wasm-fetch|registry|oras|htpasswd ...]  (default: all)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="${TIDB_MESH_CACHE:-$HOME/.cache/tidb-mesh}"
cache="$root/kubestack"
lockfile="$root/realstack/build.lock"
mkdir -p "$cache/bin" "$cache/logs" "$root/realstack"

# GOTOOLCHAIN=local: never download another Go. Our go.sum files are committed.
export GOTOOLCHAIN=local GOFLAGS=-mod=mod
command -v go >/dev/null || { echo "build: go is not on PATH (Go >= 1.26 needed by kubernetes 1.36)" >&2; exit 1; }

# name | wrapper dir | main package | cold minutes on 2 cores (measured; see kubestack/README.md)
targets=(
  "kube-apiserver|go/kubernetes|k8s.io/kubernetes/cmd/kube-apiserver|16"
  "kubectl|go/kubernetes|k8s.io/kubernetes/cmd/kubectl|1"
  "istioctl|go/istio|istio.io/istio/istioctl/cmd/istioctl|13"
  "wasm-fetch|go/istio|./wasmfetch|1"
  "registry|go/oci|github.com/distribution/distribution/v3/cmd/registry|2"
  "oras|go/oci|oras.land/oras/cmd/oras|1"
  "htpasswd|go/oci|./htpasswd|1"
)

want=("$@")
binpath() { # name dir -> cached binary path for the current wrapper sources
  local dir="$here/$2" h
  h=$(cd "$dir" && { cat go.mod go.sum; find . -name '*.go' | sort | xargs cat; } | sha256sum | cut -c1-12)
  echo "$cache/bin/$1-$h"
}
selected() { [ "${#want[@]}" -eq 0 ] || [[ " ${want[*]} " == *" $1 "* ]]; }
for w in "${want[@]}"; do
  printf '%s\n' "${targets[@]}" | cut -d'|' -f1 | grep -qx "$w" || { echo "build: unknown target $w" >&2; exit 2; }
done

# Only when something must be built: wait for any other big Go build on this machine.
for t in "${targets[@]}"; do
  IFS='|' read -r name dir _ <<<"$t"
  if selected "$name" && [ ! -x "$(binpath "$name" "$dir")" ]; then
    exec 9>"$lockfile"
    if ! flock -n 9; then
      echo "build: another build is running; waiting for it ($lockfile)"
      flock 9
    fi
    break
  fi
done

for t in "${targets[@]}"; do
  IFS='|' read -r name dir pkg mins <<<"$t"
  selected "$name" || continue
  out=$(binpath "$name" "$dir")
  if [ -x "$out" ]; then
    echo "build: $name cached ($out)"
  else
    log="$cache/logs/$name.log"
    echo "build: $name from the Go module proxy (cold ~${mins} min on 2 cores; log $log)"
    start=$(date +%s)
    (
      cd "$here/$dir"
      CGO_ENABLED=0 go build -v -trimpath -o "$out.tmp" "$pkg"
    ) >"$log" 2>&1 &
    pid=$!
    shown=0
    while kill -0 "$pid" 2>/dev/null; do
      sleep 5
      el=$(( $(date +%s) - start ))
      if [ $((el / 60)) -gt "$shown" ]; then shown=$((el / 60)); echo "build: $name ... ${el}s, $(wc -l <"$log") packages"; fi
    done
    if ! wait "$pid"; then
      echo "build: $name FAILED after $(( $(date +%s) - start ))s; last lines of $log:" >&2
      tail -20 "$log" >&2
      exit 1
    fi
    mv "$out.tmp" "$out"
    echo "build: $name built in $(( $(date +%s) - start ))s"
  fi
  ln -sf "$out" "$cache/bin/$name"
done
echo "build: binaries in $cache/bin"
