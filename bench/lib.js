// Shared helpers for the benchmark scripts: machine description, medians, tables, the
// test-only core module, and the result file every script appends its table to.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..');
const QUICK = process.env.BENCH_QUICK === '1';
const RESULTS = path.join(ROOT, 'bench', 'results');

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return NaN;
  return n % 2 ? s[(n - 1) >> 1] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/** Relative spread of repeated runs: (max - min) / median. */
function spread(xs) {
  return (Math.max(...xs) - Math.min(...xs)) / median(xs);
}

function gitCommit() {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'assembly'], { cwd: ROOT, encoding: 'utf8' }).trim();
    return dirty ? `${sha} (+ uncommitted changes under assembly/)` : sha;
  } catch { return 'unknown'; }
}

function machine() {
  const cpus = os.cpus();
  const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  return `${cpus.length} x ${cpus[0] ? cpus[0].model.trim() : 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ` +
    `${os.type()} ${os.release()}, Node ${process.version} (V8 ${process.versions.v8}); load avg at start ${load}`;
}

/** Markdown table from a header row and rows of cells. */
function table(header, rows) {
  const all = [header, ...rows].map((r) => r.map((c) => String(c)));
  const w = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r) => '| ' + r.map((c, i) => c.padEnd(w[i])).join(' | ') + ' |';
  return [line(all[0]), '|' + w.map((x) => '-'.repeat(x + 2)).join('|') + '|', ...all.slice(1).map(line)].join('\n');
}

function fmt(x, digits = 0) {
  if (!Number.isFinite(x)) return 'n/a';
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
function fmtNs(ns) {
  if (!Number.isFinite(ns)) return 'n/a';
  if (ns >= 1e6) return `${fmt(ns / 1e6, 2)} ms`;
  if (ns >= 1e4) return `${fmt(ns / 1e3, 1)} µs`;
  if (ns >= 1e3) return `${fmt(ns / 1e3, 2)} µs`;
  return `${fmt(ns, 0)} ns`;
}
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a');

/** Appends a titled section to bench/results/latest.md (run.js truncates it first) and prints it. */
function report(title, text) {
  const block = `\n### ${title}\n\n${text}\n`;
  process.stdout.write(block);
  fs.mkdirSync(RESULTS, { recursive: true });
  fs.appendFileSync(path.join(RESULTS, 'latest.md'), block);
}

/** Instantiates dist/tidb-mesh-core.wasm with the AssemblyScript 0.14 loader. */
function loadCore() {
  const loader = require('assemblyscript/lib/loader');
  const file = process.env.TIDB_MESH_CORE_WASM || path.join(ROOT, 'dist', 'tidb-mesh-core.wasm');
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run npm run build first`);
  // The lock ledger's store lives outside the VM (Envoy shared data; testing/ledger-store.ts).
  const { ledgerImports } = require('../test/core/core');
  let mod = null;
  mod = loader.instantiateSync(fs.readFileSync(file), {
    env: {
      abort(msg, file_, line, col) { throw new Error(`core abort at ${line}:${col}`); },
      ...ledgerImports(() => mod.exports.memory, new Map()),
    },
  });
  const ex = mod.exports;
  if (typeof ex.copyBench !== 'function') throw new Error('dist/tidb-mesh-core.wasm has no copyBench export: rebuild');
  const str = (s) => ex.__retain(ex.__allocString(s));
  const configure = (cfg) => {
    const p = str(JSON.stringify(cfg));
    const e = ex.__getString(ex.configure(p));
    ex.__release(p);
    if (e) throw new Error(`core configure: ${e}`);
  };
  const openCall = (tenant, methodPath, request) => {
    const p = str(methodPath);
    const h = ex.openCall(tenant, p, request ? 1 : 0);
    ex.__release(p);
    if (h <= 0) throw new Error(`openCall(${methodPath}) = ${h}`);
    return h;
  };
  /** Copies bytes into unmanaged wasm memory; returns the pointer. */
  const put = (buf) => {
    const p = ex.alloc(buf.length) >>> 0;
    new Uint8Array(ex.memory.buffer, p, buf.length).set(buf);
    return p;
  };
  const output = (h) => Buffer.from(new Uint8Array(ex.memory.buffer, ex.outputPtr(h) >>> 0, ex.outputLen(h) >>> 0));
  return { ex, configure, openCall, put, output };
}

/** The benchmark tenant configuration: the test harness's two tenants (this workload is cluster1 = keyspace 1). */
function benchConfig(extra = {}) {
  return require('../test/harness/envoy').twoTenantConfig(extra);
}

/**
 * Runs fn(iterations) until it has taken about `targetMs`, and returns ns per iteration.
 * The first call calibrates the iteration count.
 */
function timeIt(fn, targetMs) {
  let n = 1;
  for (;;) {
    const t0 = process.hrtime.bigint();
    fn(n);
    const dt = Number(process.hrtime.bigint() - t0);
    if (dt >= targetMs * 1e6 * 0.5 || n >= 1e8) {
      // One more run at the calibrated size gives the measurement.
      const m = Math.max(1, Math.round(n * (targetMs * 1e6) / Math.max(dt, 1)));
      const t1 = process.hrtime.bigint();
      fn(m);
      return Number(process.hrtime.bigint() - t1) / m;
    }
    n *= dt < targetMs * 1e4 ? 16 : 2;
  }
}

module.exports = {
  ROOT, QUICK, RESULTS, median, spread, machine, gitCommit, table, fmt, fmtNs, ratio, report, loadCore, benchConfig, timeIt,
};
