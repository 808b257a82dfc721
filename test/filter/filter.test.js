'use strict';
// The compiled filter (dist/tidb-mesh.wasm) under the JS proxy-wasm host: the header gate,
// header edits, body chunks rewritten through the chunking matrix, and how failures reach
// the caller (unary responses: grpc-status in the trailers; streams: a local reply). No
// callback may trap.
const fs = require('fs');
const path = require('path');
const { ProxyWasmHost, FilterHeadersStatus, FilterDataStatus } = require('../host/proxy-wasm-host');
const { frame, unframe, ROOT } = require('../core/core');
const { chunkings } = require('../core/chunking');
const W = require('../core/wire');
const { E, node } = W;

const FILTER = path.join(ROOT, 'dist', 'tidb-mesh.wasm');
const CONFIG = JSON.stringify({
  version: 1, direction: 'outbound', mode: 'api-v2', maxMessageBytes: 4096,
  tenants: [
    { name: 'cluster1', keyspaceId: 1, match: { namespace: 'tidb', labels: { 'app.kubernetes.io/instance': 'cluster1' } } },
    { name: 'cluster2', keyspaceId: 2, match: { namespace: 'tidb', labels: { 'app.kubernetes.io/instance': 'cluster2' } } },
  ],
});
const META = (inst) => ({ NAMESPACE: 'tidb', LABELS: { 'app.kubernetes.io/instance': inst } });
const ks1 = W.keyspace({ id: 1 });
const ks2 = W.keyspace({ id: 2 });
const GRPC = (p, extra = {}) => ({ ':method': 'POST', ':path': p, ':authority': 'tikv:20160', 'content-type': 'application/grpc', te: 'trailers', ...extra });
const RESP_HEADERS = { ':status': '200', 'content-type': 'application/grpc' };

const hosts = [];
function load(inst = 'cluster1', config = CONFIG) {
  const h = ProxyWasmHost.loadSync(fs.readFileSync(FILTER), { rootId: 'tidb-mesh', config, nodeMetadata: META(inst), logLevel: 'warn' });
  hosts.push(h);
  return h;
}
let host;
beforeAll(() => { host = load(); expect(host.configured).toBe(true); });
afterAll(() => { for (const h of hosts) expect({ traps: h.traps, log: h.trapLog }).toEqual({ traps: 0, log: h.trapLog }); });

const ctx = () => E.msg(1, node('kvrpcpb.Context', [E.varint(1, 4)]));
const getReq = (k) => node('kvrpcpb.GetRequest', [ctx(), E.bytes(2, k), E.varint(3, 100)]);
const grpcStatusOf = (s) => {
  const lr = s.localReply;
  if (!lr) return null;
  // gRPC callers get grpc-message; a non-gRPC caller gets the text as the body.
  const gm = lr.sent.headers.find(([k]) => k === 'grpc-message');
  return { status: lr.grpcStatus, message: gm ? decodeURIComponent(gm[1]) : Buffer.from(lr.body).toString() };
};

describe('header gate', () => {
  test.each([
    ['unknown method', '/tikvpb.Tikv/NoSuch', {}, 12, /not on the allowlist/],
    ['denied method', '/tikvpb.Tikv/KvGC', {}, 7, /GC/],
    ['non-gRPC content type', '/tikvpb.Tikv/KvGet', { 'content-type': 'application/json' }, 3, /only gRPC/],
    ['missing content type', '/tikvpb.Tikv/KvGet', { 'content-type': undefined }, 3, /only gRPC/],
  ])('%s -> local reply with grpc-status', (_, p, extra, code, msg) => {
    const s = host.newStream();
    const hdrs = GRPC(p, extra);
    for (const k of Object.keys(hdrs)) if (hdrs[k] === undefined) delete hdrs[k];
    const h = s.requestHeaders(hdrs, false);
    expect(h.action).not.toBe(FilterHeadersStatus.Continue);
    expect(grpcStatusOf(s).status).toBe(code);
    expect(grpcStatusOf(s).message).toMatch(msg);
    // later body chunks are not forwarded
    expect(s.requestBody(frame(W.encode(getReq('k'))), true).forwarded.length).toBe(0);
    s.done();
  });

  test('a workload that matches no tenant is denied every call', () => {
    const h = load('somebody-else');
    const s = h.newStream();
    s.requestHeaders(GRPC('/tikvpb.Tikv/KvGet'), false);
    expect(grpcStatusOf(s).status).toBe(7);
    s.done();
    expect(Object.keys(h.metrics()).some((k) => /calls_denied\.unknown_tenant$/.test(k))).toBe(true);
  });

  test('prefix mode: the coprocessor methods are refused at the gate (UNIMPLEMENTED)', () => {
    const prefixConfig = JSON.stringify({ version: 1, direction: 'outbound', mode: 'prefix', tenants: [
      { name: 'cluster1', prefix: '7400', match: { namespace: 'tidb', labels: { 'app.kubernetes.io/instance': 'cluster1' } } }] });
    const h = load('cluster1', prefixConfig);
    for (const m of ['Coprocessor', 'CoprocessorStream', 'BatchCoprocessor']) {
      const s = h.newStream();
      s.requestHeaders(GRPC(`/tikvpb.Tikv/${m}`), false);
      expect([m, grpcStatusOf(s).status]).toEqual([m, 12]);
      expect(grpcStatusOf(s).message).toMatch(/needs mode api-v2/);
      s.done();
    }
    expect(Object.keys(h.metrics()).some((k) => /calls_denied\.unsupported_in_prefix_mode$/.test(k))).toBe(true);
  });

  test('content-length and grpc-accept-encoding are removed from rewritten calls', () => {
    const s = host.newStream();
    const h = s.requestHeaders(GRPC('/tikvpb.Tikv/KvGet', { 'content-length': '20', 'grpc-accept-encoding': 'gzip,deflate', 'grpc-encoding': 'identity' }), false);
    expect(h.action).toBe(FilterHeadersStatus.Continue);
    expect(h.headers['content-length']).toBeUndefined();
    expect(h.headers['grpc-accept-encoding']).toBeUndefined();
    s.requestBody(frame(W.encode(getReq('k'))), true);
    const rh = s.responseHeaders({ ...RESP_HEADERS, 'content-length': '7' }, false);
    expect(rh.headers['content-length']).toBeUndefined();
    s.done();
  });
});

describe('bodies', () => {
  /** Runs one unary KvGet through a fresh stream with the given request/response chunkings. */
  function unary(reqChunks, respChunks, trailers = { 'grpc-status': '0' }) {
    const s = host.newStream();
    s.requestHeaders(GRPC('/tikvpb.Tikv/KvGet'), false);
    const fwdReq = [];
    reqChunks.forEach((c, i) => fwdReq.push(s.requestBody(c, i === reqChunks.length - 1).forwarded));
    s.responseHeaders(RESP_HEADERS, false);
    const fwdResp = [];
    respChunks.forEach((c) => fwdResp.push(s.responseBody(c, false).forwarded));
    const t = trailers ? s.responseTrailers(trailers) : null;
    const lr = grpcStatusOf(s);
    s.done();
    return { req: Buffer.concat(fwdReq), resp: Buffer.concat(fwdResp), trailers: t && t.trailers, localReply: lr };
  }

  test('request and response chunks are rewritten; every chunking forwards the same bytes', () => {
    const reqs = [getReq('row1'), getReq(Buffer.alloc(130, 0x61))];
    const reqBytes = reqs.map((r) => frame(W.encode(r)));
    const expReq = Buffer.concat(reqs.map((r) => frame(W.expected(r, ks1, 'txn', true).bytes)));
    const resp = node('kvrpcpb.GetResponse', [E.msg(2, node('kvrpcpb.KeyError', [E.msg(1, node('kvrpcpb.LockInfo', [E.bytes(1, Buffer.concat([ks1.txn, Buffer.from('pk')])), E.bytes(3, Buffer.concat([ks1.txn, Buffer.from('k')]))]))])), E.bytes(3, 'value')]);
    const respBytes = [frame(W.encode(resp))];
    const expResp = frame(W.expected(resp, ks1, 'txn', false).bytes);
    const reqCs = chunkings(reqBytes, { maxByteByByte: 400 });
    const respCs = chunkings(respBytes, { maxByteByByte: 400 });
    for (let i = 0; i < Math.max(reqCs.length, respCs.length); i++) {
      const rq = reqCs[i % reqCs.length], rs = respCs[i % respCs.length];
      const r = unary(rq.chunks, rs.chunks);
      expect([rq.name, r.req.toString('hex')]).toEqual([rq.name, expReq.toString('hex')]);
      expect([rs.name, r.resp.toString('hex')]).toEqual([rs.name, expResp.toString('hex')]);
      expect(r.trailers['grpc-status']).toBe('0');
      expect(r.localReply).toBeNull();
    }
    const m = host.metrics();
    expect(m['tidb_mesh.tenant.cluster1.keys_rewritten']).toBeGreaterThan(0);
  });

  test('a response key outside the keyspace: body dropped, trailers carry grpc-status 13', () => {
    const bad = node('kvrpcpb.GetResponse', [E.msg(2, node('kvrpcpb.KeyError', [E.msg(5, node('kvrpcpb.AlreadyExist', [E.bytes(1, Buffer.concat([ks2.txn, Buffer.from('SECRET')]))]))]))]);
    for (const c of chunkings([frame(W.encode(bad))], { maxByteByByte: 100 })) {
      const r = unary([frame(W.encode(getReq('k')))], c.chunks);
      expect([c.name, r.resp.includes(Buffer.from('SECRET'))]).toEqual([c.name, false]);
      expect(r.resp.length).toBe(0);
      expect(r.trailers['grpc-status']).toBe('13');
      expect(decodeURIComponent(r.trailers['grpc-message'])).toMatch(/outside the tenant keyspace/);
    }
  });

  test('a failing unary response that ends with its last body chunk gets trailers added', () => {
    const s = host.newStream();
    s.requestHeaders(GRPC('/tikvpb.Tikv/KvGet'), false);
    s.requestBody(frame(W.encode(getReq('k'))), true);
    s.responseHeaders(RESP_HEADERS, false);
    const r = s.responseBody(Buffer.from([0, 0, 0, 0, 3, 0x12, 0x09, 0x00]), true); // truncated field
    expect(r.forwarded.length).toBe(0);
    expect(r.addedTrailers['grpc-status']).toBe('13');
    s.done();
  });

  test('a failing BatchCommands response (streaming) ends the stream with a local reply', () => {
    const s = host.newStream();
    s.requestHeaders(GRPC('/tikvpb.Tikv/BatchCommands'), false);
    const req = node('tikvpb.BatchCommandsRequest', [E.msg(1, node('tikvpb.BatchCommandsRequest.Request', [E.msg(1, getReq('k'))])), E.bytes(2, W.varint(1))]);
    expect(s.requestBody(frame(W.encode(req)), false).forwarded.length).toBeGreaterThan(0);
    s.responseHeaders(RESP_HEADERS, false);
    const good = node('tikvpb.BatchCommandsResponse', [E.msg(1, node('tikvpb.BatchCommandsResponse.Response', [E.msg(1, node('kvrpcpb.GetResponse', [E.bytes(3, 'v')]))]))]);
    expect(s.responseBody(frame(W.encode(good)), false).forwarded.length).toBeGreaterThan(0);
    const bad = node('tikvpb.BatchCommandsResponse', [E.msg(1, node('tikvpb.BatchCommandsResponse.Response', [E.msg(2, node('kvrpcpb.ScanResponse', [E.msg(2, node('kvrpcpb.KvPair', [E.bytes(2, Buffer.concat([ks2.txn, Buffer.from('SECRET')]))]))]))]))]);
    const r = s.responseBody(frame(W.encode(bad)), false);
    expect(r.forwarded.includes(Buffer.from('SECRET'))).toBe(false);
    expect(grpcStatusOf(s).status).toBe(13);
    // nothing more goes either way
    expect(s.responseBody(frame(W.encode(good)), false).forwarded.length).toBe(0);
    expect(s.requestBody(frame(W.encode(req)), false).forwarded.length).toBe(0);
    s.done();
  });

  test.each([
    ['malformed request (group)', Buffer.concat([frame(Buffer.from([0x1b]))]), 3],
    ['compressed request', frame(W.encode(getReq('k')), 1), 12],
    ['oversize request (header only)', Buffer.from([0, 0, 0, 0x10, 0x01]), 8],
  ])('%s -> local reply %i, nothing forwarded', (_, bytes, code) => {
    const s = host.newStream();
    const p = bytes ? '/tikvpb.Tikv/KvGet' : '/tikvpb.Tikv/KvResolveLock';
    s.requestHeaders(GRPC(p), false);
    const body = bytes || frame(W.encode(node('kvrpcpb.ResolveLockRequest', [ctx(), E.varint(2, 1)])));
    const r = s.requestBody(body, false);
    expect(r.forwarded.length).toBe(0);
    expect(r.action).not.toBe(FilterDataStatus.Continue);
    expect(grpcStatusOf(s).status).toBe(code);
    s.done();
  });

  test('end of stream inside a request frame -> INVALID_ARGUMENT', () => {
    const s = host.newStream();
    s.requestHeaders(GRPC('/tikvpb.Tikv/KvGet'), false);
    const f = frame(W.encode(getReq('k')));
    s.requestBody(f.subarray(0, f.length - 2), true);
    expect(grpcStatusOf(s).status).toBe(3);
    s.done();
  });

  test('trailers-only upstream error passes through untouched', () => {
    const s = host.newStream();
    s.requestHeaders(GRPC('/tikvpb.Tikv/KvGet'), false);
    s.requestBody(frame(W.encode(getReq('k'))), true);
    const h = s.responseHeaders({ ...RESP_HEADERS, 'grpc-status': '14', 'grpc-message': 'unavailable' }, true);
    expect(h.action).toBe(FilterHeadersStatus.Continue);
    expect(h.headers['grpc-status']).toBe('14');
    expect(s.localReply).toBeNull();
    s.done();
  });

  test('many streams: memory stays flat and no state is kept', () => {
    const run = () => {
      for (let i = 0; i < 300; i++) {
        const s = host.newStream();
        s.requestHeaders(GRPC('/tikvpb.Tikv/KvGet'), false);
        const f = frame(W.encode(getReq(`row${i}`)));
        s.requestBody(f.subarray(0, 7), false); // a carried partial frame...
        if (i % 3 === 0) { s.done(); continue; } // ...abandoned (client cancel)
        s.requestBody(f.subarray(7), true);
        s.responseHeaders(RESP_HEADERS, false);
        s.responseBody(frame(W.encode(node('kvrpcpb.GetResponse', [E.bytes(3, 'v')]))), false);
        s.responseTrailers({ 'grpc-status': '0' });
        s.done();
      }
    };
    run();
    const before = host.memoryBytes();
    run(); run();
    expect(host.memoryBytes()).toBe(before);
  });
});
