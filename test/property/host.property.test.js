'use strict';
// Property tests of the compiled filter (dist/tidb-mesh.wasm) under the JS proxy-wasm host:
// valid and mutated calls for every covered method, random body chunkings, both directions.
// Invariants: no trap; a valid call forwards exactly the oracle's bytes; a bad call ends with
// a documented gRPC status and forwards nothing after the error; a failed unary response
// carries the status in its trailers; memory does not grow. Seeded (FC_SEED), seed printed
// on failure.
const fs = require('fs');
const path = require('path');
const fc = require('fast-check');
const { ProxyWasmHost } = require('../host/proxy-wasm-host');
const { frame, unframe, ROOT, DEFAULT_TENANTS, S } = require('../core/core');
const W = require('../core/wire');
const K = require('../core/kvproto');
const { prng } = require('../core/chunking');
const { caseArb, mutationArb, mutatedStream, splitBy, kindOf, TIKV } = require('./cases');

const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : (Date.now() % 0x7fffffff);
const SCALE = Number(process.env.PROPERTY_SCALE || 1);
const RUNS = Math.round(3000 * SCALE);

const FILTER = path.join(ROOT, 'dist', 'tidb-mesh.wasm');
// One host per tenant (outbound: the workload's tenant comes from node metadata).
const CONFIG = JSON.stringify({
  version: 1, direction: 'outbound', mode: 'api-v2',
  tenants: DEFAULT_TENANTS.map((t) => ({ name: t.name, keyspaceId: t.keyspaceId, match: { namespace: 'tidb', labels: { tenant: t.name } } })),
});
const GRPC = (p) => ({ ':method': 'POST', ':path': p, ':authority': 'tikv', 'content-type': 'application/grpc', te: 'trailers' });
const REQUEST_CODES = new Set([3, 7, 8, 12]);
const RESPONSE_CODES = new Set([8, 12, 13]);
const STREAMING = new Set(['BatchCommands', 'CoprocessorStream', 'BatchCoprocessor']);

let hosts;
const kss = DEFAULT_TENANTS.map((t) => W.keyspace({ id: t.keyspaceId }));
const stats = { valid: 0, mutation: 0, failures: {} };
beforeAll(() => {
  const bytes = fs.readFileSync(FILTER);
  hosts = DEFAULT_TENANTS.map((t) => ProxyWasmHost.loadSync(bytes, {
    rootId: 'tidb-mesh', config: CONFIG, nodeMetadata: { NAMESPACE: 'tidb', LABELS: { tenant: t.name } }, logLevel: 'error',
  }));
  for (const h of hosts) expect(h.configured).toBe(true);
});
afterAll(() => {
  process.stdout.write(`host property: seed ${SEED}, ${stats.valid} valid + ${stats.mutation} mutation calls, traps ${hosts.map((h) => h.traps)}, ` +
    `memory ${hosts.map((h) => h.memoryBytes())}, failures ${JSON.stringify(stats.failures)}\n`);
});

function assertWithSeed(prop, numRuns) {
  try { fc.assert(prop, { seed: SEED, numRuns, endOnFailure: true }); } catch (e) {
    e.message = `FC_SEED=${SEED} (rerun with FC_SEED=${SEED})\n${e.message}`;
    throw e;
  }
}

/**
 * One call through the filter: the request stream in `reqChunks`, then (if the request went
 * through) the response stream in `respChunks`. Returns what the upstream and the client saw.
 */
function call(host, method, reqChunks, respChunks) {
  const s = host.newStream();
  const fwdReq = [], fwdResp = [];
  s.requestHeaders(GRPC(TIKV + method), false);
  let afterError = 0;
  reqChunks.forEach((c, i) => {
    const r = s.requestBody(c, i === reqChunks.length - 1);
    if (s.localReply && r.forwarded.length) afterError += r.forwarded.length;
    fwdReq.push(r.forwarded);
  });
  let trailers = null, added = null;
  if (!s.localReply) {
    s.responseHeaders({ ':status': '200', 'content-type': 'application/grpc' }, false);
    let failedAt = -1;
    respChunks.forEach((c) => {
      const r = s.responseBody(c, false);
      fwdResp.push(r.forwarded);
      if (failedAt >= 0 && r.forwarded.length) afterError += r.forwarded.length;
      if (failedAt < 0 && s.localReply) failedAt = fwdResp.length;
    });
    const t = s.responseTrailers({ 'grpc-status': '0' });
    trailers = t.trailers;
    added = t.addedTrailers || null;
  }
  const lr = s.localReply;
  s.done();
  return { req: Buffer.concat(fwdReq), resp: Buffer.concat(fwdResp), localReply: lr, trailers, added, afterError };
}

test(`valid calls forward exactly the oracle's bytes (${RUNS} cases)`, () => {
  assertWithSeed(fc.property(caseArb, (c) => {
    const host = hosts[c.tenant];
    const ks = kss[c.tenant];
    const kind = kindOf(c.method);
    const [rq, rs] = K.METHODS[c.method];
    const rnd = prng(c.seed);
    const req = W.generate(rq, rnd, { dir: 'req', ks, kind, maxDepth: 4, long: c.long });
    const resp = W.generate(rs, rnd, { dir: 'resp', ks, kind, maxDepth: 4 });
    const eq = W.expected(req, ks, kind, true), er = W.expected(resp, ks, kind, false);
    const reqBytes = frame(W.encode(req)), respBytes = frame(W.encode(resp));
    const r = call(host, c.method, splitBy(reqBytes, c.splits), splitBy(respBytes, c.splits.slice().reverse()));
    if (host.traps) throw new Error('trap');
    if (r.afterError) throw new Error('bytes forwarded after an error');
    if (eq.status !== S.OK) {
      if (!r.localReply || !REQUEST_CODES.has(r.localReply.grpcStatus)) throw new Error(`request status ${eq.status}: no documented local reply`);
      if (r.req.length) throw new Error('request bytes forwarded although refused');
      stats.failures[`req ${r.localReply.grpcStatus}`] = (stats.failures[`req ${r.localReply.grpcStatus}`] || 0) + 1;
    } else {
      if (!r.req.equals(frame(eq.bytes))) throw new Error('forwarded request differs from the oracle');
      if (er.status === S.OK) {
        if (!r.resp.equals(frame(er.bytes))) throw new Error('forwarded response differs from the oracle');
        if (r.trailers['grpc-status'] !== '0') throw new Error('good response lost its status');
      } else {
        if (r.resp.length) throw new Error('a refused response body reached the client');
        const code = STREAMING.has(c.method) ? (r.localReply && r.localReply.grpcStatus) : Number(r.trailers['grpc-status']);
        if (!RESPONSE_CODES.has(code)) throw new Error(`response status ${er.status}: client saw ${code}`);
        stats.failures[`resp ${code}`] = (stats.failures[`resp ${code}`] || 0) + 1;
      }
    }
    stats.valid++;
  }), RUNS);
});

test(`mutated calls end with a documented status and nothing after it (${RUNS} cases)`, () => {
  const before = hosts.map((h) => h.memoryBytes());
  assertWithSeed(fc.property(mutationArb, (c) => {
    const host = hosts[c.tenant];
    const ks = kss[c.tenant];
    const kind = kindOf(c.method);
    const env = { kss };
    const { stream } = mutatedStream(env, c);
    const [rq, rs] = K.METHODS[c.method];
    const other = frame(W.encode(W.generate(c.isReq ? rs : rq, prng(c.seed + 1), { dir: c.isReq ? 'resp' : 'req', ks, kind, maxDepth: 3 })));
    const r = c.isReq ? call(host, c.method, splitBy(stream, c.splits), [other]) : call(host, c.method, [other], splitBy(stream, c.splits));
    if (host.traps) throw new Error('trap');
    if (r.afterError) throw new Error('bytes forwarded after an error');
    let code = 0;
    if (r.localReply) code = r.localReply.grpcStatus;
    else if (r.trailers && r.trailers['grpc-status'] !== '0') code = Number(r.trailers['grpc-status']);
    // (the unmutated other direction may fail on its own: generated responses include ranges
    // that end at P, which are out of the keyspace)
    if (code && !REQUEST_CODES.has(code) && !RESPONSE_CODES.has(code)) throw new Error(`undocumented status ${code}`);
    // never half a message: what reached either side is whole gRPC frames
    unframe(r.req);
    unframe(r.resp);
    stats.failures[`mut ${code}`] = (stats.failures[`mut ${code}`] || 0) + 1;
    stats.mutation++;
  }), RUNS);
  for (const h of hosts) expect(h.traps).toBe(0);
  // Buffers grow to the largest message once; the sequence of bad calls must not add more.
  hosts.forEach((h, i) => expect(h.memoryBytes()).toBeLessThanOrEqual(Math.max(before[i], 4 << 20)));
});
