#!/usr/bin/env node
// Benchmark 1: the rewriter inside wasm (dist/tidb-mesh-core.wasm in Node's V8, the engine
// Envoy uses), requests and responses, side by side with two baselines measured in the same
// run and the same process: the physical floor (one memory.copy of the same bytes inside the
// same wasm module; a JS Buffer copy for context) and the straightforward implementation
// (protobufjs decode + encode of the same message).
// Then the full filter (dist/tidb-mesh.wasm) per call under the JS proxy-wasm host, against
// the no-op filter on the same SDK, and the SDK's per-stream cost as streams stay open.
'use strict';
const path = require('path');
const { buildWorkloads, frame, TXN_PREFIX, envoyMessages } = require('./workloads');
const L = require('./lib');

const ROUNDS = L.QUICK ? 3 : 9;
const TARGET_MS = L.QUICK ? 40 : 150;

// ---- correctness: the output must be the input with every key prefixed (requests) or
// stripped (responses), api_version = 2 and keyspace_id = 1 in every Context, nothing else changed.
const KEY_FIELDS = new Set(['key', 'keys', 'primary_lock', 'start', 'end', 'secondaries']);
function checkSame(inObj, outObj, request, where) {
  if (Buffer.isBuffer(inObj) || inObj instanceof Uint8Array) {
    if (!Buffer.from(inObj).equals(Buffer.from(outObj))) throw new Error(`${where}: bytes differ`);
    return;
  }
  if (Array.isArray(inObj)) {
    if (!Array.isArray(outObj) || outObj.length !== inObj.length) throw new Error(`${where}: array length differs`);
    inObj.forEach((v, i) => checkSame(v, outObj[i], request, `${where}[${i}]`));
    return;
  }
  if (inObj !== null && typeof inObj === 'object') {
    const keys = new Set([...Object.keys(inObj), ...Object.keys(outObj)]);
    for (const k of keys) {
      const a = inObj[k], b = outObj[k];
      if (k === 'context' && request) {
        const exp = { ...a, api_version: 2, keyspace_id: 1 };
        checkSame(exp, b, request, `${where}.context`);
      } else if (KEY_FIELDS.has(k)) {
        const conv = (x) => {
          const buf = Buffer.from(x);
          if (request) return Buffer.concat([TXN_PREFIX, buf]);
          if (!buf.subarray(0, 4).equals(TXN_PREFIX)) throw new Error(`${where}.${k}: response key lacks the prefix`);
          return buf.subarray(4);
        };
        const exp = Array.isArray(a) ? a.map(conv) : conv(a);
        checkSame(exp, b, request, `${where}.${k}`);
      } else {
        checkSame(a, b, request, `${where}.${k}`);
      }
    }
    return;
  }
  if (String(inObj) !== String(outObj)) throw new Error(`${where}: ${inObj} != ${outObj}`);
}
function verify(w, outFrame) {
  if (outFrame[0] !== 0 || outFrame.readUInt32BE(1) !== outFrame.length - 5) throw new Error(`${w.name}: bad output frame header`);
  const opts = { longs: String, enums: Number, bytes: Buffer, defaults: false, oneofs: false };
  const a = w.type.toObject(w.type.decode(w.msg), opts);
  const b = w.type.toObject(w.type.decode(outFrame.subarray(5)), opts);
  checkSame(a, b, w.request, w.name);
}

function rewriterTable(core) {
  const { ex } = core;
  core.configure(L.benchConfig());
  const rows = [];
  const results = {};
  const workloads = buildWorkloads();
  const cases = [];
  for (const w of workloads) {
    cases.push({ w, chunk: 0 });
    if (w.name === 'cop4m') cases.push({ w, chunk: 16 * 1024 });
  }
  for (const { w, chunk } of cases) {
    const fr = frame(w.msg);
    const p = core.put(fr);
    const outP = ex.alloc(fr.length + 64) >>> 0;
    const h = core.openCall(0, w.path, w.request);
    // Correctness first (whole frame, and in the chunked case through the carry).
    if (ex.push(h, p, fr.length, 0) !== 0) throw new Error(`${w.name}: push failed`);
    verify(w, core.output(h));
    const label = chunk ? `${w.name} (in ${chunk / 1024} KiB chunks)` : w.name;

    // Timed through the raw wasm exports: the AssemblyScript loader wraps every export in a JS
    // function that makes a second wasm call (setArgumentsLength) and spreads an argument array,
    // which would add tens of ns to every row (and most of the memcpy row of small frames).
    const push = ex.push.original || ex.push;
    const copyBench = ex.copyBench.original || ex.copyBench;
    const scanBench = ex.scanBench.original || ex.scanBench;
    const pushAll = chunk
      ? (n) => { for (let i = 0; i < n; i++) for (let o = 0; o < fr.length; o += chunk) push(h, p + o, Math.min(chunk, fr.length - o), 0); }
      : (n) => { for (let i = 0; i < n; i++) push(h, p, fr.length, 0); };
    const copyAll = (n) => { for (let i = 0; i < n; i++) copyBench(p, fr.length, outP); };
    // The parse floor: the same traversal of the whole frame with nothing written (scanBench).
    if (ex.scanBench(h, p, fr.length) !== 0) throw new Error(`${w.name}: the parse-only walk failed`);
    const scanAll = (n) => { for (let i = 0; i < n; i++) scanBench(h, p, fr.length); };
    const jsDst = Buffer.allocUnsafe(fr.length);
    const jsCopy = (n) => { for (let i = 0; i < n; i++) fr.copy(jsDst); };
    const pb = (n) => { for (let i = 0; i < n; i++) w.type.encode(w.type.decode(w.msg)).finish(); };
    const t = { filter: [], memcpy: [], scan: [], jscopy: [], pbjs: [] };
    for (let r = 0; r < ROUNDS; r++) {
      t.filter.push(L.timeIt(pushAll, TARGET_MS));
      t.memcpy.push(L.timeIt(copyAll, TARGET_MS / 3));
      t.scan.push(L.timeIt(scanAll, TARGET_MS / 3));
      t.jscopy.push(L.timeIt(jsCopy, TARGET_MS / 3));
      t.pbjs.push(L.timeIt(pb, TARGET_MS));
    }
    if (ex.pending(h) !== 0) throw new Error(`${w.name}: bytes left in the carry`);
    ex.closeCall(h);
    ex.release(p);
    ex.release(outP);
    const m = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, L.median(v)]));
    results[label] = { bytes: fr.length, ...m, spread: L.spread(t.filter) };
    rows.push([
      label, `${w.request ? 'req' : 'resp'}`, L.fmt(fr.length), L.fmtNs(m.filter), L.fmt(fr.length / m.filter * 1e3, 0),
      L.fmtNs(m.memcpy), L.fmtNs(m.scan), L.fmtNs(m.jscopy), L.fmtNs(m.pbjs),
      L.ratio(m.filter, m.memcpy), L.ratio(m.scan, m.memcpy), L.ratio(m.filter, m.scan), L.ratio(m.pbjs, m.filter),
      `±${(results[label].spread * 50).toFixed(0)} %`,
    ]);
  }
  const text = L.table(
    ['workload', 'dir', 'frame bytes', 'filter ns/msg', 'filter MB/s', 'wasm memcpy', 'parse only', 'JS Buffer copy', 'protobufjs dec+enc', 'filter / memcpy', 'parse / memcpy', 'filter / parse', 'protobufjs / filter', 'filter spread'],
    rows);
  return { text, results };
}

// ---- the full filter per call under the JS proxy-wasm host (same V8), vs the no-op filter.
async function hostTable() {
  const { ProxyWasmHost } = require('../test/host/proxy-wasm-host');
  const { tidbNode } = require('../test/harness/envoy');
  const node = tidbNode('cluster1');
  const nodeMetadata = { NAMESPACE: node.namespace, LABELS: node.labels, SERVICE_ACCOUNT: node.serviceAccount };
  const m = envoyMessages(128);
  const load = (file) => ProxyWasmHost.load(path.join(L.ROOT, 'dist', file), {
    rootId: 'tidb-mesh', config: L.benchConfig(), nodeMetadata, logLevel: 2, maxLogs: 1000,
  });
  const hosts = { noop: await load('tidb-mesh-noop.wasm'), filter: await load('tidb-mesh.wasm') };
  const getFrame = frame(m.getReq), getRespFrame = frame(m.getResp);
  const batchFrame = frame(m.batchReq), batchRespFrame = frame(m.batchResp);
  const reqHeaders = (p) => [[':method', 'POST'], [':path', p], [':scheme', 'http'], [':authority', 'tikv'], ['content-type', 'application/grpc'], ['te', 'trailers']];
  const respHeaders = [[':status', '200'], ['content-type', 'application/grpc']];

  const unary = (host) => (n) => {
    for (let i = 0; i < n; i++) {
      const s = host.newStream();
      s.requestHeaders(reqHeaders('/tikvpb.Tikv/KvGet'));
      const f = s.requestBody(getFrame, true);
      s.responseHeaders(respHeaders);
      s.responseBody(getRespFrame, false);
      s.responseTrailers([['grpc-status', '0']]);
      s.done();
      if (i === 0 && f.forwarded.length === 0) throw new Error('nothing forwarded');
    }
  };
  // One long BatchCommands stream: each iteration is one 128-Get request frame and its response frame.
  const streams = {};
  const batch = (host, key) => {
    const s = host.newStream();
    s.requestHeaders(reqHeaders('/tikvpb.Tikv/BatchCommands'));
    s.responseHeaders(respHeaders);
    streams[key] = s;
    return (n) => {
      for (let i = 0; i < n; i++) {
        const a = s.requestBody(batchFrame, false);
        const b = s.responseBody(batchRespFrame, false);
        if (i === 0 && key === 'filter' && (a.forwarded.length === batchFrame.length || !b.forwarded.equals(batchRespFrame))) {
          throw new Error(`unexpected forwarded sizes ${a.forwarded.length} ${b.forwarded.length}`);
        }
      }
    };
  };
  const fns = {
    unary: { noop: unary(hosts.noop), filter: unary(hosts.filter) },
    batch: { noop: batch(hosts.noop, 'noop'), filter: batch(hosts.filter, 'filter') },
  };
  // Check one unary call end to end through the filter before timing.
  {
    const s = hosts.filter.newStream();
    s.requestHeaders(reqHeaders('/tikvpb.Tikv/KvGet'));
    const f = s.requestBody(getFrame, true);
    const { types } = require('./workloads');
    const T = types();
    const got = T.GetRequest.decode(f.forwarded.subarray(5));
    if (!Buffer.from(got.key).subarray(0, 4).equals(TXN_PREFIX) || got.context.api_version !== 2 || got.context.keyspace_id !== 1) {
      throw new Error('the full filter did not rewrite KvGet as expected');
    }
    s.done();
  }
  const t = { unary: { noop: [], filter: [] }, batch: { noop: [], filter: [] } };
  for (let r = 0; r < ROUNDS; r++) {
    for (const k of ['unary', 'batch']) for (const v of ['noop', 'filter']) t[k][v].push(L.timeIt(fns[k][v], TARGET_MS));
  }
  for (const s of Object.values(streams)) s.done();
  const rows = [];
  const results = {};
  for (const [k, label] of [['unary', 'unary KvGet call (headers, 99 B request, 76 B response, trailers, done)'],
    ['batch', 'BatchCommands: one 128-Get request frame + one 128-response frame on an open stream']]) {
    const a = L.median(t[k].noop), b = L.median(t[k].filter);
    results[k] = { noop: a, filter: b };
    rows.push([label, L.fmtNs(a), L.fmtNs(b), L.fmtNs(b - a), L.ratio(b, a)]);
  }
  // The SDK logs `context_map.keys().join(", ")` at debug level three times per new stream
  // (ensureContext); Envoy drops the message by level only after the guest has built it.
  const sdk = [];
  for (const open of L.QUICK ? [0, 100] : [0, 100, 1000]) {
    const per = {};
    for (const v of ['noop', 'filter']) {
      const host = hosts[v];
      const held = [];
      for (let i = 0; i < open; i++) {
        const s = host.newStream();
        s.requestHeaders(reqHeaders('/tikvpb.Tikv/BatchCommands'));
        held.push(s);
      }
      const xs = [];
      for (let r = 0; r < ROUNDS; r++) xs.push(L.timeIt(unary(host), TARGET_MS / 2));
      per[v] = L.median(xs);
      for (const s of held) s.done();
    }
    sdk.push([String(open), L.fmtNs(per.noop), L.fmtNs(per.filter)]);
    results[`open${open}`] = per;
  }
  const text = L.table(['per call, JS proxy-wasm host', 'no-op filter (b)', 'tidb-mesh (c)', 'c − b', 'c / b'], rows) +
    '\n\nUnary KvGet call cost while other streams stay open (the SDK joins all context ids into a debug string per new stream):\n\n' +
    L.table(['streams open', 'no-op filter (b)', 'tidb-mesh (c)'], sdk);
  return { text, results };
}

async function main() {
  const core = L.loadCore();
  const r1 = rewriterTable(core);
  L.report('1a. Rewriter core in wasm (Node V8), per message, median of ' + ROUNDS + ' runs',
    `Workloads per shared/reference/perf-reliability.md §A5; tenant keyspace 1 (api-v2). "filter" = DirectionRewriter.push of one ` +
    `whole gRPC frame (frame decode + schema walk + rewrite + new frame header), output verified with protobufjs before timing. ` +
    `"wasm memcpy" = memory.copy of the same frame inside the same module (copyBench); "parse only" = the same walk over the ` +
    `same frame reading every tag and skipping every body, entering the same embedded messages, writing nothing (scanBench: ` +
    `the floor of any rewriter that must find every key field of a protobuf message); "protobufjs dec+enc" = decode + encode of ` +
    `the same message with protobufjs 7 in the same process. MB/s = input frame bytes / time.\n\n` + r1.text);
  const r2 = await hostTable();
  L.report('1b. Full filter per call in the JS proxy-wasm host (same V8), median of ' + ROUNDS + ' runs',
    'Each call goes through every ABI callback the way Envoy makes them; the host itself (JS) is part of both columns, so c − b is the cost of decorating.\n\n' + r2.text);
  return { rewriter: r1.results, host: r2.results };
}

if (require.main === module) {
  main().catch((e) => { console.error(e); process.exit(1); });
}
module.exports = { main };
