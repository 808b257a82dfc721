#!/usr/bin/env node
// Benchmark 2: through a real Envoy at fixed concurrency for a fixed time, unary KvGet and
// BatchCommands streams (one 128-Get request frame and its 128-response frame per stream),
// in four set-ups measured in the same run, rounds interleaved:
//   (a) Envoy without wasm, (b) Envoy + a no-op wasm filter on the same SDK (dist/tidb-mesh-noop.wasm),
//   (c) Envoy + tidb-mesh (dist/tidb-mesh.wasm), (d) Envoy + a filter that only copies every body
//   chunk through the VM (dist/tidb-mesh-copybody.wasm, assembly/copybody.ts).
// Load: h2load (Debian nghttp2-client), installed here with apt-get if missing. h2load only
// counts HTTP statuses, so correctness is checked three ways: the test upstream (bench/upstream,
// not TiKV) compares every request body byte for byte with the bytes it must receive (the
// original for a/b/d, the rewritten frame for c) and counts mismatches; h2load's received DATA
// bytes must equal requests x the expected response frame; and one call per set-up is
// checked end to end (grpc-status 0, response frame) with a node:http2 client first.
'use strict';
const { execFileSync, spawn, spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const http = require('http');
const L = require('./lib');
const { envoyMessages, frame, types, TXN_PREFIX } = require('./workloads');

const DURATION = Number(process.env.BENCH_ENVOY_SECONDS || (L.QUICK ? 3 : 10));
const WARMUP = L.QUICK ? 1 : 2;
const ROUNDS = Number(process.env.BENCH_ENVOY_ROUNDS || (L.QUICK ? 1 : 3));
const CONNECTIONS = 4;
const STREAMS_PER_CONN = 4; // 16 requests in flight
const notes = [];

function sh(cmd, args) { return spawnSync(cmd, args, { encoding: 'utf8' }); }

function ensureH2load() {
  if (sh('sh', ['-c', 'command -v h2load']).status === 0) return 'h2load';
  if (process.getuid && process.getuid() !== 0) throw new Error('h2load is missing; install Debian nghttp2-client (apt-get install -y nghttp2-client)');
  console.error('bench: h2load missing -> running apt-get install -y nghttp2-client');
  execFileSync('apt-get', ['install', '-y', 'nghttp2-client'], { stdio: ['ignore', 'inherit', 'inherit'] });
  notes.push('installed h2load with `apt-get install -y nghttp2-client`');
  return 'h2load';
}

function ensureUpstream() {
  const bin = path.join(L.ROOT, '.tools', 'bench-upstream');
  const src = path.join(__dirname, 'upstream', 'main.go');
  if (fs.existsSync(bin) && fs.statSync(bin).mtimeMs >= fs.statSync(src).mtimeMs) return bin;
  console.error('bench: building the test upstream: go build -o .tools/bench-upstream bench/upstream/main.go');
  fs.mkdirSync(path.dirname(bin), { recursive: true });
  execFileSync('go', ['build', '-o', bin, 'main.go'], { cwd: path.dirname(src), stdio: ['ignore', 'inherit', 'inherit'] });
  notes.push('built the test upstream with `go build` (standard library only)');
  return bin;
}

function startUpstream(bin, routes) {
  const args = [];
  for (const r of routes) args.push('-route', `${r.path}=${r.accept.join(',')}:${r.response}`);
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env } });
  return new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('test upstream did not start')); }, 10000);
    child.stdout.on('data', (c) => {
      out += c;
      const m = /listening (\d+)/.exec(out);
      if (m) { clearTimeout(t); resolve({ child, port: Number(m[1]) }); }
    });
    child.once('exit', (code) => { clearTimeout(t); reject(new Error(`test upstream exited ${code}`)); });
  });
}

function upstreamStats(port) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/stats' }, (res) => {
      let b = '';
      res.on('data', (c) => { b += c; });
      res.on('end', () => resolve(JSON.parse(b)));
    }).on('error', reject);
  });
}

/** Rewrites one request frame with the core (same code as the filter) and checks it with protobufjs. */
function rewrittenFrame(core, methodPath, msg, type, check) {
  const fr = frame(msg);
  const p = core.put(fr);
  const h = core.openCall(0, methodPath, true);
  if (core.ex.push(h, p, fr.length, 1) !== 0) throw new Error(`core could not rewrite ${methodPath}`);
  const out = core.output(h);
  core.ex.closeCall(h);
  core.ex.release(p);
  check(type.decode(out.subarray(5)));
  return out;
}

function parseH2load(text) {
  const num = (re) => { const m = re.exec(text); return m ? Number(m[1]) : NaN; };
  return {
    rps: num(/finished in [\d.]+m?s, ([\d.]+) req\/s/),
    done: num(/requests: \d+ total, \d+ started, (\d+) done/),
    succeeded: num(/requests: .* (\d+) succeeded/),
    failed: num(/(\d+) failed/),
    errored: num(/(\d+) errored/),
    dataBytes: num(/traffic: .*?, [\d.]+[KMG]?B \((\d+)\) data/),
  };
}

function latencies(logFile) {
  const xs = [];
  for (const line of fs.readFileSync(logFile, 'utf8').split('\n')) {
    const f = line.split('\t');
    if (f.length >= 3) xs.push(Number(f[2]));
  }
  xs.sort((a, b) => a - b);
  const q = (p) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))];
  return { n: xs.length, p50: q(0.5), p99: q(0.99) };
}

async function runLoad(h2load, port, wl, dir, tag) {
  const logFile = path.join(dir, `${tag}.log`);
  const args = ['-c', String(CONNECTIONS), '-m', String(STREAMS_PER_CONN), '-t', '1', '-D', String(DURATION),
    `--warm-up-time=${WARMUP}`, '-d', wl.file, '-H', 'content-type: application/grpc', '-H', 'te: trailers',
    `--log-file=${logFile}`, `http://127.0.0.1:${port}${wl.path}`];
  const r = await new Promise((resolve) => {
    const child = spawn(h2load, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => { out += c; });
    child.stderr.on('data', (c) => { out += c; });
    const t = setTimeout(() => child.kill('SIGKILL'), (DURATION + WARMUP + 30) * 1000);
    child.once('exit', (code) => { clearTimeout(t); resolve({ code, out }); });
  });
  const s = parseH2load(r.out);
  const lat = latencies(logFile);
  fs.rmSync(logFile, { force: true });
  if (!(s.done > 0)) throw new Error(`h2load produced no requests (${tag}):\n${r.out}`);
  const expectedData = s.done * wl.responseBytes;
  // DATA bytes are counted for every finished request including the warm-up ones in some
  // versions: accept an exact multiple of the response frame size and no missing bytes.
  const dataOk = s.dataBytes % wl.responseBytes === 0 && s.dataBytes >= expectedData;
  return { ...s, ...lat, dataOk, raw: r.out };
}

async function checkOneCall(port, wl) {
  const { rawGrpcCall } = require('../test/harness/grpc-raw');
  const r = await rawGrpcCall(port, wl.path, [fs.readFileSync(wl.file)], { timeoutMs: 5000 });
  if (String(r.status) !== '0') throw new Error(`${wl.path} through port ${port}: grpc-status ${r.status} ${r.message}`);
  if (!r.body.equals(wl.responseFrame)) throw new Error(`${wl.path} through port ${port}: unexpected response body`);
}

async function main() {
  const { startEnvoy, tidbNode, NOOP_WASM, DEFAULT_WASM, ROOT } = require('../test/harness/envoy');
  // (d): reads and writes back every body chunk through the VM, nothing else (assembly/copybody.ts).
  const COPYBODY_WASM = path.join(ROOT, 'dist', 'tidb-mesh-copybody.wasm');
  for (const f of [NOOP_WASM, DEFAULT_WASM, COPYBODY_WASM]) if (!fs.existsSync(f)) throw new Error(`${f} missing: npm run build`);
  const h2load = ensureH2load();
  const upstreamBin = ensureUpstream();
  const h2v = (sh(h2load, ['--version']).stdout || '').trim().split('\n')[0];
  const envoyV = (sh(require('../test/harness/envoy').envoyBinary(), ['--version']).stdout || '').trim().split('\n').pop().replace(/^.*version: /, '');

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tidb-mesh-bench-'));
  const core = L.loadCore();
  core.configure(L.benchConfig());
  const T = types();
  const m = envoyMessages(128);
  const write = (name, buf) => { const f = path.join(dir, name); fs.writeFileSync(f, buf); return f; };
  const ctxOk = (c) => c && c.api_version === 2 && c.keyspace_id === 1;
  const keyOk = (k) => Buffer.from(k).subarray(0, 4).equals(TXN_PREFIX);
  const getRw = rewrittenFrame(core, '/tikvpb.Tikv/KvGet', m.getReq, T.GetRequest, (g) => {
    if (!ctxOk(g.context) || !keyOk(g.key)) throw new Error('KvGet rewrite check failed');
  });
  const batchRw = rewrittenFrame(core, '/tikvpb.Tikv/BatchCommands', m.batchReq, T.BatchCommandsRequest, (b) => {
    if (b.requests.length !== 128 || !b.requests.every((r) => ctxOk(r.Get.context) && keyOk(r.Get.key))) throw new Error('BatchCommands rewrite check failed');
  });
  const workloads = [
    { name: 'unary KvGet', path: '/tikvpb.Tikv/KvGet', file: write('get.bin', frame(m.getReq)), rewritten: write('get.rw.bin', getRw),
      responseFrame: frame(m.getResp) },
    { name: 'BatchCommands stream, 128 Gets', path: '/tikvpb.Tikv/BatchCommands', file: write('batch.bin', frame(m.batchReq)),
      rewritten: write('batch.rw.bin', batchRw), responseFrame: frame(m.batchResp) },
  ];
  for (const w of workloads) { w.responseBytes = w.responseFrame.length; w.response = write(`${path.basename(w.file, '.bin')}.resp.bin`, w.responseFrame); }

  const up = await startUpstream(upstreamBin, workloads.map((w) => ({ path: w.path, accept: [w.file, w.rewritten], response: w.response })));
  const envoys = {};
  const results = {};
  try {
    const node = tidbNode('cluster1');
    const common = { upstream: { port: up.port }, pluginConfig: L.benchConfig(), node, concurrency: 1, componentLogLevel: 'wasm:warning' };
    envoys.a = await startEnvoy({ ...common, wasm: null });
    envoys.b = await startEnvoy({ ...common, wasm: NOOP_WASM });
    envoys.c = await startEnvoy({ ...common, wasm: DEFAULT_WASM });
    envoys.d = await startEnvoy({ ...common, wasm: COPYBODY_WASM });
    for (const k of ['a', 'b', 'c', 'd']) for (const w of workloads) await checkOneCall(envoys[k].port, w);
    const before = await upstreamStats(up.port);

    const configs = ['a', 'b', 'd', 'c'];
    for (const w of workloads) {
      results[w.name] = { a: [], b: [], c: [], d: [] };
      for (let r = 0; r < ROUNDS; r++) {
        // Rotate the order every round so drift on a shared machine does not favour one set-up.
        const order = configs.slice(r % configs.length).concat(configs.slice(0, r % configs.length));
        for (const k of order) {
          const s0 = await upstreamStats(up.port);
          const res = await runLoad(h2load, envoys[k].port, w, dir, `${k}-${r}`);
          const s1 = await upstreamStats(up.port);
          const idx = k === 'c' ? 1 : 0;
          const got = s1[w.path].ok[idx] - s0[w.path].ok[idx];
          const wrong = s1[w.path].ok[1 - idx] - s0[w.path].ok[1 - idx] + s1[w.path].bad - s0[w.path].bad;
          res.upstreamOk = got;
          res.upstreamWrong = wrong;
          if (wrong !== 0 || !res.dataOk || res.failed > 0 || res.errored > 0) {
            throw new Error(`${w.name} via (${k}): correctness check failed: upstream wrong=${wrong}, dataOk=${res.dataOk}, ` +
              `failed=${res.failed}, errored=${res.errored}\n${res.raw}`);
          }
          results[w.name][k].push(res);
          process.stderr.write(`  ${w.name} (${k}) round ${r + 1}: ${L.fmt(res.rps)} req/s p50 ${res.p50} µs p99 ${res.p99} µs\n`);
        }
      }
    }
    void before;
    const stats = await envoys.c.stats();
    results.filterStats = Object.fromEntries(Object.entries(stats).filter(([k]) => k.includes('tidb_mesh.cluster1')));
  } finally {
    for (const e of Object.values(envoys)) await e.stop().catch(() => {});
    up.child.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  }

  const rows = [];
  const summary = {};
  for (const w of workloads) {
    const med = {};
    for (const k of ['a', 'b', 'd', 'c']) {
      const xs = results[w.name][k];
      med[k] = { p50: L.median(xs.map((x) => x.p50)), p99: L.median(xs.map((x) => x.p99)), rps: L.median(xs.map((x) => x.rps)),
        n: xs.reduce((s, x) => s + x.upstreamOk, 0) };
    }
    summary[w.name] = med;
    const lbl = { a: '(a) Envoy, no wasm', b: '(b) Envoy + no-op wasm', d: '(d) Envoy + body-copy wasm', c: '(c) Envoy + tidb-mesh' };
    for (const k of ['a', 'b', 'd', 'c']) {
      rows.push([k === 'a' ? w.name : '', lbl[k], `${L.fmt(med[k].p50)} µs`, `${L.fmt(med[k].p99)} µs`, L.fmt(med[k].rps), L.fmt(med[k].n)]);
    }
    rows.push(['', 'c / b', L.ratio(med.c.p50, med.b.p50), L.ratio(med.c.p99, med.b.p99), L.ratio(med.c.rps, med.b.rps), '']);
    rows.push(['', 'c / a', L.ratio(med.c.p50, med.a.p50), L.ratio(med.c.p99, med.a.p99), L.ratio(med.c.rps, med.a.rps), '']);
    rows.push(['', 'c / d', L.ratio(med.c.p50, med.d.p50), L.ratio(med.c.p99, med.d.p99), L.ratio(med.c.rps, med.d.rps), '']);
    rows.push(['', 'd / b', L.ratio(med.d.p50, med.b.p50), L.ratio(med.d.p99, med.b.p99), L.ratio(med.d.rps, med.b.rps), '']);
  }
  const text = `Envoy ${envoyV}, --concurrency 1; ${h2v}; ${CONNECTIONS} connections x ${STREAMS_PER_CONN} streams (${CONNECTIONS * STREAMS_PER_CONN} in flight), ` +
    `${DURATION} s per run after ${WARMUP} s warm-up, median of ${ROUNDS} rounds (order rotated each round). Load generator, Envoy and the ` +
    `test upstream share the machine. Every request the upstream received was byte-identical to the expected frame (the rewritten one for c), ` +
    `every run received exactly one expected response frame per request, no failed or errored requests. (d) reads every body ` +
    `chunk into the VM and writes it back unchanged (assembly/copybody.ts): d / b is what moving the bytes across the ` +
    `proxy-wasm ABI costs any body-rewriting filter, c / d what tidb-mesh adds to that.` +
    (notes.length ? ` Set-up: ${notes.join('; ')}.` : '') + '\n\n' +
    L.table(['workload', 'set-up', 'p50', 'p99', 'req/s', 'requests checked at upstream'], rows);
  L.report(`2. Through Envoy (h2load), median of ${ROUNDS} rounds`, text);
  return summary;
}

if (require.main === module) {
  main().then(() => process.exit(0)).catch((e) => { console.error(e); process.exit(1); });
}
module.exports = { main };
