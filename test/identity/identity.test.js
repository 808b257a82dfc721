// Workload identity through the compiled filter (dist/tidb-mesh.wasm) in the JS proxy-wasm host:
// outbound node metadata (xds.node.metadata and node.metadata paths, cached per configuration),
// inbound mTLS principals, passthrough, reconfiguration with open streams, metrics and logs.
'use strict';

const path = require('path');
const { ProxyWasmHost } = require('../host/proxy-wasm-host');

const FILTER = process.env.TIDB_MESH_WASM ? path.resolve(process.env.TIDB_MESH_WASM) : path.join(__dirname, '..', '..', 'dist', 'tidb-mesh.wasm');
const INFO = 2;
const P = (sa) => `spiffe://cluster.local/ns/tidb/sa/${sa}`;
const TXN = (id) => Buffer.from([0x78, (id >> 16) & 0xff, (id >> 8) & 0xff, id & 0xff]);
const RAW = (id) => Buffer.from([0x72, (id >> 16) & 0xff, (id >> 8) & 0xff, id & 0xff]);

const OUTBOUND = {
  version: 1, direction: 'outbound', mode: 'api-v2',
  tenants: [
    { name: 'cluster1', keyspaceId: 1, match: { namespace: 'tidb', labels: { 'app.kubernetes.io/instance': 'cluster1' } } },
    { name: 'cluster2', keyspaceId: 2, match: { namespace: 'tidb', labels: { 'app.kubernetes.io/instance': 'cluster2' } } },
  ],
  unknownCaller: 'deny',
};
const INBOUND = {
  version: 1, direction: 'inbound', mode: 'api-v2',
  tenants: [
    { name: 'cluster1', keyspaceId: 1, match: { principals: [P('tidb-cluster1')] } },
    { name: 'cluster2', keyspaceId: 2, match: { principals: [P('tidb-cluster2')] } },
  ],
  passthrough: [
    { name: 'basic-storage', match: { principals: [P('pd'), P('tikv')] } },
    { name: 'br', match: { principals: [P('br')] } },
  ],
  unknownCaller: 'deny',
};
const node = (instance) => ({ NAMESPACE: 'tidb', SERVICE_ACCOUNT: `tidb-${instance}`, LABELS: { 'app.kubernetes.io/instance': instance, 'app.kubernetes.io/component': 'tidb' } });

// ---- tiny protobuf writer for the few messages used here
function varint(n) { const o = []; do { let b = n & 0x7f; n = Math.floor(n / 128); if (n) b |= 0x80; o.push(b); } while (n); return Buffer.from(o); }
const field = (no, bytes) => Buffer.concat([varint((no << 3) | 2), varint(bytes.length), bytes]);
const vfield = (no, n) => Buffer.concat([varint(no << 3), varint(n)]);
const frame = (payload, compressed = false) => { const h = Buffer.alloc(5); h[0] = compressed ? 1 : 0; h.writeUInt32BE(payload.length, 1); return Buffer.concat([h, payload]); };
/** KvGetRequest{key=2, version=3} and RawGetRequest{key=2}: the key is field 2 in both. */
const kvGet = (key) => frame(Buffer.concat([field(2, Buffer.from(key)), vfield(3, 100)]));
const rawGet = (key) => frame(field(2, Buffer.from(key)));
const GRPC = (p) => ({ ':method': 'POST', ':path': p, ':authority': 'tikv', 'content-type': 'application/grpc', te: 'trailers' });

async function load(config, opts = {}) {
  const host = await ProxyWasmHost.load(FILTER, { rootId: 'tidb-mesh', config, logLevel: 1, ...opts });
  return host;
}

/** One unary request through the filter; returns what was forwarded upstream or the local reply. */
function call(host, p, body, streamOpts = {}) {
  const s = host.newStream(streamOpts);
  const h = s.requestHeaders(GRPC(p), false);
  let forwarded = Buffer.alloc(0);
  if (!s.localReply) {
    const r = s.requestBody(body, true);
    forwarded = r.forwarded;
  }
  const lr = s.localReply;
  s.done();
  return { headers: h, forwarded, denied: lr ? { grpc: lr.grpcStatus, message: lr.body.toString('utf8'), details: lr.details } : null };
}

const denialLogs = (host) => host.logs().filter((l) => / denied | call ended | response refused /.test(l.message));

describe('outbound: the tenant comes from node metadata', () => {
  test.each(['both', 'xds', 'node'])('metadataPaths %s: labels and namespace select the tenant', async (paths) => {
    const host = await load(OUTBOUND, { nodeMetadata: node('cluster2'), metadataPaths: paths });
    expect(host.configured).toBe(true);
    const r = call(host, '/tikvpb.Tikv/KvGet', kvGet('t_k1'));
    expect(r.denied).toBeNull();
    expect(r.forwarded.includes(Buffer.concat([TXN(2), Buffer.from('t_k1')]))).toBe(true);
    expect(host.metrics()).toMatchObject({ 'tidb_mesh.tenant.cluster2.calls_rewritten': 1, 'tidb_mesh.tenant.cluster2.keys_rewritten': 1 });
    expect(host.logs().some((l) => l.level === INFO && l.message.includes('outbound tenant cluster2'))).toBe(true);
    expect(host.traps).toBe(0);
  });

  test('no node metadata at all: every call is denied PERMISSION_DENIED (unknown_tenant)', async () => {
    const host = await load(OUTBOUND, { nodeMetadata: {} });
    expect(host.configured).toBe(true);
    const r = call(host, '/tikvpb.Tikv/KvGet', kvGet('t_k1'));
    expect(r.denied).toMatchObject({ grpc: 7 });
    expect(r.denied.message).toMatch(/matches no tenant/);
    expect(r.forwarded.length).toBe(0);
    expect(host.metrics()).toEqual({ 'tidb_mesh.unknown.calls_denied.unknown_tenant': 1 });
  });

  test('labels of no tenant, or a namespace mismatch: denied', async () => {
    for (const md of [node('cluster9'), { ...node('cluster1'), NAMESPACE: 'other' }]) {
      const host = await load(OUTBOUND, { nodeMetadata: md });
      expect(call(host, '/tikvpb.Tikv/KvGet', kvGet('t_k1')).denied).toMatchObject({ grpc: 7 });
    }
  });

  test('a workload matching two tenants is denied (ambiguous), and the log says so at configure time', async () => {
    const cfg = { ...OUTBOUND, tenants: [...OUTBOUND.tenants, { name: 'broad', keyspaceId: 3, match: { namespace: 'tidb' } }] };
    const host = await load(cfg, { nodeMetadata: node('cluster1') });
    const r = call(host, '/tikvpb.Tikv/KvGet', kvGet('t_k1'));
    expect(r.denied).toMatchObject({ grpc: 7 });
    expect(r.denied.message).toMatch(/more than one tenant/);
    expect(host.logs().some((l) => l.message.includes('matches no single tenant'))).toBe(true);
  });

  test('identity is read once per configuration (per VM), not per request', async () => {
    const host = await load(OUTBOUND, { nodeMetadata: node('cluster1') });
    const reads = [];
    const orig = host._lookupProperty.bind(host);
    host._lookupProperty = (p, ctx) => { reads.push(p.split('\0').join('.')); return orig(p, ctx); };
    // Changing what the host would answer has no effect until the next configuration.
    host.nodeMetadata = node('cluster2');
    for (let i = 0; i < 3; i++) {
      const r = call(host, '/tikvpb.Tikv/KvGet', kvGet('t_k1'));
      expect(r.forwarded.includes(Buffer.concat([TXN(1), Buffer.from('t_k1')]))).toBe(true);
    }
    expect(reads.filter((p) => p.includes('metadata'))).toEqual([]);
    expect(host.reconfigure(OUTBOUND)).toBe(true);
    expect(reads.some((p) => p === 'xds.node.metadata.NAMESPACE')).toBe(true);
    const r = call(host, '/tikvpb.Tikv/KvGet', kvGet('t_k1'));
    expect(r.forwarded.includes(Buffer.concat([TXN(2), Buffer.from('t_k1')]))).toBe(true);
  });
});

describe('inbound: the tenant comes from the peer certificate', () => {
  let host;
  beforeEach(async () => { host = await load(INBOUND, { nodeMetadata: { NAMESPACE: 'tidb', LABELS: { app: 'tikv' } } }); });

  test('the right principal gets its keyspace', () => {
    const r1 = call(host, '/tikvpb.Tikv/RawGet', rawGet('a'), { peerPrincipal: P('tidb-cluster1') });
    const r2 = call(host, '/tikvpb.Tikv/RawGet', rawGet('a'), { peerPrincipal: P('tidb-cluster2') });
    expect(r1.forwarded.includes(Buffer.concat([RAW(1), Buffer.from('a')]))).toBe(true);
    expect(r2.forwarded.includes(Buffer.concat([RAW(2), Buffer.from('a')]))).toBe(true);
    expect(host.metrics()).toMatchObject({
      'tidb_mesh.tenant.cluster1.calls_rewritten': 1, 'tidb_mesh.tenant.cluster2.calls_rewritten': 1,
      'tidb_mesh.tenant.cluster1.keys_rewritten': 1, 'tidb_mesh.tenant.cluster2.keys_rewritten': 1,
    });
  });

  test('a principal of no tenant: PERMISSION_DENIED, logged with who but no key', () => {
    const r = call(host, '/tikvpb.Tikv/RawGet', rawGet('SECRET_KEY_1'), { peerPrincipal: P('intruder') });
    expect(r.denied).toMatchObject({ grpc: 7 });
    expect(r.forwarded.length).toBe(0);
    expect(host.metrics()).toEqual({ 'tidb_mesh.unknown.calls_denied.unknown_tenant': 1 });
    const logs = denialLogs(host);
    expect(logs).toHaveLength(1);
    expect(logs[0].level).toBe(INFO);
    expect(logs[0].message).toContain(P('intruder'));
    expect(logs[0].message).toContain('[unknown_tenant]');
  });

  test('no peer certificate (plaintext connection): PERMISSION_DENIED no_peer_identity', () => {
    const r = call(host, '/tikvpb.Tikv/RawGet', rawGet('a'));
    expect(r.denied).toMatchObject({ grpc: 7 });
    expect(r.denied.message).toMatch(/no verified peer identity/);
    expect(host.metrics()).toEqual({ 'tidb_mesh.unknown.calls_denied.no_peer_identity': 1 });
  });

  test('a URI SAN without connection.mtls, or mtls with an empty SAN: denied', () => {
    const a = call(host, '/tikvpb.Tikv/RawGet', rawGet('a'), { properties: { 'connection\0uri_san_peer_certificate': P('tidb-cluster1') } });
    const b = call(host, '/tikvpb.Tikv/RawGet', rawGet('a'), { properties: { 'connection\0uri_san_peer_certificate': P('tidb-cluster1'), 'connection\0mtls': false } });
    const c = call(host, '/tikvpb.Tikv/RawGet', rawGet('a'), { properties: { 'connection\0mtls': true } });
    for (const r of [a, b, c]) expect(r.denied).toMatchObject({ grpc: 7 });
    expect(host.metrics()).toEqual({ 'tidb_mesh.unknown.calls_denied.no_peer_identity': 3 });
  });

  test('passthrough principals: bytes untouched, whatever the method (Raft, PD heartbeat, unknown)', () => {
    const body = rawGet('a');
    for (const [sa, p] of [['tikv', '/tikvpb.Tikv/Raft'], ['tikv', '/pdpb.PD/StoreHeartbeat'], ['pd', '/etcdserverpb.KV/Range'], ['br', '/tikvpb.Tikv/RawGet'], ['tikv', '/tikvpb.Tikv/NoSuchMethod']]) {
      const s = host.newStream({ peerPrincipal: P(sa) });
      const h = s.requestHeaders(GRPC(p), false);
      expect(h.headers['content-length']).toBeUndefined();
      const r = s.requestBody(body, true);
      expect(s.localReply).toBeNull();
      expect(Buffer.compare(r.forwarded, body)).toBe(0);
      const resp = frame(field(3, Buffer.from('v')));
      s.responseHeaders({ ':status': '200', 'content-type': 'application/grpc' }, false);
      expect(Buffer.compare(s.responseBody(resp, false).forwarded, resp)).toBe(0);
      s.responseTrailers({ 'grpc-status': '0' });
      s.done();
    }
    expect(host.metrics()).toEqual({ 'tidb_mesh.passthrough.basic-storage.calls_passed': 4, 'tidb_mesh.passthrough.br.calls_passed': 1 });
    expect(host.traps).toBe(0);
  });

  test('a tenant calling a TiKV-internal method is denied (denied_method), an unknown one UNIMPLEMENTED', () => {
    expect(call(host, '/tikvpb.Tikv/Raft', rawGet('a'), { peerPrincipal: P('tidb-cluster1') }).denied).toMatchObject({ grpc: 7 });
    expect(call(host, '/tikvpb.Tikv/Nope', rawGet('a'), { peerPrincipal: P('tidb-cluster1') }).denied).toMatchObject({ grpc: 12 });
    expect(host.metrics()).toEqual({
      'tidb_mesh.tenant.cluster1.calls_denied.denied_method': 1,
      'tidb_mesh.tenant.cluster1.calls_denied.unknown_method': 1,
    });
  });
});

describe('frames rejected, per tenant and reason; logs never carry keys or values', () => {
  test('malformed, compressed, oversize', async () => {
    const host = await load({ ...INBOUND, maxMessageBytes: 1024 });
    const who = { peerPrincipal: P('tidb-cluster1') };
    const malformed = call(host, '/tikvpb.Tikv/RawGet', frame(Buffer.from([0x12, 0x7f, 0x74])), who);
    const compressed = call(host, '/tikvpb.Tikv/RawGet', frame(field(2, Buffer.from('SECRET_KEY_2')), true), who);
    const oversize = call(host, '/tikvpb.Tikv/RawGet', frame(Buffer.concat([field(2, Buffer.from('SECRET_KEY_3')), field(3, Buffer.alloc(2000, 0x41))])), who);
    expect([malformed.denied.grpc, compressed.denied.grpc, oversize.denied.grpc]).toEqual([3, 12, 8]);
    expect(host.metrics()).toMatchObject({
      'tidb_mesh.tenant.cluster1.calls_rewritten': 3,
      'tidb_mesh.tenant.cluster1.frames_rejected.malformed': 1,
      'tidb_mesh.tenant.cluster1.frames_rejected.compressed': 1,
      'tidb_mesh.tenant.cluster1.frames_rejected.oversize': 1,
    });
    const logs = denialLogs(host);
    expect(logs).toHaveLength(3);
    for (const l of logs) {
      expect(l.level).toBe(INFO);
      expect(l.message).not.toMatch(/SECRET|AAAA/);
    }
    expect(host.logs().map((l) => l.message).join('\n')).not.toMatch(/SECRET/);
  });

  test('a response key outside the keyspace: INTERNAL, counted as out_of_keyspace', async () => {
    const host = await load(INBOUND);
    const s = host.newStream({ peerPrincipal: P('tidb-cluster1') });
    s.requestHeaders(GRPC('/tikvpb.Tikv/RawScan'), false);
    s.requestBody(frame(Buffer.concat([field(2, Buffer.from('a')), vfield(3, 10)])), true);
    s.responseHeaders({ ':status': '200', 'content-type': 'application/grpc' }, false);
    // RawScanResponse{kvs=2: KvPair{key=2, value=3}} with a key of keyspace 2
    const foreign = frame(field(2, Buffer.concat([field(2, Buffer.concat([RAW(2), Buffer.from('SECRET_KEY_4')])), field(3, Buffer.from('SECRET_VALUE'))])));
    const r = s.responseBody(foreign, false);
    expect(r.forwarded.includes(Buffer.from('SECRET_VALUE'))).toBe(false);
    s.responseTrailers({ 'grpc-status': '0' });
    s.done();
    const m = host.metrics();
    expect(m['tidb_mesh.tenant.cluster1.frames_rejected.out_of_keyspace']).toBe(1);
    const logs = denialLogs(host);
    expect(logs.map((l) => [l.level, /response refused for tenant cluster1: .*\[out_of_keyspace\]$/.test(l.message)])).toEqual([[INFO, true]]);
    expect(host.logs().map((l) => l.message).join('\n')).not.toMatch(/SECRET/);
  });
});

describe('reconfiguration: new streams get the new configuration, open ones keep theirs', () => {
  const moved = { ...INBOUND, tenants: [{ name: 'cluster1', keyspaceId: 5, match: { principals: [P('tidb-cluster1')] } }] };

  test.each([['a new root context (Envoy)', false], ['onConfigure on the same root', true]])('%s', async (_n, sameRoot) => {
    const host = await load(INBOUND);
    const who = { peerPrincipal: P('tidb-cluster1') };
    // A long-lived stream (BatchCommands-like: RawGet frames one by one, no end of stream).
    const open = host.newStream(who);
    open.requestHeaders(GRPC('/tikvpb.Tikv/RawGet'), false);
    expect(open.requestBody(rawGet('before'), false).forwarded.includes(Buffer.concat([RAW(1), Buffer.from('before')]))).toBe(true);

    expect(host.reconfigure(moved, { sameRoot })).toBe(true);
    expect(open.requestBody(rawGet('after'), false).forwarded.includes(Buffer.concat([RAW(1), Buffer.from('after')]))).toBe(true);
    const fresh = call(host, '/tikvpb.Tikv/RawGet', rawGet('new'), who);
    expect(fresh.forwarded.includes(Buffer.concat([RAW(5), Buffer.from('new')]))).toBe(true);
    // cluster2 is gone from the new table.
    expect(call(host, '/tikvpb.Tikv/RawGet', rawGet('x'), { peerPrincipal: P('tidb-cluster2') }).denied).toMatchObject({ grpc: 7 });
    expect(open.requestBody(rawGet('last'), true).forwarded.includes(Buffer.concat([RAW(1), Buffer.from('last')]))).toBe(true);
    open.done();
    expect(host.traps).toBe(0);
  });

  test('an invalid new configuration is refused with a log line that says why; new calls fail closed', async () => {
    const host = await load(INBOUND);
    const open = host.newStream({ peerPrincipal: P('tidb-cluster1') });
    open.requestHeaders(GRPC('/tikvpb.Tikv/RawGet'), false);
    expect(host.reconfigure({ ...INBOUND, unknownCaller: 'allow' }, { sameRoot: true })).toBe(false);
    expect(host.logs().some((l) => l.level === 4 && l.message.includes('configuration rejected: unknownCaller: only "deny" exists'))).toBe(true);
    const r = call(host, '/tikvpb.Tikv/RawGet', rawGet('x'), { peerPrincipal: P('tidb-cluster1') });
    expect(r.denied).toMatchObject({ grpc: 14 });
    expect(host.metrics()['tidb_mesh.unknown.calls_denied.no_config']).toBe(1);
    expect(open.requestBody(rawGet('still'), true).forwarded.includes(Buffer.concat([RAW(1), Buffer.from('still')]))).toBe(true);
    open.done();
    // and a later valid configuration restores service
    expect(host.reconfigure(INBOUND, { sameRoot: true })).toBe(true);
    expect(call(host, '/tikvpb.Tikv/RawGet', rawGet('x'), { peerPrincipal: P('tidb-cluster1') }).denied).toBeNull();
  });

  test('invalid configurations at start: onConfigure fails and logs the rule', async () => {
    for (const [cfg, why] of [['', 'empty configuration'], ['{', 'invalid JSON'], [{ tenants: [{ name: 'a', keyspaceId: 1, match: { principals: [P('a')] } }] }, 'principals apply to inbound only']]) {
      const host = await load(cfg);
      expect(host.configured).toBe(false);
      expect(host.logs().some((l) => l.level === 4 && l.message.includes(`configuration rejected: `) && l.message.includes(why))).toBe(true);
    }
  });
});
