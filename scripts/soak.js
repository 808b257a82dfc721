#!/usr/bin/env node
// Soak (not CI): mixed traffic through two real Envoys with the filter (tenants cluster1 and
// cluster2) in front of the TiKV test server, for a fixed time. Every 10 s it samples Envoy's
// stats and the client outcomes and prints one table row; at the end it checks that no VM
// failed and prints the filter's counters.
//
//   npm run soak                                   # 10 minutes
//   node scripts/soak.js --minutes 2 --interval 10 --concurrency 16
//
// Traffic per worker loop: transactional writes and reads (KvPrewrite/KvCommit/KvGet/KvScan),
// raw put/get, BatchCommands streams, and hostile calls (malformed, compressed, oversize,
// unknown and denied methods, cancelled calls). Memory: Envoy exposes no per-VM Wasm memory
// stat, so the table shows Envoy's whole-process server.memory_allocated and
// server.memory_heap_size (tcmalloc), which include V8; a leak in the filter would show there
// as steady growth once the early buffers have been allocated.
'use strict';
const http2 = require('http2');
const tikvServer = require('../test/servers/tikv-test-server');
const { startEnvoy, twoTenantConfig, tidbNode } = require('../test/harness/envoy');
const { tikvClient } = require('../test/harness/tikv-client');
const W = require('../test/core/wire');
const { frame } = require('../test/core/core');

const args = process.argv.slice(2);
const get = (k, d) => { const i = args.indexOf(`--${k}`); return i >= 0 ? Number(args[i + 1]) : d; };
const MINUTES = get('minutes', 10);
const INTERVAL = get('interval', 10);
const CONC = get('concurrency', 16);

const b = (s) => Buffer.from(s);
const v1ctx = () => ({ region_id: 2, region_epoch: { conf_ver: 1, version: 1 }, peer: { id: 3, store_id: 1 }, keyspace_id: 0xffffffff });
const { E, node } = W;

/** One raw HTTP/2 gRPC call with the given body; resolves to the grpc-status (or 'reset'). */
function raw(session, p, body, { cancelMs } = {}) {
  return new Promise((resolve) => {
    const req = session.request({ ':method': 'POST', ':path': p, 'content-type': 'application/grpc', te: 'trailers' });
    let status = null;
    req.on('response', (h) => { if (h['grpc-status'] !== undefined) status = h['grpc-status']; });
    req.on('trailers', (t) => { if (t['grpc-status'] !== undefined) status = t['grpc-status']; });
    req.on('data', () => {});
    req.on('error', () => {});
    req.on('close', () => resolve(status === null ? 'reset' : `grpc-${status}`));
    if (cancelMs !== undefined) { req.write(body.subarray(0, 3)); setTimeout(() => req.close(http2.constants.NGHTTP2_CANCEL), cancelMs); } else req.end(body);
  });
}

const HOSTILE = [
  ['malformed', '/tikvpb.Tikv/KvGet', () => frame(Buffer.from([0x12, 0x40, 0x61]))],
  ['group', '/tikvpb.Tikv/KvGet', () => frame(Buffer.from([0x0b, 0x0c]))],
  ['varint11', '/tikvpb.Tikv/KvGet', () => frame(Buffer.concat([Buffer.from([0x18]), Buffer.alloc(10, 0x80), Buffer.from([1])]))],
  ['compressed', '/tikvpb.Tikv/KvGet', () => frame(W.encode(node('kvrpcpb.GetRequest', [E.bytes(2, 'k')])), 1)],
  ['oversize', '/tikvpb.Tikv/KvGet', () => Buffer.from([0, 0x7f, 0xff, 0xff, 0xff])],
  ['unknown-method', '/tikvpb.Tikv/NoSuch', () => frame(Buffer.alloc(0))],
  ['denied-method', '/tikvpb.Tikv/KvGC', () => frame(Buffer.alloc(0))],
  ['resolve-all', '/tikvpb.Tikv/KvResolveLock', () => frame(W.encode(node('kvrpcpb.ResolveLockRequest', [E.varint(2, 5)])))],
];

async function main() {
  const server = await tikvServer.start();
  const config = twoTenantConfig();
  const envoys = await Promise.all(['cluster1', 'cluster2'].map((t) => startEnvoy({ upstream: { port: server.port }, pluginConfig: config, node: tidbNode(t) })));
  const clients = envoys.map((e) => tikvClient(e.port, { deadlineMs: 5000 }));
  const sessions = envoys.map((e) => { const s = http2.connect(`http://127.0.0.1:${e.port}`); s.on('error', () => {}); return s; });
  const outcomes = {};
  const note = (k) => { outcomes[k] = (outcomes[k] || 0) + 1; };
  let calls = 0, ts = 100;
  const deadline = Date.now() + MINUTES * 60000;
  let stopping = false;

  async function worker(w) {
    const t = w % 2;
    const c = clients[t];
    let i = 0;
    while (!stopping) {
      i++;
      const key = b(`t_soak_${w}_${i % 50}`);
      try {
        const start = (ts += 10);
        const pw = await c.KvPrewrite({ context: v1ctx(), mutations: [{ op: 0, key, value: b(`v${i}`) }], primary_lock: key, start_version: start, lock_ttl: 3000 });
        note(pw.errors.length || pw.region_error ? 'prewrite-error' : 'ok');
        await c.KvCommit({ context: v1ctx(), keys: [key], start_version: start, commit_version: start + 1 });
        await c.KvGet({ context: v1ctx(), key, version: 1e9 });
        await c.KvScan({ context: v1ctx(), start_key: b(`t_soak_${w}_`), limit: 10, version: 1e9 });
        await c.RawPut({ context: v1ctx(), key, value: b('raw') });
        await c.RawGet({ context: v1ctx(), key });
        if (i % 5 === 0) await c.batchCommands([{ requests: [{ Get: { context: v1ctx(), key, version: 1e9 } }], request_ids: [i] }]);
        calls += 7;
        note('ok');
      } catch (e) {
        note(`client-error-${e.code}`);
      }
      const [name, p, body] = HOSTILE[i % HOSTILE.length];
      note(`${name}:${await raw(sessions[t], p, body())}`);
      if (i % 10 === 0) note(`cancel:${await raw(sessions[t], '/tikvpb.Tikv/KvGet', frame(W.encode(node('kvrpcpb.GetRequest', [E.bytes(2, 'k')]))), { cancelMs: 5 })}`);
      calls += 1;
    }
  }

  const rows = [];
  const header = ['t(s)', 'calls', 'calls/s', 'client errors', 'rejected', 'denied', 'envoy alloc MB', 'envoy heap MB', 'wasm fail'];
  console.log(header.map((h) => h.padStart(15)).join(''));
  const t0 = Date.now();
  let lastCalls = 0;
  const sample = async () => {
    const st = await envoys[0].stats();
    const st2 = await envoys[1].stats();
    const sum = (re) => [st, st2].reduce((a, s) => a + Object.entries(s).filter(([k]) => re.test(k)).reduce((x, [, v]) => x + v, 0), 0);
    const clientErrors = Object.entries(outcomes).filter(([k]) => k.startsWith('client-error')).reduce((a, [, v]) => a + v, 0);
    const logs = envoys.map((e) => e.logs()).join('\n');
    const row = [
      Math.round((Date.now() - t0) / 1000), calls, Math.round((calls - lastCalls) / INTERVAL), clientErrors,
      sum(/\.frames_rejected\./), sum(/\.calls_denied\./),
      (st['server.memory_allocated'] / 1048576).toFixed(1), (st['server.memory_heap_size'] / 1048576).toFixed(1),
      (logs.match(/wasm_fail_stream|proxy_on_\w+ failed|RuntimeError/g) || []).length,
    ];
    lastCalls = calls;
    rows.push(row);
    console.log(row.map((v) => String(v).padStart(15)).join(''));
  };
  const timer = setInterval(() => { sample().catch((e) => console.error('sample failed:', e.message)); }, INTERVAL * 1000);
  const workers = Array.from({ length: CONC }, (_, w) => worker(w));
  await new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now())));
  stopping = true;
  await Promise.all(workers);
  clearInterval(timer);
  await sample();

  const st = await envoys[0].stats();
  console.log('\noutcomes:', JSON.stringify(outcomes));
  console.log('filter counters (cluster1 Envoy):', JSON.stringify(Object.fromEntries(Object.entries(st).filter(([k]) => k.includes('tidb_mesh.')))));
  const first = rows[0], last = rows[rows.length - 1];
  console.log(`memory (cluster1 Envoy, whole process): allocated ${first[6]} -> ${last[6]} MB, heap ${first[7]} -> ${last[7]} MB`);
  const failed = envoys.some((e) => e.exited()) || last[8] > 0;
  console.log(failed ? 'FAIL: an Envoy exited or a Wasm VM failed' : 'no Envoy exit, no Wasm VM failure');
  sessions.forEach((s) => s.close());
  clients.forEach((c) => c.close());
  await Promise.all(envoys.map((e) => e.stop()));
  await server.stop();
  process.exitCode = failed ? 1 : 0;
}

main().catch((e) => { console.error(e); process.exit(1); });
