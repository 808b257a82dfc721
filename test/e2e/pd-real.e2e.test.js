// End-to-end against a REAL pd-server (realstack/build.sh pd-server; test/servers/
// real-pd-process.js) behind a real Envoy with the tidb-mesh filter, driven by @grpc/grpc-js
// with hand-written proto subsets (test/proto/pd, test/proto/health.proto). These are the PD
// calls an unmodified TiDB 8.5 makes that the filter used to refuse:
//   - meta_storagepb.MetaStorage/Get "resource_group/controller" (fatal at TiDB start if
//     refused) and Watch "resource_group/…": allowed inside "resource_group/" only;
//   - resource_manager.ResourceManager reads and the token stream: passed; writes denied;
//   - grpc.health.v1.Health/Check: passed;
//   - pdpb.PD/UpdateServiceGCSafePoint: registered as the tenant's own service safe point;
//     pdpb.PD/UpdateGCSafePoint: answered from the global point, which it never moves (docs/gc.md).
// A missing pd-server fails the test (it never skips).
'use strict';

const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const { startPd } = require('../servers/real-pd-process');
const { startEnvoy, twoTenantConfig, tidbNode } = require('../harness/envoy');

jest.setTimeout(90000);

const S = grpc.status;
const PROTO = path.join(__dirname, '..', 'proto');
const OPTIONS = { keepCase: true, longs: String, enums: Number, bytes: Buffer, defaults: true, arrays: true, oneofs: true, includeDirs: [PROTO, path.join(PROTO, 'pd')] };
const load = (f) => grpc.loadPackageDefinition(protoLoader.loadSync(f, OPTIONS));
const pdpb = load(path.join(PROTO, 'pd', 'pdpb.proto')).pdpb;
const ms = load(path.join(PROTO, 'pd', 'meta_storagepb.proto')).meta_storagepb;
const rm = load(path.join(PROTO, 'pd', 'resource_manager.proto')).resource_manager;
const health = load(path.join(PROTO, 'health.proto')).grpc.health.v1;
const b = (s) => Buffer.from(s);

let pd; let envoy; let clusterId = '0';
const direct = {}; const tenant = {};

function clients(port) {
  const addr = `127.0.0.1:${port}`;
  const cred = grpc.credentials.createInsecure();
  return {
    pd: new pdpb.PD(addr, cred), ms: new ms.MetaStorage(addr, cred), rm: new rm.ResourceManager(addr, cred), health: new health.Health(addr, cred),
  };
}
function call(client, method, req) {
  return new Promise((resolve, reject) => {
    client[method](req, { deadline: Date.now() + 10000 }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}
async function error(promise) {
  try { await promise; } catch (e) { return e; }
  throw new Error('expected the call to fail');
}
const sleep = (ms_) => new Promise((r) => setTimeout(r, ms_));

beforeAll(async () => {
  pd = await startPd();
  Object.assign(direct, clients(pd.port));
  // PD answers once its leader is elected and the resource manager has initialized.
  const deadline = Date.now() + 30000;
  for (;;) {
    try {
      const m = await call(direct.pd, 'GetMembers', { header: {} });
      clusterId = m.header.cluster_id;
      const g = await call(direct.rm, 'GetResourceGroup', { resource_group_name: 'default' });
      if (m.leader && g.group && g.group.name === 'default') break;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`PD did not get ready: ${e.message}\n${pd.logs().slice(-3000)}`);
    }
    await sleep(200);
  }
  envoy = await startEnvoy({ upstream: { port: pd.port }, pluginConfig: twoTenantConfig(), node: tidbNode('cluster1') });
  Object.assign(tenant, clients(envoy.port));
});

afterAll(async () => {
  for (const set of [direct, tenant]) for (const c of Object.values(set)) c.close();
  const dir = path.join(__dirname, '..', '..', '.tmp', 'e2e-logs');
  fs.mkdirSync(dir, { recursive: true });
  if (envoy) fs.writeFileSync(path.join(dir, 'pd-real-cluster1.log'), envoy.logs());
  if (pd) fs.writeFileSync(path.join(dir, 'pd-real-pd.log'), pd.logs());
  if (envoy) await envoy.stop();
  if (pd) await pd.stop();
});

describe('meta storage: reads inside "resource_group/" only', () => {
  test('Get "resource_group/controller" (TiDB\'s loadServerConfig) answers as PD does directly', async () => {
    const req = { header: { cluster_id: clusterId, source: 'tidb' }, key: b('resource_group/controller') };
    const viaMesh = await call(tenant.ms, 'Get', req);
    const plain = await call(direct.ms, 'Get', req);
    expect(viaMesh.header.error).toBeNull();
    expect(viaMesh.kvs.map((kv) => [kv.key.toString(), kv.value.toString()])).toEqual(plain.kvs.map((kv) => [kv.key.toString(), kv.value.toString()]));
  });

  test('Get of the "resource_group/settings" prefix lists the groups', async () => {
    const r = await call(tenant.ms, 'Get', { key: b('resource_group/settings'), range_end: b('resource_group/settingt') });
    expect(r.header.error).toBeNull();
    expect(r.kvs.map((kv) => kv.key.toString())).toContain('resource_group/settings/default');
  });

  test.each([
    ['another tenant\'s TiDB key', { key: b('/keyspaces/tidb/2/tidb/ddl/global_schema_version') }],
    ['PD\'s own metadata', { key: b('/pd/'), range_end: b('/pd0') }],
    ['every key from "resource_group/" on ("\\x00" end)', { key: b('resource_group/'), range_end: b('\0') }],
    ['no key (the empty key)', { limit: 1 }],
  ])('Get of %s is PERMISSION_DENIED with a message', async (_, req) => {
    const e = await error(call(tenant.ms, 'Get', req));
    expect(e.code).toBe(S.PERMISSION_DENIED);
    expect(e.details).toBe('tidb-mesh: key outside the prefix this method may read (PD meta storage: only keys under resource_group/, read-only)');
  });

  test('Put and Delete are PERMISSION_DENIED; nothing is written', async () => {
    const p = await error(call(tenant.ms, 'Put', { key: b('resource_group/controller'), value: b('{}') }));
    expect(p.code).toBe(S.PERMISSION_DENIED);
    expect(p.details).toMatch(/read-only for tenants/);
    const d = await error(call(tenant.ms, 'Delete', { key: b('resource_group/controller') }));
    expect(d.code).toBe(S.PERMISSION_DENIED);
    const still = await call(direct.ms, 'Get', { key: b('resource_group/controller') });
    expect(still.kvs.length).toBeGreaterThanOrEqual(0);
    expect(still.kvs.every((kv) => kv.value.toString() !== '{}')).toBe(true);
  });

  test('Watch "resource_group/settings" (prefix) streams a change made on the platform; Watch outside is refused', async () => {
    const stream = tenant.ms.Watch({ key: b('resource_group/settings'), range_end: b('resource_group/settingt') });
    const events = [];
    let streamError = null;
    stream.on('data', (r) => { for (const ev of r.events) events.push(ev.kv.key.toString()); });
    stream.on('error', (e) => { streamError = e; });
    await sleep(300);
    // The platform (a direct caller) adds a group; the tenant's watch sees it.
    const add = await call(direct.rm, 'AddResourceGroup', { group: { name: 'rg_watch', mode: 1, r_u_settings: { r_u: { settings: { fill_rate: 1000 } } } } });
    expect(add.error).toBeNull();
    const deadline = Date.now() + 5000;
    while (!events.includes('resource_group/settings/rg_watch') && Date.now() < deadline) await sleep(50);
    stream.cancel();
    expect(events).toContain('resource_group/settings/rg_watch');
    expect(streamError === null || streamError.code === S.CANCELLED).toBe(true);

    const bad = tenant.ms.Watch({ key: b('/keyspaces/tidb/2/'), range_end: b('/keyspaces/tidb/20') });
    const e = await new Promise((resolve) => { bad.on('error', resolve); bad.on('data', () => {}); });
    expect(e.code).toBe(S.PERMISSION_DENIED);
  });
});

describe('resource manager: shared groups are used, never changed', () => {
  test('GetResourceGroup("default") and ListResourceGroups answer', async () => {
    const g = await call(tenant.rm, 'GetResourceGroup', { resource_group_name: 'default' });
    expect(g.error).toBeNull();
    expect(g.group.name).toBe('default');
    const l = await call(tenant.rm, 'ListResourceGroups', { with_ru_stats: true });
    expect(l.error).toBeNull();
    expect(l.groups.map((x) => x.name)).toContain('default');
  });

  test('AcquireTokenBuckets (bidi stream): the tenant reports consumption and gets tokens for "default"', async () => {
    const stream = tenant.rm.AcquireTokenBuckets();
    const got = new Promise((resolve, reject) => { stream.on('data', resolve); stream.on('error', reject); });
    stream.write({
      requests: [{ resource_group_name: 'default', ru_items: { request_r_u: [{ type: 0, value: 10 }] }, consumption_since_last_request: { r_r_u: 1.5, w_r_u: 2.5, kv_read_rpc_count: 1 } }],
      target_request_period_ms: 5000, client_unique_id: '4242',
    });
    const r = await got;
    stream.end();
    expect(r.error).toBeNull();
    expect(r.responses.map((x) => x.resource_group_name)).toEqual(['default']);
  });

  test.each([
    ['AddResourceGroup', { group: { name: 'rg_tenant', mode: 1 } }],
    ['ModifyResourceGroup', { group: { name: 'default', mode: 1 } }],
    ['DeleteResourceGroup', { resource_group_name: 'rg_watch' }],
  ])('%s is PERMISSION_DENIED: "create them on the platform"', async (m, req) => {
    const e = await error(call(tenant.rm, m, req));
    expect(e.code).toBe(S.PERMISSION_DENIED);
    expect(e.details).toBe('tidb-mesh: resource groups are shared by every tenant; create them on the platform');
    const l = await call(direct.rm, 'ListResourceGroups', {});
    expect(l.groups.map((x) => x.name)).not.toContain('rg_tenant');
  });

  test('a request naming a keyspace (newer kvproto\'s keyspace_id) is PERMISSION_DENIED', async () => {
    const e = await error(call(tenant.rm, 'GetResourceGroup', { resource_group_name: 'default', keyspace_id: { value: 2 } }));
    expect(e.code).toBe(S.PERMISSION_DENIED);
  });
});

describe('health checks and PD calls TiDB makes at start', () => {
  test('grpc.health.v1.Health/Check is answered by PD through the filter', async () => {
    const r = await call(tenant.health, 'Check', { service: '' });
    expect(r.status).toBe(1); // SERVING
  });

  test('GetMembers and the Tso stream pass', async () => {
    const m = await call(tenant.pd, 'GetMembers', { header: { cluster_id: clusterId } });
    expect(m.header.cluster_id).toBe(clusterId);
    expect(m.leader.name).toBe('pd');
    const tso = tenant.pd.Tso();
    const got = new Promise((resolve, reject) => { tso.on('data', resolve); tso.on('error', reject); });
    tso.write({ header: { cluster_id: clusterId }, count: 1 });
    const t = await got;
    tso.end();
    expect(Number(t.timestamp.physical)).toBeGreaterThan(0);
  });

  test('UpdateServiceGCSafePoint("gc_worker") registers the tenant\'s own "tidb-mesh-1-gc_worker"; UpdateGCSafePoint never moves the global point', async () => {
    await pd.bootstrap();
    const sp = '400000000000000000';
    const r = await call(tenant.pd, 'UpdateServiceGCSafePoint', { header: { cluster_id: clusterId }, service_id: b('gc_worker'), TTL: '9223372036854775807', safe_point: sp });
    expect(r.header.error).toBeNull();
    // The minimum is PD's own "gc_worker" (0): its id is not shown to the tenant.
    expect([r.service_id.toString(), r.min_safe_point]).toEqual(['', '0']);
    const list = JSON.parse((await pd.request('GET', '/pd/api/v1/gc/safepoint')).body.replace(/("safe_point"\s*:\s*)(\d+)/g, '$1"$2"'));
    expect(list.service_gc_safe_points.map((x) => [x.service_id, String(x.safe_point)])).toEqual([['gc_worker', '0'], ['tidb-mesh-1-gc_worker', sp]]);
    const g = await call(tenant.pd, 'UpdateGCSafePoint', { header: { cluster_id: clusterId }, safe_point: sp });
    expect(g.new_safe_point).toBe('0');
    expect((await call(direct.pd, 'GetGCSafePoint', { header: { cluster_id: clusterId } })).safe_point).toBe('0');
  });

  test('no Wasm VM failure in the Envoy', () => {
    expect(envoy.logs()).not.toMatch(/\[critical\]\[wasm\]|Uncaught RuntimeError|VM failed/);
  });
});
