#!/usr/bin/env node
// On-demand fuzzing of the pure core (not part of npm test): the property runner
// (test/property/runner.js) in parallel child processes, alternating valid-message and hostile
// mutation properties with fresh seeds, until the case budget is spent.
//
//   npm run fuzz                          # 10^7 cases, one worker per CPU
//   node scripts/fuzz.js --cases 200000 --workers 2 --batch 50000 --seed 1
//
// Prints one line per finished batch and a summary; exits 1 on the first failure with the seed
// and counterexample (rerun one batch: node test/property/runner.js --property <p> --seed <s> --runs <n>).
'use strict';
const os = require('os');
const path = require('path');
const { execFile } = require('child_process');

const args = process.argv.slice(2);
const get = (k, d) => { const i = args.indexOf(`--${k}`); return i >= 0 ? args[i + 1] : d; };
const TOTAL = Number(get('cases', 1e7));
const WORKERS = Number(get('workers', Math.max(1, os.cpus().length)));
const BATCH = Number(get('batch', 100000));
let seed = Number(get('seed', Date.now() % 0x7fffffff));
const RUNNER = path.join(__dirname, '..', 'test', 'property', 'runner.js');

let started = 0, done = 0, batches = 0, failed = null;
const totals = { valid: 0, mutation: 0, traps: 0, statuses: {}, memoryMax: 0 };
const t0 = Date.now();

function runBatch() {
  if (failed || started >= TOTAL) return Promise.resolve();
  const runs = Math.min(BATCH, TOTAL - started);
  started += runs;
  const property = batches++ % 2 === 0 ? 'valid' : 'mutation';
  const s = seed++;
  return new Promise((resolve) => {
    execFile(process.execPath, [RUNNER, '--property', property, '--seed', String(s), '--runs', String(runs)],
      { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
        let r;
        try { r = JSON.parse(stdout.trim().split('\n').pop()); } catch (e) {
          failed = { property, seed: s, runs, error: `no summary (${err && err.message})\n${stderr.slice(-2000)}` };
          return resolve();
        }
        done += r.runs;
        totals[property] += r.runs;
        totals.traps += r.traps;
        totals.memoryMax = Math.max(totals.memoryMax, r.memoryAfter);
        for (const [k, v] of Object.entries(r.statuses)) totals.statuses[k] = (totals.statuses[k] || 0) + v;
        const rate = Math.round(done / ((Date.now() - t0) / 1000));
        console.log(`${property.padEnd(8)} seed ${s}  ${r.runs} cases  ${r.ok ? 'ok' : 'FAILED'}  traps ${r.traps}  ` +
          `memory ${r.memoryBefore} -> ${r.memoryAfter}  total ${done}/${TOTAL}  ${rate}/s`);
        if (!r.ok || r.traps) failed = { property, seed: s, runs, ...r.failure };
        resolve(runBatch());
      });
  });
}

Promise.all(Array.from({ length: WORKERS }, runBatch)).then(() => {
  const secs = ((Date.now() - t0) / 1000).toFixed(0);
  console.log(`\nfuzz: ${done} cases (${totals.valid} valid, ${totals.mutation} hostile) in ${secs} s, ` +
    `traps ${totals.traps}, max core memory ${totals.memoryMax} bytes`);
  console.log(`statuses: ${JSON.stringify(totals.statuses)}`);
  if (failed) {
    console.log(`\nFAILED: ${JSON.stringify(failed, null, 2)}`);
    console.log(`rerun: node test/property/runner.js --property ${failed.property} --seed ${failed.seed} --runs ${failed.runs}`);
    process.exitCode = 1;
  }
});
