// Robustness in a real Envoy (issue 7 §3): the upstream resets mid-stream, trailers-only
// errors, a client cancels, and many short streams — with the filter's VM memory measured.
//
// The upstream is a small scripted HTTP/2 gRPC server below (not the TiKV test server): the
// request header x-mode tells it how to misbehave. Memory: Envoy exposes no per-VM Wasm memory
// stat, so the test records Envoy's server.memory_allocated/heap_size (whole process, for
// information only) and asserts on the VM's linear memory for the SAME call sequence replayed
// under the JS proxy-wasm host (host.memoryBytes()). ROBUSTNESS_STREAMS sets the number of
// short streams.
'use strict';

const fs = require('fs');
const path = require('path');
const http2 = require('http2');
const { startEnvoy, twoTenantConfig, tidbNode, DEFAULT_WASM } = require('../harness/envoy');
const { ProxyWasmHost } = require('../host/proxy-wasm-host');
const W = require('../core/wire');
const { frame } = require('../core/core');

jest.setTimeout(600000);
// npm test runs 20000 (about 40 s on 2 loaded cores); the issue's 10^5 run:
// ROBUSTNESS_STREAMS=100000 npx jest test/e2e/robustness
const STREAMS = Number(process.env.ROBUSTNESS_STREAMS || 20000);
const ks1 = W.keyspace({ id: 1 });
const ks2 = W.keyspace({ id: 2 });
const { E, node } = W;

const getReq = (k) => frame(W.encode(node('kvrpcpb.GetRequest', [E.msg(1, node('kvrpcpb.Context', [E.varint(1, 2)])), E.bytes(2, k), E.varint(3, 100)])));
const getResp = (v) => frame(W.encode(node('kvrpcpb.GetResponse', [E.bytes(3, v)])));
const foreignResp = () => frame(W.encode(node('kvrpcpb.GetResponse', [E.msg(2, node('kvrpcpb.KeyError', [E.msg(5, node('kvrpcpb.AlreadyExist', [E.bytes(1, Buffer.concat([ks2.txn, Buffer.from('SECRET')]))]))]))])));
const batchResp = (v) => frame(W.encode(node('tikvpb.BatchCommandsResponse', [E.msg(1, node('tikvpb.BatchCommandsResponse.Response', [E.msg(1, node('kvrpcpb.GetResponse', [E.bytes(3, v)]))])), E.bytes(2, W.varint(1))])));
const batchReq = (k) => frame(W.encode(node('tikvpb.BatchCommandsRequest', [E.msg(1, node('tikvpb.BatchCommandsRequest.Request', [E.msg(1, node('kvrpcpb.GetRequest', [E.bytes(2, k)]))])), E.bytes(2, W.varint(1))])));

/** A scripted gRPC upstream. Modes (request header x-mode): ok, trailers-only, reset-mid, reset-before, foreign, slow, stream. */
function startUpstream() {
  const server = http2.createServer();
  const stats = { requests: 0 };
  server.on('stream', (st, headers) => {
    stats.requests++;
    const mode = headers['x-mode'] || 'ok';
    const chunks = [];
    st.on('data', (c) => chunks.push(c));
    st.on('error', () => {});
    const respond = () => {
      if (st.destroyed || st.closed) return; // the client (through Envoy) cancelled
      try { respondMode(); } catch { /* stream went away meanwhile */ }
    };
    const respondMode = () => {
      switch (mode) {
        case 'trailers-only':
          st.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '14', 'grpc-message': 'upstream unavailable' }, { endStream: true });
          return;
        case 'reset-before':
          st.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
          return;
        case 'reset-mid': {
          st.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
          const f = getResp('partial value');
          st.write(f.subarray(0, 7));
          setTimeout(() => st.close(http2.constants.NGHTTP2_INTERNAL_ERROR), 5);
          return;
        }
        case 'foreign':
          st.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
          st.on('wantTrailers', () => st.sendTrailers({ 'grpc-status': '0' }));
          st.end(foreignResp());
          return;
        case 'slow':
          st.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
          setTimeout(() => { if (!st.destroyed) { st.on('wantTrailers', () => st.sendTrailers({ 'grpc-status': '0' })); st.end(getResp('late')); } }, 2000);
          return;
        default:
          st.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
          st.on('wantTrailers', () => st.sendTrailers({ 'grpc-status': '0' }));
          st.end(getResp('value'));
      }
    };
    if (mode === 'stream') {
      // BatchCommands: answer each request frame; reset after the third
      st.respond({ ':status': 200, 'content-type': 'application/grpc' });
      let n = 0;
      st.on('data', () => {
        n++;
        if (n === 3) { st.write(batchResp('v').subarray(0, 9)); setTimeout(() => st.close(http2.constants.NGHTTP2_INTERNAL_ERROR), 5); } else if (!st.destroyed) st.write(batchResp('v'));
      });
      return;
    }
    st.on('end', respond);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: server.address().port, stats })));
}

/** One gRPC call on an existing session; resolves to what the client saw. */
function callOn(session, { mode = 'ok', body = getReq('k'), cancelAfterMs = null, p = '/tikvpb.Tikv/KvGet' } = {}) {
  return new Promise((resolve) => {
    const req = session.request({ ':method': 'POST', ':path': p, 'content-type': 'application/grpc', te: 'trailers', 'x-mode': mode });
    let headers = {}, trailers = {};
    const data = [];
    req.on('response', (h) => { headers = h; });
    req.on('trailers', (t) => { trailers = t; });
    req.on('data', (c) => data.push(c));
    req.on('error', () => {});
    req.on('close', () => {
      const st = trailers['grpc-status'] !== undefined ? trailers['grpc-status'] : headers['grpc-status'];
      resolve({ status: st === undefined ? null : Number(st), message: decodeURIComponent(String(trailers['grpc-message'] || headers['grpc-message'] || '')), body: Buffer.concat(data), rst: req.rstCode || 0 });
    });
    if (cancelAfterMs !== null) {
      req.write(body.subarray(0, 8));
      setTimeout(() => req.close(http2.constants.NGHTTP2_CANCEL), cancelAfterMs);
    } else {
      req.end(body);
    }
  });
}

let upstream, envoy, session;
const wasmStat = (stats, re) => Object.entries(stats).filter(([k]) => re.test(k));

beforeAll(async () => {
  upstream = await startUpstream();
  envoy = await startEnvoy({ upstream: { port: upstream.port }, pluginConfig: twoTenantConfig(), node: tidbNode('cluster1') });
  session = http2.connect(`http://127.0.0.1:${envoy.port}`);
  session.on('error', () => {});
});
afterAll(async () => {
  if (session) session.close();
  if (envoy) await envoy.stop();
  if (upstream) await new Promise((r) => upstream.server.close(r));
});

test('trailers-only upstream error reaches the client unchanged', async () => {
  const r = await callOn(session, { mode: 'trailers-only' });
  expect(r.status).toBe(14);
  expect(r.message).toBe('upstream unavailable');
});

test('upstream reset before and in the middle of a response frame: the client gets an error, never part of a message', async () => {
  for (const mode of ['reset-before', 'reset-mid']) {
    const r = await callOn(session, { mode });
    expect(r.status).not.toBe(0); // an error status, or no status at all (a reset): never OK
    expect(r.body.length).toBe(0); // the partial frame was carried, never forwarded
  }
});

test('a response key of another keyspace: INTERNAL in the trailers, no byte of it reaches the client', async () => {
  const r = await callOn(session, { mode: 'foreign' });
  expect(r.status).toBe(13);
  expect(r.body.includes(Buffer.from('SECRET'))).toBe(false);
});

test('BatchCommands: upstream resets after a partial frame; the good frames before it arrive whole', async () => {
  const r = await new Promise((resolve) => {
    const req = session.request({ ':method': 'POST', ':path': '/tikvpb.Tikv/BatchCommands', 'content-type': 'application/grpc', te: 'trailers', 'x-mode': 'stream' });
    const data = [];
    req.on('data', (c) => data.push(c));
    req.on('error', () => {});
    req.on('close', () => resolve({ body: Buffer.concat(data), rst: req.rstCode }));
    req.write(batchReq('a'));
    setTimeout(() => req.write(batchReq('b')), 20);
    setTimeout(() => req.write(batchReq('c')), 40);
  });
  const { unframe } = require('../core/core');
  expect(() => unframe(r.body)).not.toThrow();
  expect(unframe(r.body).length).toBe(2);
});

test('client cancels mid-request and mid-response: no trap, the next calls work', async () => {
  const rs = await Promise.all([
    callOn(session, { cancelAfterMs: 10 }),
    callOn(session, { mode: 'slow', cancelAfterMs: null }).catch(() => null),
  ]);
  expect(rs[0].status === 0).toBe(false);
  const cancelSlow = await new Promise((resolve) => {
    const req = session.request({ ':method': 'POST', ':path': '/tikvpb.Tikv/KvGet', 'content-type': 'application/grpc', te: 'trailers', 'x-mode': 'slow' });
    req.on('error', () => {});
    req.on('close', () => resolve(req.rstCode));
    req.end(getReq('k'));
    setTimeout(() => req.close(http2.constants.NGHTTP2_CANCEL), 100);
  });
  expect(cancelSlow).toBe(http2.constants.NGHTTP2_CANCEL);
  const ok = await callOn(session, {});
  expect(ok.status).toBe(0);
});

test(`${STREAMS} short streams (mixed good and failing): no VM failure, memory flat`, async () => {
  const modes = ['ok', 'ok', 'ok', 'trailers-only', 'foreign', 'reset-mid', 'ok', 'ok'];
  const counts = {};
  const statsBefore = await envoy.stats();
  const t0 = Date.now();
  let next = 0;
  const CONC = 48;
  const sessions = Array.from({ length: 4 }, () => { const x = http2.connect(`http://127.0.0.1:${envoy.port}`); x.on('error', () => {}); return x; });
  const worker = async (w) => {
    while (next < STREAMS) {
      const i = next++;
      const mode = modes[i % modes.length];
      const r = await callOn(sessions[w % sessions.length], { mode, body: getReq(`row${i % 977}`) });
      const k = `${mode}:${r.status === null ? `rst${r.rst}` : r.status}`;
      counts[k] = (counts[k] || 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: CONC * sessions.length }, (_, w) => worker(w)));
  const secs = (Date.now() - t0) / 1000;
  sessions.forEach((x) => x.close());
  const statsAfter = await envoy.stats();
  const mem = (s) => ({ allocated: s['server.memory_allocated'], heap: s['server.memory_heap_size'] });
  const wasm = wasmStat(statsAfter, /^wasm\./);
  process.stdout.write(`robustness: ${STREAMS} streams in ${secs.toFixed(1)} s (${Math.round(STREAMS / secs)}/s); outcomes ${JSON.stringify(counts)}; ` +
    `envoy memory before ${JSON.stringify(mem(statsBefore))} after ${JSON.stringify(mem(statsAfter))}; wasm stats ${JSON.stringify(Object.fromEntries(wasm))}\n`);
  expect(counts['ok:0']).toBeGreaterThan(0);
  expect(Object.keys(counts).filter((k) => k.startsWith('ok:') && k !== 'ok:0')).toEqual([]);
  expect(counts['foreign:13']).toBe(Object.entries(counts).filter(([k]) => k.startsWith('foreign:')).reduce((a, [, v]) => a + v, 0));
  expect(envoy.exited()).toBeNull();
  // a VM crash would show in the logs and as wasm_fail_stream local replies
  expect(envoy.logs()).not.toMatch(/Function: proxy_on_\w+ failed|wasm_fail_stream|RuntimeError/);
  const ok = await callOn(session, {});
  expect(ok.status).toBe(0);

  // The VM's linear memory for the same sequence, under the JS proxy-wasm host.
  const host = ProxyWasmHost.loadSync(fs.readFileSync(DEFAULT_WASM), {
    rootId: 'tidb-mesh', config: JSON.stringify(twoTenantConfig()), nodeMetadata: { NAMESPACE: 'tidb', LABELS: { 'app.kubernetes.io/instance': 'cluster1' } }, logLevel: 'error',
  });
  const replay = (n) => {
    for (let i = 0; i < n; i++) {
      const mode = modes[i % modes.length];
      const s = host.newStream();
      s.requestHeaders({ ':method': 'POST', ':path': '/tikvpb.Tikv/KvGet', 'content-type': 'application/grpc', te: 'trailers' }, false);
      s.requestBody(getReq(`row${i % 977}`), true);
      if (mode === 'trailers-only') s.responseHeaders({ ':status': '200', 'content-type': 'application/grpc', 'grpc-status': '14' }, true);
      else {
        s.responseHeaders({ ':status': '200', 'content-type': 'application/grpc' }, false);
        if (mode === 'reset-mid') s.responseBody(getResp('partial value').subarray(0, 7), false);
        else { s.responseBody(mode === 'foreign' ? foreignResp() : getResp('value'), false); s.responseTrailers({ 'grpc-status': '0' }); }
      }
      s.done();
    }
  };
  replay(2000);
  const before = host.memoryBytes();
  replay(STREAMS);
  const after = host.memoryBytes();
  process.stdout.write(`robustness: JS-host replay of the same ${STREAMS} calls: VM memory ${before} -> ${after} bytes, traps ${host.traps}\n`);
  expect(host.traps).toBe(0);
  expect(after).toBe(before);
});
