#!/usr/bin/env bash
# Where the rewriter's time goes, per function and per instruction of V8's optimized code:
#   bash bench/profile.sh [WORKLOAD] [PUSHES]      (default: batch128 60000)
# Builds the core with function names kept (--target release --debug: same optimization as the
# release build), pushes one workload of bench/workloads.js through it under `perf record`
# with V8's jitdump (--perf-prof), and prints the hottest functions and the hottest
# instructions of the hottest one. Needs Linux `perf` (Debian: apt-get install linux-perf);
# perf_event_paranoid <= 2 is enough for one's own processes. Output stays in $OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
W=${1:-batch128}
N=${2:-60000}
OUT=${OUT:-$(mktemp -d /tmp/tidb-mesh-profile.XXXXXX)}
command -v perf >/dev/null || { echo "profile: perf is not installed (apt-get install linux-perf)" >&2; exit 2; }
node_modules/.bin/asc assembly/testing/entry.ts --config asconfig.json --target release --debug -b "$OUT/core-named.wasm" 2>&1 | grep -i " error" && exit 1
cat > "$OUT/push.js" <<'JS'
process.env.TIDB_MESH_CORE_WASM = process.argv[2];
const L = require(process.argv[5] + '/bench/lib');
const { buildWorkloads, frame } = require(process.argv[5] + '/bench/workloads');
const core = L.loadCore(); core.configure(L.benchConfig());
const w = buildWorkloads().find((x) => x.name === process.argv[3]);
if (!w) throw new Error(`no workload ${process.argv[3]}`);
const fr = frame(w.msg); const p = core.put(fr); const h = core.openCall(0, w.path, w.request);
const n = Number(process.argv[4]); const t0 = process.hrtime.bigint();
for (let i = 0; i < n; i++) if (core.ex.push(h, p, fr.length, 0) !== 0) throw new Error('push failed');
console.log(`${w.name}: ${(Number(process.hrtime.bigint() - t0) / n).toFixed(0)} ns per push (under perf)`);
JS
ROOT=$PWD
( cd "$OUT" && perf record -q -k 1 -o perf.data -- node --perf-prof push.js "$OUT/core-named.wasm" "$W" "$N" "$ROOT" )
( cd "$OUT" && perf inject --jit -i perf.data -o perf.jit.data 2>/dev/null )
echo "== functions (share of all samples; wasm functions end in -turbofan / -liftoff)"
perf report -i "$OUT/perf.jit.data" --no-children --sort symbol -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -15 | cut -c1-110 || true
top=$(perf report -i "$OUT/perf.jit.data" --no-children --sort symbol -g none 2>/dev/null | grep -o 'JS:assembly[^ ]*-turbofan' | head -1 || true)
echo "== hottest instructions of $top"
perf annotate -i "$OUT/perf.jit.data" --stdio -s "$top" 2>/dev/null | grep -E '^\s+[0-9]+\.[0-9]+ :' | sort -rn | head -12 || true
echo "(perf data and the named core in $OUT)"
