#!/usr/bin/env node
// Benchmark 4: what the mesh costs in SQL throughput. sysbench (Debian package, installed here
// with apt-get if missing) runs oltp_point_select and oltp_read_write, fixed threads and time,
// against one unmodified tidb-server on the real stack (realstack/stack.js: real PD, the
// unistore store, TiDB 8.5) in four set-ups, all up at once so that the rounds can rotate:
//   (a) a sidecar Envoy without wasm, a plain API-v1 TiDB
//   (b) the same sidecar with the no-op wasm filter (dist/tidb-mesh-noop.wasm)
//   (c) the sidecar with tidb-mesh (outbound, keyspace 1)
//   (k) TiDB's own keyspace mode, no sidecar (tidb-server next to PD and the store)
// The store runs without its keyspace check and without capture in every set-up (the check
// and the capture are test instruments, not part of what is compared). Before timing, each
// set-up's sysbench data is counted and checked with ADMIN CHECK TABLE, and the store's raw
// view must show (c)'s and (k)'s rows under keyspace 1's prefix and (a)'s and (b)'s without one.
// Env: SQL_SECONDS (per run, default 10; QUICK 4), SQL_ROUNDS (default 3; QUICK 1),
// SQL_THREADS (default 8), SQL_TABLE_SIZE (default 10000; QUICK 2000).
'use strict';
const { spawnSync, spawn } = require('child_process');
const fs = require('fs');
const path = require('path');
const L = require('./lib');

const SECONDS = Number(process.env.SQL_SECONDS || (L.QUICK ? 4 : 10));
const ROUNDS = Number(process.env.SQL_ROUNDS || (L.QUICK ? 1 : 3));
const THREADS = Number(process.env.SQL_THREADS || 8);
const TABLES = 2;
const TABLE_SIZE = Number(process.env.SQL_TABLE_SIZE || (L.QUICK ? 2000 : 10000));
const WORKLOADS = ['oltp_point_select', 'oltp_read_write'];
// sysbench's own list plus TiDB's write-conflict/retry codes (8022, 8028, 9007): oltp_read_write
// on one small table set conflicts now and then; ignored errors are counted in the table.
const IGNORE = '1213,1020,1205,8022,8028,9007';

const notes = [];

function ensureSysbench() {
  if (spawnSync('sh', ['-c', 'command -v sysbench']).status === 0) return;
  if (process.getuid && process.getuid() !== 0) throw new Error('sysbench is missing; install the Debian package (apt-get install -y sysbench)');
  console.error('bench: sysbench missing -> running apt-get install -y sysbench');
  const r = spawnSync('sh', ['-c', 'DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends sysbench || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends sysbench)'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('apt-get install sysbench failed');
  notes.push('installed sysbench with `apt-get install -y sysbench`');
}

function sysbenchVersion() {
  return spawnSync('sysbench', ['--version'], { encoding: 'utf8' }).stdout.trim();
}

const common = (socket) => [`--mysql-socket=${socket}`, '--mysql-user=root', '--mysql-db=sbtest', '--db-driver=mysql',
  `--tables=${TABLES}`, `--table-size=${TABLE_SIZE}`];

/** Runs sysbench; resolves with its stdout (rejects on a non-zero exit). */
function sysbench(args) {
  return new Promise((resolve, reject) => {
    const child = spawn('sysbench', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`sysbench ${args[0]} ${args[args.length - 1]} exited ${code}:\n${out}\n${err}`))));
  });
}

/** {tps, qps, p95ms, errors} from sysbench's report. */
function parse(out) {
  const num = (re) => { const m = out.match(re); if (!m) throw new Error(`sysbench output lacks ${re}:\n${out}`); return Number(m[1]); };
  return {
    tps: num(/transactions:\s+\d+\s+\(([\d.]+) per sec/),
    qps: num(/queries:\s+\d+\s+\(([\d.]+) per sec/),
    p95ms: num(/95th percentile:\s+([\d.]+)/),
    errors: num(/ignored errors:\s+(\d+)/),
  };
}

const SETUPS = [
  { id: 'a', label: '(a) sidecar Envoy, no wasm', opts: { mode: 'outbound', sidecarFilter: 'none' } },
  { id: 'b', label: '(b) sidecar + no-op wasm', opts: { mode: 'outbound', sidecarFilter: 'noop' } },
  { id: 'c', label: '(c) sidecar + tidb-mesh', opts: { mode: 'outbound', sidecarFilter: 'mesh' } },
  { id: 'k', label: '(k) keyspace mode, no sidecar', opts: { mode: 'keyspace', direct: true } },
];

async function main() {
  if (process.getuid && process.getuid() !== 0) throw new Error('bench/sql.js needs root (network namespaces)');
  ensureSysbench();
  const { startStack, TENANTS } = require('../realstack/stack');
  const up = [];
  const loadStart = require('os').loadavg().map((x) => x.toFixed(2)).join(' ');
  try {
    for (const s of SETUPS) {
      process.stderr.write(`bench sql: starting ${s.label}\n`);
      const stack = await startStack({ ...s.opts, tenants: [TENANTS[0]], requireKeyspace: false, capture: false, log: (m) => process.stderr.write(m + '\n') });
      up.push({ ...s, stack, t: stack.tenants[0] });
    }
    // sysbench's prepare is not reproducible across servers (its row values differ even with
    // --rand-seed), so each set-up checks its own data: every row there, and ADMIN CHECK TABLE
    // (TiDB reads every row and index entry back through the set-up and compares them).
    for (const s of up) {
      await s.t.mysql.query('CREATE DATABASE IF NOT EXISTS sbtest');
      await sysbench(['oltp_read_write', ...common(s.t.socket), 'prepare']);
      for (let i = 1; i <= TABLES; i++) {
        const [row] = await s.t.mysql.query(`SELECT COUNT(*) AS n FROM sbtest.sbtest${i}`);
        if (Number(row.n) !== TABLE_SIZE) throw new Error(`(${s.id}): sbtest${i} has ${row.n} rows, expected ${TABLE_SIZE}`);
        await s.t.mysql.query(`ADMIN CHECK TABLE sbtest.sbtest${i}`);
      }
    }
    const expectRows = TABLES * TABLE_SIZE;
    for (const s of up) {
      const raw = await s.stack.raw();
      const text = JSON.stringify(raw);
      const ks1 = Number((text.match(/"78000001"\s*:\s*(\d+)/) || [])[1] || 0);
      const inKeyspace = s.id === 'c' || s.id === 'k';
      if (inKeyspace ? ks1 < expectRows : ks1 !== 0) throw new Error(`(${s.id}): ${ks1} keys under keyspace 1's prefix 78000001 (raw view ${text.slice(0, 300)})`);
    }
    notes.push(`data checked before timing in every set-up: ${TABLES} tables x ${TABLE_SIZE} rows counted and ADMIN CHECK TABLE passed (rows and index read back through the set-up); the store holds (c)'s and (k)'s keys under keyspace 1 (prefix 78000001), (a)'s and (b)'s without a keyspace`);

    const runs = {};
    for (const wl of WORKLOADS) {
      for (const s of up) {
        process.stderr.write(`bench sql: warm-up ${wl} ${s.id}\n`);
        await sysbench([wl, ...common(s.t.socket), `--threads=${THREADS}`, '--time=3', `--mysql-ignore-errors=${IGNORE}`, 'run']);
      }
      for (let r = 0; r < ROUNDS; r++) {
        const order = up.map((_, i) => up[(i + r) % up.length]);
        for (const s of order) {
          const out = await sysbench([wl, ...common(s.t.socket), `--threads=${THREADS}`, `--time=${SECONDS}`, '--report-interval=0', `--mysql-ignore-errors=${IGNORE}`, 'run']);
          const m = parse(out);
          (runs[`${wl} ${s.id}`] ||= []).push(m);
          process.stderr.write(`bench sql: ${wl} round ${r + 1} ${s.id}: ${m.qps} qps, p95 ${m.p95ms} ms\n`);
        }
      }
    }
    const loadEnd = require('os').loadavg().map((x) => x.toFixed(2)).join(' ');

    const rows = [];
    const results = {};
    for (const wl of WORKLOADS) {
      const med = {};
      for (const s of up) {
        const rs = runs[`${wl} ${s.id}`];
        med[s.id] = { qps: L.median(rs.map((x) => x.qps)), tps: L.median(rs.map((x) => x.tps)), p95ms: L.median(rs.map((x) => x.p95ms)), errors: rs.reduce((a, x) => a + x.errors, 0), spread: L.spread(rs.map((x) => x.qps)) };
        rows.push([s.id === 'a' ? wl : '', s.label, L.fmt(med[s.id].qps), L.fmt(med[s.id].tps), med[s.id].p95ms.toFixed(2) + ' ms', `±${(med[s.id].spread * 50).toFixed(0)} %`, String(med[s.id].errors)]);
      }
      const rat = (x, y) => [L.ratio(med[x].qps, med[y].qps), L.ratio(med[x].p95ms, med[y].p95ms)];
      for (const [x, y] of [['c', 'b'], ['c', 'a'], ['c', 'k'], ['b', 'a']]) {
        const [q, p] = rat(x, y);
        rows.push(['', `${x} / ${y}`, q, '', p, '', '']);
      }
      results[wl] = { ...med, ratios: { cb: med.c.qps / med.b.qps, ca: med.c.qps / med.a.qps, ck: med.c.qps / med.k.qps, p95cb: med.c.p95ms / med.b.p95ms, p95ca: med.c.p95ms / med.a.p95ms } };
    }
    const text = `${sysbenchVersion()} against one unmodified tidb-server (realstack: real PD, unistore store), ` +
      `${TABLES} tables x ${TABLE_SIZE} rows, ${THREADS} threads, ${SECONDS} s per run after a 3 s warm-up, median of ${ROUNDS} rounds ` +
      `(order rotated each round; the four set-ups are up at once, the idle ones cost a little CPU). Sidecars: Envoy --concurrency 2. ` +
      `Load average ${loadStart} at start, ${loadEnd} at the end.\n\n` +
      L.table(['workload', 'set-up', 'queries/s', 'transactions/s', 'p95 latency', 'qps spread', 'ignored errors'], rows) +
      (notes.length ? '\n\n' + notes.map((n) => `- ${n}`).join('\n') : '');
    L.report(`4. SQL through the real stack (sysbench), median of ${ROUNDS} rounds`, text);
    return { results, notes };
  } finally {
    for (const s of up) await s.stack.stop();
  }
}

if (require.main === module) {
  main().then(() => process.exit(0)).catch((e) => { console.error(e); process.exit(1); });
}
module.exports = { main };
