'use strict';
// The compiled filter (dist/tidb-mesh.wasm) under the JS proxy-wasm host: the lock ledger lives
// in the host's shared data (filter/ledger-host.ts), so a lock shown on one stream makes a
// keyless KvResolveLock on another stream keyed; a keyless request of another tenant (inbound,
// by principal) goes out without effect; counters say which happened.
const fs = require('fs');
const path = require('path');
const { ProxyWasmHost } = require('../host/proxy-wasm-host');
const { frame, unframe, ROOT } = require('../core/core');
const { V, L, msg, fields } = require('../schema/pb');

const FILTER = path.join(ROOT, 'dist', 'tidb-mesh.wasm');
const PRINCIPAL = (n) => `spiffe://cluster.local/ns/tidb/sa/tidb-${n}`;
const CONFIG = JSON.stringify({
  version: 1, direction: 'inbound', mode: 'api-v2',
  tenants: [
    { name: 'cluster1', keyspaceId: 1, match: { principals: [PRINCIPAL('cluster1')] } },
    { name: 'cluster2', keyspaceId: 2, match: { principals: [PRINCIPAL('cluster2')] } },
  ],
});
const GRPC = (p) => ({ ':method': 'POST', ':path': p, ':authority': 'tikv:20160', 'content-type': 'application/grpc', te: 'trailers' });
const P1 = Buffer.from('78000001', 'hex');

let host;
beforeAll(() => {
  host = ProxyWasmHost.loadSync(fs.readFileSync(FILTER), { rootId: 'tidb-mesh', config: CONFIG, logLevel: 'warn' });
  expect(host.configured).toBe(true);
});
afterAll(() => expect({ traps: host.traps, log: host.trapLog }).toEqual({ traps: 0, log: host.trapLog }));

/** One unary call as tenant `who`: returns the request and response bytes forwarded. */
function unary(who, method, reqPayload, respPayload) {
  const s = host.newStream({ peerPrincipal: PRINCIPAL(who) });
  s.requestHeaders(GRPC(`/tikvpb.Tikv/${method}`), false);
  const req = Buffer.from(s.requestBody(frame(reqPayload), true).forwarded);
  let resp = null;
  if (respPayload) {
    s.responseHeaders({ ':status': '200', 'content-type': 'application/grpc' }, false);
    resp = Buffer.from(s.responseBody(frame(respPayload), false).forwarded);
    s.responseTrailers({ 'grpc-status': '0' });
  }
  s.done();
  return { req: unframe(req)[0], resp };
}
const counter = (name) => Object.entries(host.metrics()).filter(([k]) => k.endsWith(name)).reduce((a, [, v]) => a + v, 0);

test('a lock shown on one stream makes a keyless resolve on another stream keyed (shared data)', () => {
  const lock = msg(L(1, Buffer.concat([P1, Buffer.from('pk')])), V(2, 4200), L(3, Buffer.concat([P1, Buffer.from('row1')])), V(5, 3000));
  // A KvGet meets the lock: GetResponse.error(2).locked(1).
  const get = unary('cluster1', 'KvGet', msg(L(2, 'row1'), V(3, 4300)), msg(L(2, L(1, lock))));
  expect(fields(fields(fields(get.resp.subarray(5))[0][2])[0][2]).find(([n]) => n === 3)[2].toString()).toBe('row1');
  expect([...host._sharedData.keys()].some((k) => k.startsWith('tidb-mesh/locks/78000001/'))).toBe(true);

  const before = counter('keyless_rewritten');
  const r = unary('cluster1', 'KvResolveLock', msg(L(1, V(1, 3)), V(2, 4200)));
  expect(fields(r.req).filter(([n]) => n === 5).map(([, , v]) => v.toString('hex'))).toEqual([Buffer.concat([P1, Buffer.from('row1')]).toString('hex')]);
  expect(counter('keyless_rewritten')).toBe(before + 1);
});

test('another tenant resolving that start_ts: forwarded without effect, counted and logged', () => {
  const before = counter('keyless_no_effect');
  const r = unary('cluster2', 'KvResolveLock', msg(L(1, V(1, 3)), V(2, 4200), V(3, 4400)));
  expect(fields(r.req).map(([n]) => n)).toEqual([1]);
  expect(counter('keyless_no_effect')).toBe(before + 1);
  expect(host.logs().some((l) => /keyless lock request for tenant cluster2 .*without effect \[keyless_no_effect\]/.test(l.message))).toBe(true);
});
