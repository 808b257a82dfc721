'use strict';
// The compiled filter (dist/tidb-mesh.wasm) under the JS proxy-wasm host, for the calls an
// unmodified TiDB 8.5 makes to services shared by every tenant: PD meta storage, the resource
// manager, gRPC health checks, the global GC safe-point writes, and etcd keys without a leading
// "/". Checks what the caller sees (grpc-status and grpc-message) and that passed calls are
// forwarded byte for byte.
const fs = require('fs');
const path = require('path');
const { ProxyWasmHost, FilterHeadersStatus } = require('../host/proxy-wasm-host');
const { frame, ROOT } = require('../core/core');
const { V, L, msg } = require('../schema/pb');

const FILTER = path.join(ROOT, 'dist', 'tidb-mesh.wasm');
const CONFIG = JSON.stringify({
  version: 1, direction: 'outbound', mode: 'api-v2',
  tenants: [
    { name: 'cluster1', keyspaceId: 1, match: { namespace: 'tidb', labels: { 'app.kubernetes.io/instance': 'cluster1' } } },
    { name: 'cluster10', keyspaceId: 10, match: { namespace: 'tidb', labels: { 'app.kubernetes.io/instance': 'cluster10' } } },
  ],
});
const GRPC = (p) => ({ ':method': 'POST', ':path': p, ':authority': 'pd:2379', 'content-type': 'application/grpc', te: 'trailers' });
const RESP_HEADERS = { ':status': '200', 'content-type': 'application/grpc' };

let host;
beforeAll(() => {
  host = ProxyWasmHost.loadSync(fs.readFileSync(FILTER), { rootId: 'tidb-mesh', config: CONFIG, nodeMetadata: { NAMESPACE: 'tidb', LABELS: { 'app.kubernetes.io/instance': 'cluster1' } }, logLevel: 'warn' });
  expect(host.configured).toBe(true);
});
afterAll(() => expect({ traps: host.traps, log: host.trapLog }).toEqual({ traps: 0, log: host.trapLog }));

const refusal = (s) => {
  const lr = s.localReply;
  if (!lr) return null;
  const gm = lr.sent.headers.find(([k]) => k === 'grpc-message');
  return { status: lr.grpcStatus, message: gm ? decodeURIComponent(gm[1]) : '' };
};

/** A unary call: request frames in, response frames back. Returns what went each way. */
function unary(p, reqPayload, respPayload) {
  const s = host.newStream();
  const h = s.requestHeaders(GRPC(p), false);
  const out = { headers: h.action, refusal: refusal(s) };
  if (out.refusal) { s.done(); return out; }
  out.req = s.requestBody(frame(reqPayload), true).forwarded;
  out.refusal = refusal(s);
  if (!out.refusal && respPayload) {
    s.responseHeaders(RESP_HEADERS, false);
    out.resp = s.responseBody(frame(respPayload), false).forwarded;
    out.trailers = s.responseTrailers({ 'grpc-status': '0' }).trailers;
  }
  s.done();
  return out;
}

describe('PD meta storage', () => {
  test('Get "resource_group/controller" goes through untouched, and so does the answer', () => {
    const req = msg(L(1, V(1, 7)), L(2, 'resource_group/controller'));
    const resp = msg(L(1, V(1, 7), V(3, 12)), L(2, L(1, 'resource_group/controller'), L(5, '{}')), V(4, 1));
    const r = unary('/meta_storagepb.MetaStorage/Get', req, resp);
    expect(r.refusal).toBeNull();
    expect(Buffer.from(r.req).equals(frame(req))).toBe(true);
    expect(Buffer.from(r.resp).equals(frame(resp))).toBe(true);
    expect(r.trailers['grpc-status']).toBe('0');
  });

  test('Get of another tenant\'s etcd key: PERMISSION_DENIED naming what is readable, nothing forwarded', () => {
    const r = unary('/meta_storagepb.MetaStorage/Get', msg(L(2, '/keyspaces/tidb/10/tidb/ddl/x')));
    expect(r.req.length).toBe(0);
    expect(r.refusal.status).toBe(7);
    expect(r.refusal.message).toMatch(/^tidb-mesh: key outside the prefix this method may read \(PD meta storage: only keys under resource_group\/, read-only\)$/);
  });

  test('a response key outside "resource_group/": body dropped, INTERNAL in the trailers', () => {
    const r = unary('/meta_storagepb.MetaStorage/Get', msg(L(2, 'resource_group/'), L(3, 'resource_group0')), msg(L(2, L(1, '/keyspaces/tidb/10/SECRET'))));
    expect(Buffer.from(r.resp).includes(Buffer.from('SECRET'))).toBe(false);
    expect(r.trailers['grpc-status']).toBe('13');
  });

  test('Put and Delete are denied at the gate', () => {
    for (const m of ['Put', 'Delete']) {
      const r = unary(`/meta_storagepb.MetaStorage/${m}`, msg(L(2, 'resource_group/controller')));
      expect([m, r.refusal.status]).toEqual([m, 7]);
      expect(r.refusal.message).toMatch(/read-only for tenants/);
    }
  });
});

describe('resource manager', () => {
  test.each(['ListResourceGroups', 'GetResourceGroup'])('%s goes through untouched', (m) => {
    const req = m === 'GetResourceGroup' ? msg(L(1, 'default')) : msg(V(1, 1));
    const resp = msg(L(2, L(1, 'default'), V(2, 1)));
    const r = unary(`/resource_manager.ResourceManager/${m}`, req, resp);
    expect(r.refusal).toBeNull();
    expect(Buffer.from(r.req).equals(frame(req))).toBe(true);
    expect(Buffer.from(r.resp).equals(frame(resp))).toBe(true);
  });

  test.each(['AddResourceGroup', 'ModifyResourceGroup', 'DeleteResourceGroup'])('%s: PERMISSION_DENIED "create them on the platform"', (m) => {
    const r = unary(`/resource_manager.ResourceManager/${m}`, msg(L(1, L(1, 'rg1'))));
    expect(r.refusal).toEqual({ status: 7, message: 'tidb-mesh: resource groups are shared by every tenant; create them on the platform' });
  });
});

describe('gRPC health and GC', () => {
  test.each(['Check', 'Watch'])('Health/%s passes untouched', (m) => {
    const s = host.newStream();
    const h = s.requestHeaders(GRPC(`/grpc.health.v1.Health/${m}`), false);
    expect(h.action).toBe(FilterHeadersStatus.Continue);
    const body = frame(msg(L(1, '')));
    expect(Buffer.from(s.requestBody(body, true).forwarded).equals(body)).toBe(true);
    expect(refusal(s)).toBeNull();
    s.done();
  });

  test('UpdateServiceGCSafePoint("gc_worker") is registered as the tenant\'s own "tidb-mesh-1-gc_worker"; the answer never names another service', () => {
    const ttl = 9223372036854775807n;
    const own = unary('/pdpb.PD/UpdateServiceGCSafePoint', msg(L(1, V(1, 7)), L(2, 'gc_worker'), V(3, ttl), V(4, 1000)),
      msg(L(1, V(1, 7)), L(2, 'tidb-mesh-1-gc_worker'), V(3, ttl), V(4, 1000)));
    expect(own.refusal).toBeNull();
    expect(Buffer.from(own.req).equals(frame(msg(L(1, V(1, 7)), L(2, 'tidb-mesh-1-gc_worker'), V(3, ttl), V(4, 1000))))).toBe(true);
    expect(Buffer.from(own.resp).equals(frame(msg(L(1, V(1, 7)), L(2, 'gc_worker'), V(3, ttl), V(4, 1000))))).toBe(true);
    // The minimum is held by the platform ("gc_worker") or another tenant: its id is not shown.
    for (const other of ['gc_worker', 'tidb-mesh-10-gc_worker', 'br-backup']) {
      const r = unary('/pdpb.PD/UpdateServiceGCSafePoint', msg(L(2, 'gc_worker'), V(3, ttl), V(4, 1000)), msg(L(2, other), V(3, 5), V(4, 900)));
      expect(Buffer.from(r.resp).equals(frame(msg(L(2, ''), V(3, 5), V(4, 900))))).toBe(true);
    }
  });

  test('UpdateGCSafePoint never moves the global point: sent as a read, answered with the tenant\'s value when the global point is there', () => {
    const call = (asked, global) => unary('/pdpb.PD/UpdateGCSafePoint', msg(L(1, V(1, 7)), V(2, asked)), msg(L(1, V(1, 7)), V(2, global)));
    const ok = call(500, 800);
    expect(ok.refusal).toBeNull();
    expect(Buffer.from(ok.req).equals(frame(msg(L(1, V(1, 7)))))).toBe(true);
    expect(Buffer.from(ok.resp).equals(frame(msg(L(1, V(1, 7)), V(2, 500))))).toBe(true);
    // Past the global point: the real one (TiDB reports "PD rejected our safe point").
    expect(Buffer.from(call(900, 800).resp).equals(frame(msg(L(1, V(1, 7)), V(2, 800))))).toBe(true);
    // A read (0) gets the global point, as from PD.
    expect(Buffer.from(call(0, 800).resp).equals(frame(msg(L(1, V(1, 7)), V(2, 800))))).toBe(true);
  });
});

describe('etcd keys without a leading "/" (default etcdNamespace)', () => {
  test('"tidb/autoid/leader" is concatenated onto the namespace', () => {
    const r = unary('/etcdserverpb.KV/Put', msg(L(1, 'tidb/autoid/leader'), L(2, 'addr')));
    expect(r.refusal).toBeNull();
    expect(Buffer.from(r.req).equals(frame(msg(L(1, '/keyspaces/tidb/1tidb/autoid/leader'), L(2, 'addr'))))).toBe(true);
  });

  test('a key starting with a digit: INVALID_ARGUMENT with the reason', () => {
    const r = unary('/etcdserverpb.KV/Put', msg(L(1, '0/tidb/x'), L(2, 'v')));
    expect(r.req.length).toBe(0);
    expect(r.refusal).toEqual({ status: 3, message: 'tidb-mesh: etcd keys must not start with a digit (the namespace ends in the keyspace id)' });
  });

  test('a range over every key: INVALID_ARGUMENT saying why and what to use instead', () => {
    const r = unary('/etcdserverpb.KV/Range', msg(L(1, '\0'), L(2, '\0')));
    expect(r.refusal.status).toBe(3);
    expect(r.refusal.message).toMatch(/both sides of the digits.*use a prefix such as '\/' or 'tidb\/'/);
    const m = host.metrics();
    expect(Object.keys(m).some((k) => /frames_rejected\.etcd_range_span$/.test(k))).toBe(true);
  });
});
