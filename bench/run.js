#!/usr/bin/env node
// `npm run bench` (after build + setup): runs every benchmark script in this order and writes
// the tables to bench/results/latest.md (and stdout). BENCH_QUICK=1: short runs for smoke use.
// BENCH_ONLY=rewriter,memory,envoy,sql: a subset (sql: sysbench on the real stack, bench/sql.js).
'use strict';
const fs = require('fs');
const path = require('path');
const L = require('./lib');

async function main() {
  fs.mkdirSync(L.RESULTS, { recursive: true });
  const header = `## tidb-mesh benchmark results\n\n` +
    `- date: ${new Date().toISOString()}\n- commit: ${L.gitCommit()}\n- machine: ${L.machine()}\n` +
    `- mode: ${L.QUICK ? 'QUICK (BENCH_QUICK=1: short runs, fewer repeats; for smoke use only)' : 'full'}\n`;
  fs.writeFileSync(path.join(L.RESULTS, 'latest.md'), header);
  process.stdout.write(header);
  const only = (process.env.BENCH_ONLY || 'rewriter,envoy,memory,sql').split(',');
  const summary = {};
  for (const name of ['rewriter', 'memory', 'envoy', 'sql']) {
    if (!only.includes(name)) continue;
    process.stderr.write(`\nbench: ${name} ...\n`);
    summary[name] = await require(`./${name}`).main();
  }
  fs.writeFileSync(path.join(L.RESULTS, 'latest.json'), JSON.stringify({ machine: L.machine(), commit: L.gitCommit(), quick: L.QUICK, summary }, null, 2));
  process.stderr.write(`\nbench: tables written to ${path.relative(L.ROOT, path.join(L.RESULTS, 'latest.md'))}\n`);
}

main().then(() => process.exit(0)).catch((e) => { console.error(e); process.exit(1); });
