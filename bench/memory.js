#!/usr/bin/env node
// Benchmark 3: the filter VM's memory stays flat. The full filter (dist/tidb-mesh.wasm) runs
// under the JS proxy-wasm host (the same callbacks Envoy makes): 10^5 unary KvGet streams
// (headers, request frame, response headers, response frame, trailers, done), and 10^6
// messages on long-lived BatchCommands streams (request frames of one Get and response
// frames, 64 frames per body chunk, both directions). Linear memory is what Envoy's V8 holds
// for the VM; it can only grow, so "flat" means it stops growing after warm-up.
'use strict';
const path = require('path');
const L = require('./lib');
const { envoyMessages, frame } = require('./workloads');

const STREAMS = L.QUICK ? 1e4 : 1e5;
const MESSAGES = L.QUICK ? 1e5 : 1e6;
const SAMPLES = 10;

async function main() {
  const { ProxyWasmHost } = require('../test/host/proxy-wasm-host');
  const { tidbNode } = require('../test/harness/envoy');
  const node = tidbNode('cluster1');
  const host = await ProxyWasmHost.load(path.join(L.ROOT, 'dist', 'tidb-mesh.wasm'), {
    rootId: 'tidb-mesh', config: L.benchConfig(),
    nodeMetadata: { NAMESPACE: node.namespace, LABELS: node.labels, SERVICE_ACCOUNT: node.serviceAccount },
    logLevel: 2, maxLogs: 100,
  });
  const mem = () => host._memory.buffer.byteLength;
  const m1 = envoyMessages(1);
  const getReq = frame(m1.getReq), getResp = frame(m1.getResp);
  const reqH = (p) => [[':method', 'POST'], [':path', p], [':scheme', 'http'], [':authority', 'tikv'], ['content-type', 'application/grpc'], ['te', 'trailers']];
  const respH = [[':status', '200'], ['content-type', 'application/grpc']];
  const rows = [];
  const start = mem();

  // Unary streams.
  const streamSamples = [];
  const t0 = Date.now();
  for (let i = 1; i <= STREAMS; i++) {
    const s = host.newStream();
    s.requestHeaders(reqH('/tikvpb.Tikv/KvGet'));
    const f = s.requestBody(getReq, true);
    s.responseHeaders(respH);
    const r = s.responseBody(getResp, false);
    s.responseTrailers([['grpc-status', '0']]);
    s.done();
    if (i === 1 && (f.forwarded.length <= getReq.length || !r.forwarded.equals(getResp))) {
      throw new Error(`unexpected forwarded sizes ${f.forwarded.length} ${r.forwarded.length}`);
    }
    if (i % (STREAMS / SAMPLES) === 0) streamSamples.push(mem());
  }
  const streamMs = Date.now() - t0;

  // Messages on BatchCommands streams: 64 one-Get frames per body chunk, both directions.
  const PER_CHUNK = 64;
  const reqChunk = Buffer.concat(Array(PER_CHUNK).fill(frame(m1.batchReq)));
  const respChunk = Buffer.concat(Array(PER_CHUNK).fill(frame(m1.batchResp)));
  const msgSamples = [];
  const t1 = Date.now();
  let s = null;
  const chunks = MESSAGES / PER_CHUNK;
  for (let i = 1; i <= chunks; i++) {
    // A new stream every 1000 chunks, like a TiDB reconnecting now and then.
    if (s === null) {
      s = host.newStream();
      s.requestHeaders(reqH('/tikvpb.Tikv/BatchCommands'));
      s.responseHeaders(respH);
    }
    const a = s.requestBody(reqChunk, false);
    const b = s.responseBody(respChunk, false);
    if (i === 1 && (a.forwarded.length <= reqChunk.length || !b.forwarded.equals(respChunk))) {
      throw new Error(`unexpected forwarded sizes ${a.forwarded.length} ${b.forwarded.length}`);
    }
    if (i % 1000 === 0) { s.requestBody(Buffer.alloc(0), true); s.responseTrailers([['grpc-status', '0']]); s.done(); s = null; }
    if (i % Math.floor(chunks / SAMPLES) === 0) msgSamples.push(mem());
  }
  if (s) s.done();
  const msgMs = Date.now() - t1;
  if (host.traps) throw new Error(`the VM trapped ${host.traps} times: ${host.trapLog.join('; ')}`);

  const kib = (b) => `${L.fmt(b / 1024)} KiB`;
  const grow = (xs) => xs[xs.length - 1] - xs[0];
  rows.push([`${L.fmt(STREAMS)} unary KvGet streams`, kib(start), streamSamples.map((x) => L.fmt(x / 1024)).join(' '), kib(grow(streamSamples)), `${L.fmt(streamMs)} ms`]);
  rows.push([`${L.fmt(MESSAGES)} BatchCommands messages each way (${L.fmt(chunks / 1000)} streams)`, kib(streamSamples[streamSamples.length - 1]),
    msgSamples.map((x) => L.fmt(x / 1024)).join(' '), kib(grow(msgSamples)), `${L.fmt(msgMs)} ms`]);
  const text = 'Linear memory of the filter VM (dist/tidb-mesh.wasm) under the JS proxy-wasm host, sampled at every tenth of the run (KiB).\n\n' +
    L.table(['run', 'memory before', 'memory at 10 %, 20 %, … 100 % (KiB)', 'growth 10 % → 100 %', 'time'], rows);
  L.report('3. Memory', text);
  return { start, streamSamples, msgSamples };
}

if (require.main === module) {
  main().catch((e) => { console.error(e); process.exit(1); });
}
module.exports = { main };
