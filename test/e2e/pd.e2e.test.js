// End-to-end: real Envoy + the tidb-mesh Wasm filter in front of the PD TEST server
// (test/servers/pd-test-server.js, an imitation of pdpb.PD, not PD) that holds regions over the
// shared, prefixed key space. Two tenants (cluster1 -> keyspace 1, cluster2 -> keyspace 2) talk
// like a TiDB without keyspace: memcomparable region keys of their own coordinates, and
// KeyspaceScope.keyspace_id = 0xFFFFFFFF (the null keyspace) in GC calls.
//
// Region layout on the server (decoded keys, P1 = 78000001, P2 = 78000002, P3 = 78000003):
//   10 ["", P1"a")  11 [P1"a", P1"m")  12 [P1"m", P2"c")  20 [P2"c", P3)  30 [P3, "")
'use strict';

const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const pdServer = require('../servers/pd-test-server');
const { startEnvoy, twoTenantConfig, tidbNode } = require('../harness/envoy');

jest.setTimeout(60000);

const S = grpc.status;
const { encodeRegionKey: E, decodeRegionKey: D, txnPrefix, NULL_KEYSPACE } = pdServer;
const b = (s) => Buffer.from(s);
const EMPTY = Buffer.alloc(0);
const hex = (x) => Buffer.from(x).toString('hex');
/** A region key as the tenant sees it: "" stays "", anything else decoded to text. */
const show = (k) => (k.length === 0 ? '' : D(k).toString('latin1'));
const span = (region) => [show(region.start_key), show(region.end_key)];
const P = (id, s = '') => Buffer.concat([txnPrefix(id), b(s)]);
// protobufjs keys a map<uint64, …> by an 8-byte little-endian "long hash" string when longs
// are not strings; turn regions_by_id into {id: RegionResponse}.
const mapKey = (k) => (/^\d+$/.test(k) ? Number(k) : [...k].reduceRight((v, ch) => v * 256 + ch.charCodeAt(0), 0));
const byId = (m) => Object.fromEntries(Object.entries(m).map(([k, v]) => [mapKey(k), v]));

let server; let envoys = []; let c1; let c2; let cx;

function call(client, method, req) {
  return new Promise((resolve, reject) => {
    client[method](req, { deadline: Date.now() + 5000 }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}
async function error(promise) {
  try { await promise; } catch (e) { return e; }
  throw new Error('expected the call to fail');
}
/** One QueryRegion round trip on a fresh stream. */
function queryRegion(client, req) {
  return new Promise((resolve, reject) => {
    const s = client.QueryRegion({ deadline: Date.now() + 5000 });
    s.on('data', (r) => { resolve(r); s.end(); });
    s.on('error', reject);
    s.write(req);
  });
}

beforeAll(async () => {
  server = await pdServer.start();
  const config = twoTenantConfig();
  envoys = await Promise.all([
    startEnvoy({ upstream: { port: server.port }, pluginConfig: config, node: tidbNode('cluster1') }),
    startEnvoy({ upstream: { port: server.port }, pluginConfig: config, node: tidbNode('cluster2') }),
    startEnvoy({ upstream: { port: server.port }, pluginConfig: config, node: tidbNode('cluster9') }),
  ]);
  [c1, c2, cx] = envoys.map((e) => pdServer.pdClient(e.port));
});

afterAll(async () => {
  for (const c of [c1, c2, cx]) if (c) c.close();
  const dir = path.join(__dirname, '..', '..', '.tmp', 'e2e-logs');
  fs.mkdirSync(dir, { recursive: true });
  ['cluster1', 'cluster2', 'nomatch'].forEach((n, i) => { if (envoys[i]) fs.writeFileSync(path.join(dir, `pd-${n}.log`), envoys[i].logs()); });
  await Promise.all(envoys.filter(Boolean).map((e) => e.stop()));
  if (server) await server.stop();
});

afterEach(() => { if (server) server.setSloppy(false); });

describe('region routing: requests carry prefixed memcomparable keys', () => {
  test('GetRegion sends E(P‖k) and the answer is in the tenant coordinates', async () => {
    const r = await call(c1, 'GetRegion', { region_key: E('b') });
    expect(hex(server.lastCall('GetRegion').region_key)).toBe(hex(E(P(1, 'b'))));
    expect(r.region.id).toBe(11);
    expect(span(r.region)).toEqual(['a', 'm']);
    // The same user key of tenant 2 lands in tenant 2's key space.
    const r2 = await call(c2, 'GetRegion', { region_key: E('b') });
    expect(hex(server.lastCall('GetRegion').region_key)).toBe(hex(E(P(2, 'b'))));
    expect(r2.region.id).toBe(12);
    expect(span(r2.region)).toEqual(['', 'c']);
  });

  test('clamping at the keyspace edges: a region that starts before or ends after the keyspace', async () => {
    const first = await call(c1, 'GetRegion', { region_key: E('') });
    expect(hex(server.lastCall('GetRegion').region_key)).toBe(hex(E(P(1))));
    expect(first.region.id).toBe(10);
    expect(span(first.region)).toEqual(['', 'a']); // starts at -inf on the server: clamped to ""
    const last = await call(c1, 'GetRegion', { region_key: E('zzz') });
    expect(last.region.id).toBe(12);
    expect(span(last.region)).toEqual(['m', '']); // ends in keyspace 2: clamped to +inf ("")
    const t2last = await call(c2, 'GetRegion', { region_key: E('x') });
    expect(t2last.region.id).toBe(20);
    expect(span(t2last.region)).toEqual(['c', '']); // ends exactly at N: ""
  });

  test('bucket keys are decoded, clamped, stripped and re-encoded', async () => {
    const r = await call(c1, 'GetRegion', { region_key: E('zzz'), need_buckets: true });
    // Server buckets of region 12: [E(P1 m), E(P1 m5), E(P2 c)].
    expect(r.buckets.keys.map(show)).toEqual(['m', 'm5', '']);
    const first = await call(c1, 'GetRegion', { region_key: E('0'), need_buckets: true });
    // Region 10: ["", E("5"), E(P1 a)]: "" stays first, the foreign "5" is dropped.
    expect(first.buckets.keys.map(show)).toEqual(['', 'a']);
  });

  test('GetPrevRegion: the previous region, clamped; a previous region outside the keyspace is an error', async () => {
    const r = await call(c1, 'GetPrevRegion', { region_key: E('b') });
    expect(hex(server.lastCall('GetPrevRegion').region_key)).toBe(hex(E(P(1, 'b'))));
    expect(r.region.id).toBe(10);
    expect(span(r.region)).toEqual(['', 'a']);
    // Tenant 2's first region (12) has region 11 (keyspace 1 only) before it.
    const e = await error(call(c2, 'GetPrevRegion', { region_key: E('a') }));
    expect(e.code).toBe(S.INTERNAL);
    expect(e.details).toMatch(/outside the tenant keyspace/);
  });

  test('GetRegionByID of another keyspace\'s region fails closed (INTERNAL), never shows it', async () => {
    const own = await call(c1, 'GetRegionByID', { region_id: 11 });
    expect(span(own.region)).toEqual(['a', 'm']);
    for (const id of [20, 30]) {
      const e = await error(call(c1, 'GetRegionByID', { region_id: id }));
      expect(e.code).toBe(S.INTERNAL);
    }
    const e = await error(call(c2, 'GetRegionByID', { region_id: 11 }));
    expect(e.code).toBe(S.INTERNAL);
  });

  test('ScanRegions: empty bounds become [E(P), E(N)); regions come back clamped', async () => {
    const r = await call(c1, 'ScanRegions', { start_key: EMPTY, end_key: EMPTY, limit: 0 });
    const req = server.lastCall('ScanRegions');
    expect(hex(req.start_key)).toBe(hex(E(P(1))));
    expect(hex(req.end_key)).toBe(hex(E(txnPrefix(2))));
    expect(r.regions.map((x) => x.region.id)).toEqual([10, 11, 12]);
    expect(r.regions.map((x) => span(x.region))).toEqual([['', 'a'], ['a', 'm'], ['m', '']]);
    expect(r.region_metas.map(span)).toEqual([['', 'a'], ['a', 'm'], ['m', '']]);
    const r2 = await call(c2, 'ScanRegions', { start_key: E('a'), end_key: E('d'), limit: 0 });
    expect(hex(server.lastCall('ScanRegions').end_key)).toBe(hex(E(P(2, 'd'))));
    expect(r2.regions.map((x) => span(x.region))).toEqual([['', 'c'], ['c', '']]);
  });

  test('ScanRegions: a region of another keyspace never appears (dropped even when PD returns it)', async () => {
    server.setSloppy(true);
    const r = await call(c1, 'ScanRegions', { start_key: EMPTY, end_key: EMPTY, limit: 0 });
    expect(r.regions.map((x) => x.region.id)).toEqual([10, 11, 12]);
    expect(r.region_metas.map((x) => x.id)).toEqual([10, 11, 12]);
    const r2 = await call(c2, 'ScanRegions', { start_key: EMPTY, end_key: EMPTY, limit: 0 });
    expect(r2.regions.map((x) => x.region.id)).toEqual([12, 20]);
  });

  test('BatchScanRegions: every range is prefixed; foreign regions are dropped', async () => {
    const ranges = [{ start_key: EMPTY, end_key: E('b') }, { start_key: E('n'), end_key: EMPTY }];
    const r = await call(c1, 'BatchScanRegions', { ranges, need_buckets: true, limit: 0 });
    const req = server.lastCall('BatchScanRegions');
    expect(req.ranges.map((x) => [hex(x.start_key), hex(x.end_key)])).toEqual([
      [hex(E(P(1))), hex(E(P(1, 'b')))], [hex(E(P(1, 'n'))), hex(E(txnPrefix(2)))],
    ]);
    expect(r.regions.map((x) => span(x.region))).toEqual([['', 'a'], ['a', 'm'], ['m', '']]);
    expect(r.regions[2].buckets.keys.map(show)).toEqual(['m', 'm5', '']);
    server.setSloppy(true);
    const all = await call(c1, 'BatchScanRegions', { ranges: [{ start_key: EMPTY, end_key: EMPTY }], limit: 0 });
    expect(all.regions.map((x) => x.region.id)).toEqual([10, 11, 12]);
  });

  test('QueryRegion (stream): keys and prev_keys prefixed; regions of other keyspaces dropped from regions_by_id', async () => {
    const r = await queryRegion(c1, { keys: [E('b'), E('zzz')], prev_keys: [E('b')], ids: [11, 20, 30], need_buckets: false });
    const req = server.lastCall('QueryRegion');
    expect(req.keys.map(hex)).toEqual([hex(E(P(1, 'b'))), hex(E(P(1, 'zzz')))]);
    expect(req.prev_keys.map(hex)).toEqual([hex(E(P(1, 'b')))]);
    expect(r.key_id_map).toEqual([11, 12]);
    expect(r.prev_key_id_map).toEqual([10]);
    const regions = byId(r.regions_by_id);
    const ids = Object.keys(regions).map(Number).sort((x, y) => x - y);
    expect(ids).toEqual([10, 11, 12]); // 20 and 30 asked by id: outside keyspace 1, dropped
    expect(span(regions[10].region)).toEqual(['', 'a']);
    expect(span(regions[12].region)).toEqual(['m', '']);
    const r2 = await queryRegion(c2, { keys: [E('a')], prev_keys: [], ids: [11], need_buckets: false });
    const regions2 = byId(r2.regions_by_id);
    expect(Object.keys(regions2).map(Number)).toEqual([12]);
    expect(span(regions2[12].region)).toEqual(['', 'c']);
  });

  test('SplitRegions: split keys are prefixed region keys', async () => {
    await call(c1, 'SplitRegions', { split_keys: [E('k'), E('t_1')], retry_limit: 1 });
    expect(server.lastCall('SplitRegions').split_keys.map(hex)).toEqual([hex(E(P(1, 'k'))), hex(E(P(1, 't_1')))]);
  });

  test('a malformed region key is INVALID_ARGUMENT and never reaches PD', async () => {
    const before = server.calls.length;
    const e = await error(call(c1, 'GetRegion', { region_key: b('not memcomparable') }));
    expect(e.code).toBe(S.INVALID_ARGUMENT);
    expect(server.calls.length).toBe(before);
  });
});

describe('GC and keyspace scope', () => {
  test('GetGCState and AdvanceTxnSafePoint: the null keyspace (0xFFFFFFFF) becomes the tenant\'s keyspace', async () => {
    await call(c1, 'AdvanceTxnSafePoint', { keyspace_scope: { keyspace_id: NULL_KEYSPACE }, target: 500 });
    expect(server.lastCall('AdvanceTxnSafePoint').keyspace_scope.keyspace_id).toBe(1);
    await call(c2, 'AdvanceTxnSafePoint', { keyspace_scope: { keyspace_id: NULL_KEYSPACE }, target: 700 });
    expect(server.lastCall('AdvanceTxnSafePoint').keyspace_scope.keyspace_id).toBe(2);
    const s1 = await call(c1, 'GetGCState', { keyspace_scope: { keyspace_id: NULL_KEYSPACE } });
    expect(server.lastCall('GetGCState').keyspace_scope.keyspace_id).toBe(1);
    expect(s1.gc_state.txn_safe_point).toBe(500);
    // A tenant naming another keyspace still gets its own.
    await call(c1, 'GetGCState', { keyspace_scope: { keyspace_id: 2 } });
    expect(server.lastCall('GetGCState').keyspace_scope.keyspace_id).toBe(1);
  });

  test('a GC call without a keyspace scope (= global) or with an API-v3 identity is denied', async () => {
    const before = server.calls.length;
    for (const req of [{ target: 10 }, { keyspace_scope: {}, target: 10 }, { keyspace_scope: { keyspace_identity: { namespace_id: 1, keyspace_id: 1 } }, target: 10 }]) {
      const e = await error(call(c1, 'AdvanceTxnSafePoint', req));
      expect(e.code).toBe(S.PERMISSION_DENIED);
    }
    expect(server.calls.length).toBe(before);
  });

  test('GetGCSafePointV2: keyspace_id forced to the tenant', async () => {
    await call(c1, 'GetGCSafePointV2', { keyspace_id: 2 });
    expect(server.lastCall('GetGCSafePointV2').keyspace_id).toBe(1);
  });

  test('a tenant never writes the global GC state: UpdateGCSafePoint reaches PD as a read, service safe points are scoped, global barriers are denied', async () => {
    const before = server.calls.length;
    const e = await error(call(c1, 'SetGlobalGCBarrier', { barrier_id: 'x', barrier_ts: 9 }));
    expect(e.code).toBe(S.PERMISSION_DENIED);
    expect(server.calls.length).toBe(before);
    // The test server answers new_safe_point = the request's value: here the 0 of a read.
    expect((await call(c1, 'UpdateGCSafePoint', { safe_point: 99 })).new_safe_point).toBe(0);
    expect(server.lastCall('UpdateGCSafePoint').safe_point).toBe(0);
    await call(c1, 'UpdateServiceGCSafePoint', { service_id: b('x'), TTL: 10, safe_point: 99 });
    expect(server.lastCall('UpdateServiceGCSafePoint').service_id.toString()).toBe('tidb-mesh-1-x');
    expect((await call(c1, 'GetGCSafePoint', {})).safe_point).toBe(5);
  });

  test('calls that list every keyspace return only the tenant\'s own entries', async () => {
    const all = await call(c1, 'GetAllKeyspacesGCStates', {});
    expect(all.gc_states.map((g) => g.keyspace_scope.keyspace_id)).toEqual([1]);
    const sp = await call(c2, 'GetAllGCSafePointV2', {});
    expect(sp.gc_safe_points.map((g) => [g.keyspace_id, g.gc_safe_point])).toEqual([[2, 1002]]);
  });
});

describe('keyless PD calls and the allowlist', () => {
  test('Tso (bidi stream), GetMembers and GetAllStores pass untouched', async () => {
    const members = await call(c1, 'GetMembers', {});
    expect(members.members[0].name).toBe('pd-test');
    expect((await call(c2, 'GetAllStores', {})).stores.map((s) => s.id)).toEqual([1]);
    const ts = await new Promise((resolve, reject) => {
      const s = c1.Tso({ deadline: Date.now() + 5000 });
      s.on('data', (r) => { resolve(r); s.end(); });
      s.on('error', reject);
      s.write({ count: 3 });
    });
    expect(ts.count).toBe(3);
  });

  test('TiKV-to-PD calls are denied for tenants', async () => {
    const e = await error(call(c1, 'StoreHeartbeat', {}));
    expect(e.code).toBe(S.PERMISSION_DENIED);
  });

  test('an unknown caller is denied before PD sees anything', async () => {
    const before = server.calls.length;
    const e = await error(call(cx, 'GetRegion', { region_key: E('b') }));
    expect(e.code).toBe(S.PERMISSION_DENIED);
    expect(server.calls.length).toBe(before);
  });

  test('no Wasm VM failure in any Envoy', () => {
    for (const e of envoys) expect(e.logs()).not.toMatch(/\[critical\]\[wasm\]|Uncaught RuntimeError|VM failed/);
  });
});
