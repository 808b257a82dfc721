'use strict';
// The schema-driven oracle through the compiled filter (dist/tidb-mesh.wasm) under the JS
// proxy-wasm host: every method on the allowlist that is rewritten or passed, and every
// BatchCommands command, from the pinned schema set (or the first set that has it), with every
// field set, as a whole call: headers, request body in chunks, response headers, body,
// trailers. Rewritten requests and responses are checked by oracle.js; passed calls must be
// forwarded byte for byte; a foreign key in a response must not reach the client (the call
// ends with an error status, or the element is dropped). Two chunkings per message.
const fs = require('fs');
const path = require('path');
const { ProxyWasmHost } = require('../host/proxy-wasm-host');
const { frame, unframe, ROOT } = require('../core/core');
const { chunkings, prng } = require('../core/chunking');
const W = require('../core/wire');
const { allCases, generateFor } = require('./cases');
const { Oracle } = require('./oracle');
const { foreignize } = require('./generate');
const { FIELDS } = require('../../schema/fields');
const { C } = require('./tables');

const FILTER = path.join(ROOT, 'dist', 'tidb-mesh.wasm');
const CONFIG = JSON.stringify({
  version: 1, direction: 'outbound', mode: 'api-v2',
  tenants: [
    { name: 'cluster1', keyspaceId: 1, match: { namespace: 'tidb', labels: { 'app.kubernetes.io/instance': 'cluster1' } } },
    { name: 'cluster2', keyspaceId: 2, match: { namespace: 'tidb', labels: { 'app.kubernetes.io/instance': 'cluster2' } } },
  ],
});
const ks = W.keyspace({ id: 1 });
const GRPC = (p) => ({ ':method': 'POST', ':path': p, ':authority': 'upstream', 'content-type': 'application/grpc', te: 'trailers' });
const RESP_HEADERS = { ':status': '200', 'content-type': 'application/grpc' };

let host;
beforeAll(() => {
  host = ProxyWasmHost.loadSync(fs.readFileSync(FILTER), { rootId: 'tidb-mesh', config: CONFIG, nodeMetadata: { NAMESPACE: 'tidb', LABELS: { 'app.kubernetes.io/instance': 'cluster1' } }, logLevel: 'error' });
  expect(host.configured).toBe(true);
});
afterAll(() => expect({ traps: host.traps, log: host.trapLog }).toEqual({ traps: 0, log: host.trapLog }));

/**
 * One call: request chunks up, response chunks back. Returns what went each way and how the
 * call ended: { req, resp, status (grpc-status the client sees, null if none yet), localReply }.
 */
function call(p, reqChunks, respChunks) {
  const s = host.newStream();
  s.requestHeaders(GRPC(p), false);
  const up = [];
  reqChunks.forEach((c, i) => up.push(s.requestBody(c, i === reqChunks.length - 1).forwarded));
  const down = [];
  let trailers = null;
  if (!s.localReply) {
    s.responseHeaders(RESP_HEADERS, false);
    for (const c of respChunks) down.push(s.responseBody(c, false).forwarded);
    if (!s.localReply) trailers = s.responseTrailers({ 'grpc-status': '0' }).trailers;
  }
  const lr = s.localReply;
  s.done();
  const status = lr ? lr.grpcStatus : trailers ? Number(trailers['grpc-status']) : null;
  return { req: Buffer.concat(up), resp: Buffer.concat(down), status, localReply: lr };
}

/** The filter's responses_filtered counter for cluster1. */
const filtered = () => host.metrics()['tidb_mesh.tenant.cluster1.responses_filtered'] || 0;

const cases = allCases();
const seedOf = (c) => [...c.name].reduce((a, ch) => (a * 31 + ch.charCodeAt(0)) >>> 0, 0);
const refusedMember = (c) => c.tag && FIELDS[`tikvpb.BatchCommandsRequest.Request.${c.member}`] && FIELDS[`tikvpb.BatchCommandsRequest.Request.${c.member}`].cls === 'refuse';
const two = (buf) => { const cs = chunkings([buf], { sizes: [], randomRuns: 1 }); return [cs[0], cs.find((x) => x.name.startsWith('random'))]; };

describe('every allowlisted method through the compiled filter, every field set', () => {
  test.each(cases.filter((c) => !refusedMember(c)).map((c) => [c.name, c]))('%s', (_, c) => {
    const oracle = new Oracle({ fields: FIELDS, ks });
    const req = generateFor(c, 'request', { fields: FIELDS, rnd: prng(seedOf(c)), ks });
    const resp = c.resp ? generateFor(c, 'response', { fields: FIELDS, rnd: prng(seedOf(c) + 1), ks }) : null;
    const reqBytes = frame(W.encode(req.node));
    const respBytes = resp ? frame(W.encode(resp.node)) : frame(Buffer.alloc(0));
    const rq = two(reqBytes), rs = two(respBytes);
    for (let i = 0; i < 2; i++) {
      const r = call(c.path, rq[i].chunks, rs[i].chunks);
      const where = `${c.name} (${rq[i].name}/${rs[i].name})`;
      expect({ where, status: r.status, lr: r.localReply && r.localReply.body && Buffer.from(r.localReply.body).toString() }).toEqual({ where, status: 0, lr: null });
      if (c.policy === C.POLICY_PASS) {
        expect(r.req.equals(reqBytes)).toBe(true);
        expect(r.resp.equals(respBytes)).toBe(true);
        continue;
      }
      oracle.check(req.type, req.node, unframe(r.req)[0], 'request', c.tag ? 'txn' : c.kind);
      if (resp) oracle.check(resp.type, resp.node, unframe(r.resp)[0], 'response', c.tag ? 'txn' : c.kind);
    }
    if (c.policy !== C.POLICY_REWRITE || !resp) return;
    // A foreign key in one slot of the response (two slots per method).
    const pick = prng(seedOf(c) + 2);
    const n = resp.gen.slots.length;
    for (let j = 0; j < Math.min(n, 2); j++) {
      const g = generateFor(c, 'response', { fields: FIELDS, rnd: prng(seedOf(c) + 1), ks });
      const slot = g.gen.slots[Math.floor(pick() * n)];
      const f = foreignize(slot, ks, pick);
      if (f.skip) continue;
      const before = filtered();
      const r = call(c.path, [reqBytes], [frame(W.encode(g.node))]);
      const where = `${c.name}: foreign ${slot.c.cls} in ${slot.t.fullName.slice(1)}.${slot.f.name}`;
      for (const needle of f.needles) expect([where, r.resp.includes(needle)]).toEqual([where, false]);
      // Either the call fails with INTERNAL (13, "outside the tenant keyspace"), or the element
      // holding the foreign key was dropped (the filter's responses_filtered counter moved).
      if (r.status !== 0) expect([where, r.status]).toEqual([where, 13]);
      else if (f.dropOrFail) expect([where, filtered() > before]).toEqual([where, true]);
    }
  });

  test.each(cases.filter(refusedMember).map((c) => [c.name, c]))('%s is refused with PERMISSION_DENIED', (_, c) => {
    const req = generateFor(c, 'request', { fields: FIELDS, rnd: prng(seedOf(c)), ks });
    const r = call(c.path, [frame(W.encode(req.node))], []);
    expect(r.req.length).toBe(0);
    expect(r.status).toBe(7);
  });

  test('a request carrying a refused field (RawBatchPut pairs[].error) is refused, nothing forwarded', () => {
    const c = cases.find((x) => x.path === '/tikvpb.Tikv/RawBatchPut');
    const req = generateFor(c, 'request', { fields: FIELDS, rnd: prng(5), ks, refused: true });
    expect(req.gen.refusedSlots).toContain('kvrpcpb.KvPair.error');
    const r = call(c.path, [frame(W.encode(req.node))], []);
    expect(r.req.length).toBe(0);
    expect(r.status).toBe(7);
  });
});
