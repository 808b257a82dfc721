#!/usr/bin/env bash
# Step 1 of the real stack: build pd-server, an unmodified tidb-server and our unistore
# store server from the Go module proxy. Each binary is cached under
# $TIDB_MESH_CACHE/realstack/bin (default ~/.cache/tidb-mesh) by a hash of its wrapper
# module (go.mod, go.sum, *.go), so a second run, or a fresh clone on the same machine,
# takes seconds. A failed build exits non-zero and names the log.
#
# usage: realstack/build.sh [pd-server|tidb-server|unistore-server|tiproxy-standin ...]   (default: all)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${TIDB_MESH_CACHE:-$HOME/.cache/tidb-mesh}/realstack"
mkdir -p "$cache/bin" "$cache/logs"

# The checksum database has no record of most TiDB/PD pseudo-versions; our go.sum files
# are committed instead. GOTOOLCHAIN=local: never download another Go.
export GOTOOLCHAIN=local GOFLAGS=-mod=mod GONOSUMDB=github.com/pingcap,github.com/tikv
command -v go >/dev/null || { echo "build: go is not on PATH (Go >= 1.23 needed)" >&2; exit 1; }

# name | wrapper dir | main package | cgo | tags | cold minutes on 2 cores
targets=(
  "pd-server|go/pd|github.com/tikv/pd/cmd/pd-server|0|without_dashboard|4"
  "unistore-server|go/unistore|.|0|intest,nextgen|8"
  "tidb-server|go/tidb-server|github.com/pingcap/tidb/cmd/tidb-server|1|codes|17"
  "tiproxy-standin|go/tiproxy-standin|.|0||1"
)

want=("$@")
binpath() { # name -> cached binary path for the current wrapper sources
  local dir="$here/$2" h
  h=$(cd "$dir" && cat go.mod go.sum $(ls *.go 2>/dev/null) | sha256sum | cut -c1-12)
  echo "$cache/bin/$1-$h"
}

selected() { [ "${#want[@]}" -eq 0 ] || [[ " ${want[*]} " == *" $1 "* ]]; }

# Only when something must be built: one build at a time (two Go builds of TiDB at once would
# only starve each other on 2 cores); a second invocation waits, then finds it cached.
for t in "${targets[@]}"; do
  IFS='|' read -r name dir _ <<<"$t"
  if selected "$name" && [ ! -x "$(binpath "$name" "$dir")" ]; then
    exec 9>"$cache/build.lock"
    if ! flock -n 9; then
      echo "build: another build is running; waiting for it ($cache/build.lock)"
      flock 9
    fi
    break
  fi
done

for t in "${targets[@]}"; do
  IFS='|' read -r name dir pkg cgo tags mins <<<"$t"
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
      CGO_ENABLED=$cgo go build -v -trimpath -tags "$tags" -o "$out.tmp" "$pkg"
    ) >"$log" 2>&1 &
    pid=$!
    # Progress: one line a minute with the number of packages compiled so far.
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
