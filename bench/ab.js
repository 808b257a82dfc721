#!/usr/bin/env node
// A/B of two builds of the rewriter core in one process: `node bench/ab.js BASE.wasm [NEW.wasm]`
// (NEW defaults to dist/tidb-mesh-core.wasm). Every workload of bench/workloads.js is pushed
// through both; the outputs must be byte-identical, then both are timed in alternating rounds
// (same process, same frames), so a change to the walk is judged by a ratio that machine load
// moves much less than absolute numbers. Prints ns/msg per build, new/base, and a memcpy row.
'use strict';
const fs = require('fs');
const path = require('path');
const L = require('./lib');
const { buildWorkloads, frame } = require('./workloads');

const ROUNDS = Number(process.env.AB_ROUNDS || 7);
const TARGET_MS = Number(process.env.AB_MS || 100);

function load(file) {
  process.env.TIDB_MESH_CORE_WASM = path.resolve(file);
  const core = L.loadCore();
  core.configure(L.benchConfig());
  return core;
}

const [baseFile, newFile = path.join(L.ROOT, 'dist', 'tidb-mesh-core.wasm')] = process.argv.slice(2);
if (!baseFile || !fs.existsSync(baseFile)) { console.error('usage: node bench/ab.js BASE.wasm [NEW.wasm]'); process.exit(2); }
const cores = { base: load(baseFile), new: load(newFile) };
const only = process.env.AB_ONLY ? new Set(process.env.AB_ONLY.split(',')) : null;
const rows = [];
for (const w of buildWorkloads()) {
  if (only && !only.has(w.name)) continue;
  const fr = frame(w.msg);
  const run = {};
  let outputs = [];
  for (const [k, core] of Object.entries(cores)) {
    const p = core.put(fr);
    const h = core.openCall(0, w.path, w.request);
    if (core.ex.push(h, p, fr.length, 0) !== 0) throw new Error(`${k} ${w.name}: push failed`);
    outputs.push(core.output(h));
    const outP = core.ex.alloc(fr.length + 64) >>> 0;
    // Raw wasm exports, not the loader's wrappers (see bench/rewriter.js).
    const push = core.ex.push.original || core.ex.push;
    run[k] = (n) => { for (let i = 0; i < n; i++) push(h, p, fr.length, 0); };
    if (k === 'new') {
      const copyBench = core.ex.copyBench.original || core.ex.copyBench;
      run.memcpy = (n) => { for (let i = 0; i < n; i++) copyBench(p, fr.length, outP); };
      if (typeof core.ex.scanBench === 'function') {
        if (core.ex.scanBench(h, p, fr.length) !== 0) throw new Error(`${w.name}: scan failed`);
        const scanBench = core.ex.scanBench.original || core.ex.scanBench;
        run.scan = (n) => { for (let i = 0; i < n; i++) scanBench(h, p, fr.length); };
      }
    }
  }
  if (!outputs[0].equals(outputs[1])) throw new Error(`${w.name}: outputs differ between the builds`);
  const t = { base: [], new: [], memcpy: [], scan: [] };
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 ? ['new', 'base'] : ['base', 'new'];
    for (const k of order) t[k].push(L.timeIt(run[k], TARGET_MS));
    t.memcpy.push(L.timeIt(run.memcpy, TARGET_MS / 3));
    if (run.scan) t.scan.push(L.timeIt(run.scan, TARGET_MS / 3));
  }
  const m = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, L.median(v)]));
  rows.push([w.name, L.fmt(fr.length), L.fmtNs(m.base), L.fmtNs(m.new), L.ratio(m.new, m.base), L.fmtNs(m.memcpy),
    L.ratio(m.base, m.memcpy), L.ratio(m.new, m.memcpy), run.scan ? L.fmtNs(m.scan) : '-', run.scan ? L.ratio(m.new, m.scan) : '-']);
}
console.log(L.table(['workload', 'bytes', 'base', 'new', 'new/base', 'memcpy', 'base/memcpy', 'new/memcpy', 'parse only (new)', 'new/parse'], rows));
