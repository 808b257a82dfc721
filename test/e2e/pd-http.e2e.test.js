// End-to-end: a REAL pd-server (realstack/build.sh pd-server; the test fails loudly when the
// binary is missing) behind real Envoys with the tidb-mesh filter, one per tenant (cluster1 ->
// keyspace 1, cluster2 -> keyspace 2, cluster9 -> no tenant), talked to over HTTP/1.1 the way
// TiDB's PD HTTP client does (JSON bodies, Accept-Encoding: gzip, GET .../rules/ids with a
// body). What PD stored and answers is checked directly on PD's port, bypassing Envoy.
//
// Regions reported to PD (decoded keys; P1 = 78000001, P2 = 78000002):
//   2 ["", P1)  10 [P1, P1"m")  11 [P1"m", P2"c")  12 [P2"c", "")
'use strict';

const fs = require('fs');
const path = require('path');
const { startPd, request } = require('../servers/real-pd-process');
const { startEnvoy, twoTenantConfig, tidbNode } = require('../harness/envoy');
const { E, D, P, qe, hex } = require('../pdhttp/pdhttp');

jest.setTimeout(60000);

const GO_HEADERS = { 'user-agent': 'Go-http-client/1.1', 'accept-encoding': 'gzip' };
let pd; let envoys = []; let t1; let t2; let t9;

/** An HTTP/1.1 call through an Envoy (as TiDB's client sends it) -> {status, headers, body, json}. */
async function call(envoy, method, p, body) {
  const r = await request(envoy.port, method, p, body, GO_HEADERS);
  try { r.json = JSON.parse(r.body); } catch { r.json = undefined; }
  return r;
}
async function direct(method, p, body) {
  const r = await pd.request(method, p, body);
  try { r.json = JSON.parse(r.body); } catch { r.json = undefined; }
  return r;
}
const labelRules = async () => (await direct('GET', '/pd/api/v1/config/region-label/rules')).json;
/** A counter of the filter from Envoy's admin /stats (proxy-wasm metrics live under wasmcustom.). */
const stat = async (envoy, name) => (await envoy.stats())[`wasmcustom.${name}`] || 0;
const showKey = (h) => (h === '' ? '' : D(Buffer.from(h, 'hex')).toString('latin1'));

/** Envoy for PD's port: HTTP/1.1 and gRPC on one listener, the upstream in the caller's protocol. */
function pdEnvoy(instance) {
  return startEnvoy({
    upstream: { port: pd.port },
    pluginConfig: twoTenantConfig(),
    node: tidbNode(instance),
    transformBootstrap: (b) => {
      const c = b.static_resources.clusters[0];
      c.typed_extension_protocol_options['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'] = {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        use_downstream_protocol_config: { http2_protocol_options: {} },
      };
      return b;
    },
  });
}

beforeAll(async () => {
  pd = await startPd();
  await pd.bootstrap();
  await pd.heartbeatRegions([
    { id: 2, start: Buffer.alloc(0), end: E(P(1)) },
    { id: 10, start: E(P(1)), end: E(P(1, 'm')) },
    { id: 11, start: E(P(1, 'm')), end: E(P(2, 'c')) },
    { id: 12, start: E(P(2, 'c')), end: Buffer.alloc(0) },
  ]);
  envoys = await Promise.all([pdEnvoy('cluster1'), pdEnvoy('cluster2'), pdEnvoy('cluster9')]);
  [t1, t2, t9] = envoys;
});

afterAll(async () => {
  const dir = path.join(__dirname, '..', '..', '.tmp', 'e2e-logs');
  fs.mkdirSync(dir, { recursive: true });
  ['cluster1', 'cluster2', 'nomatch'].forEach((n, i) => { if (envoys[i]) fs.writeFileSync(path.join(dir, `pd-http-${n}.log`), envoys[i].logs()); });
  if (pd) fs.writeFileSync(path.join(dir, 'pd-http-pd.log'), pd.logs());
  await Promise.all(envoys.filter(Boolean).map((e) => e.stop()));
  if (pd) await pd.stop();
});

describe('keyless reads pass', () => {
  test('status, stores, store/1, min-resolved-ts, members, cluster/status', async () => {
    for (const p of ['/pd/api/v1/status', '/pd/api/v1/stores', '/pd/api/v1/store/1', '/pd/api/v1/min-resolved-ts', '/pd/api/v1/min-resolved-ts?scope=1', '/pd/api/v1/members', '/pd/api/v1/cluster/status', '/pd/api/v1/config/replicate']) {
      const [a, b] = [await call(t1, 'GET', p), await direct('GET', p)];
      expect([p, a.status]).toEqual([p, 200]);
      expect(a.headers['content-type']).toBe(b.headers['content-type']);
      expect(Object.keys(a.json)).toEqual(Object.keys(b.json));
    }
    expect((await call(t1, 'GET', '/pd/api/v1/status')).body).toBe((await direct('GET', '/pd/api/v1/status')).body);
    expect((await call(t2, 'GET', '/pd/api/v1/stores')).json.stores[0].store.id).toBe(1);
  });
});

describe('the tiflash rule group is emulated', () => {
  test('GET rule_group/tiflash -> 200 from the filter; PD itself has no such group; the POST is denied', async () => {
    const r = await call(t1, 'GET', '/pd/api/v1/config/rule_group/tiflash');
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ id: 'tiflash', index: 120, override: false });
    expect((await direct('GET', '/pd/api/v1/config/rule_group/tiflash')).status).toBe(404);
    const w = await call(t1, 'POST', '/pd/api/v1/config/rule_group', { id: 'tiflash', index: 120, override: false });
    expect(w.status).toBe(403);
    expect(w.headers['content-type']).toBe('application/json');
    expect(w.json.error).toMatch(/^tidb-mesh: POST \/pd\/api\/v1\/config\/rule_group is denied/);
    expect((await direct('GET', '/pd/api/v1/config/rule_group/tiflash')).status).toBe(404);
  });
});

describe('region label rules are scoped per tenant', () => {
  const rule = (id, s, e) => ({ id, index: 0, labels: [{ key: 'merge_option', value: 'allow' }], rule_type: 'key-range', data: [{ start_key: hex(E(s)), end_key: hex(E(e)) }] });

  test('POST through tenant 1 is stored scoped and prefixed; tenant 1 reads it back stripped; tenant 2 sees nothing', async () => {
    const w = await call(t1, 'POST', '/pd/api/v1/config/region-label/rule', rule('schema/test/t1', 't\x80\x00\x00\x00\x00\x00\x00\x2a_r', 't\x80\x00\x00\x00\x00\x00\x00\x2b'));
    expect([w.status, w.json]).toEqual([200, 'Update region label rule successfully.']);
    const stored = (await labelRules()).find((x) => x.id === 'tidb-mesh/1/schema/test/t1');
    expect(stored).toBeDefined();
    expect(showKey(stored.data[0].start_key)).toBe(P(1, 't\x80\x00\x00\x00\x00\x00\x00\x2a_r').toString('latin1'));
    expect(showKey(stored.data[0].end_key)).toBe(P(1, 't\x80\x00\x00\x00\x00\x00\x00\x2b').toString('latin1'));
    expect((await labelRules()).some((x) => x.id === 'schema/test/t1')).toBe(false);

    const mine = await call(t1, 'GET', '/pd/api/v1/config/region-label/rules');
    expect(mine.status).toBe(200);
    expect(mine.json).toEqual([rule('schema/test/t1', 't\x80\x00\x00\x00\x00\x00\x00\x2a_r', 't\x80\x00\x00\x00\x00\x00\x00\x2b')]);
    // PD's own keyspaces/0 rule is in the cluster but not in any tenant's view.
    expect((await labelRules()).some((x) => x.id.startsWith('keyspaces/'))).toBe(true);
    expect((await call(t2, 'GET', '/pd/api/v1/config/region-label/rules')).json).toEqual([]);
  });

  test('GET .../rules/ids with a JSON body (what TiDB 8.5 sends for TRUNCATE/RENAME): only the own rule', async () => {
    const mine = await call(t1, 'GET', '/pd/api/v1/config/region-label/rules/ids', ['schema/test/t1', 'schema/test/none']);
    expect(mine.status).toBe(200);
    expect(mine.json.map((x) => x.id)).toEqual(['schema/test/t1']);
    expect(showKey(mine.json[0].data[0].start_key)).toBe('t\x80\x00\x00\x00\x00\x00\x00\x2a_r');
    const other = await call(t2, 'GET', '/pd/api/v1/config/region-label/rules/ids', ['schema/test/t1']);
    expect([other.status, other.json]).toEqual([200, []]);
  });

  test('tenant 2 cannot delete tenant 1\'s rule (PATCH deletes, DELETE by id)', async () => {
    const p = await call(t2, 'PATCH', '/pd/api/v1/config/region-label/rules', { sets: [], deletes: ['schema/test/t1'] });
    expect(p.status).toBe(200);
    const d = await call(t2, 'DELETE', '/pd/api/v1/config/region-label/rule/schema%2Ftest%2Ft1');
    expect(d.status).toBe(404);
    expect((await labelRules()).some((x) => x.id === 'tidb-mesh/1/schema/test/t1')).toBe(true);
  });

  test('PATCH through tenant 1 (RENAME: set new, delete old) acts on its own rules', async () => {
    const p = await call(t1, 'PATCH', '/pd/api/v1/config/region-label/rules', { sets: [rule('schema/test/t2', 't\x80\x01', 't\x80\x02')], deletes: ['schema/test/t1'] });
    expect([p.status, p.json]).toEqual([200, 'Update region label rules successfully.']);
    const ids = (await labelRules()).map((x) => x.id);
    expect(ids).toContain('tidb-mesh/1/schema/test/t2');
    expect(ids).not.toContain('tidb-mesh/1/schema/test/t1');
    const one = await call(t1, 'GET', '/pd/api/v1/config/region-label/rule/schema%2Ftest%2Ft2');
    expect(one.json).toEqual(rule('schema/test/t2', 't\x80\x01', 't\x80\x02'));
    expect((await call(t2, 'GET', '/pd/api/v1/config/region-label/rule/schema%2Ftest%2Ft2')).status).toBe(404);
  });

  test('a rule in tenant 1\'s scope whose keys lie in keyspace 2 is never shown: the answer is cut off', async () => {
    const planted = await direct('POST', '/pd/api/v1/config/region-label/rule', rule('tidb-mesh/1/planted', P(2, 'secret'), P(2, 'z')));
    expect(planted.status).toBe(200);
    const before = await stat(t1, 'tidb_mesh.tenant.cluster1.frames_rejected.out_of_keyspace');
    let failed = null;
    try {
      const r = await call(t1, 'GET', '/pd/api/v1/config/region-label/rules');
      failed = r.body.includes(hex(E(P(2, 'secret')))) ? 'leaked' : `status ${r.status} body ${r.body.slice(0, 200)}`;
    } catch (e) { failed = e.message; }
    expect(failed).not.toBe('leaked');
    expect(failed).toMatch(/aborted|socket hang up|ECONNRESET|status 502/);
    expect(await stat(t1, 'tidb_mesh.tenant.cluster1.frames_rejected.out_of_keyspace')).toBe(before + 1);
    await direct('DELETE', '/pd/api/v1/config/region-label/rule/tidb-mesh%2F1%2Fplanted');
  });

  test('a malformed rule is refused with 400 before PD sees it', async () => {
    const r = await call(t1, 'POST', '/pd/api/v1/config/region-label/rule', { id: 'x', labels: [{ key: 'a', value: 'b' }], rule_type: 'key-range', data: [{ start_key: 'zz', end_key: '' }] });
    expect(r.status).toBe(400);
    expect(r.json.error).toMatch(/^tidb-mesh: malformed request: "start_key" is not a hex key/);
    expect((await labelRules()).some((x) => x.id.endsWith('/x'))).toBe(false);
  });
});

describe('region keys in queries and answers', () => {
  const regionSpan = (r) => [r.id, showKey(r.start_key), showKey(r.end_key)];

  test('stats/region (ANALYZE): keys prefixed; PD answers as for the prefixed range', async () => {
    const q = (s, e) => `/pd/api/v1/stats/region?start_key=${qe(E(s))}&end_key=${qe(E(e))}`;
    const via1 = await call(t1, 'GET', q('a', 'z'));
    const direct1 = await direct('GET', q(P(1, 'a'), P(1, 'z')));
    expect(via1.status).toBe(200);
    expect(via1.json).toEqual(direct1.json);
    expect(via1.json.count).toBe(2);                  // regions 10 and 11
    const unprefixed = await direct('GET', q('a', 'z'));
    expect(unprefixed.json.count).toBe(4);            // ["a", "z") covers every keyspace: what PD counts without the filter
    const via2 = await call(t2, 'GET', `/pd/api/v1/stats/region?start_key=&end_key=`);
    expect(via2.json).toEqual((await direct('GET', q(P(2), P(3)))).json);
    expect(via2.json.count).toBe(2);                  // regions 11 and 12
  });

  test('regions/key: what tenant 1 and tenant 2 see of the same regions (clamped, others dropped)', async () => {
    const r1 = await call(t1, 'GET', `/pd/api/v1/regions/key?key=${qe(E(''))}&end_key=&limit=10`);
    expect(r1.status).toBe(200);
    expect(r1.json.count).toBe(2);
    expect(r1.json.regions.map(regionSpan)).toEqual([[10, '', 'm'], [11, 'm', '']]);
    const r2 = await call(t2, 'GET', '/pd/api/v1/regions/key?key=&end_key=&limit=10');
    expect(r2.json.regions.map(regionSpan)).toEqual([[11, '', 'c'], [12, 'c', '']]);
    // What PD itself holds for the same call in keyspace coordinates.
    const raw = await direct('GET', `/pd/api/v1/regions/key?key=${qe(E(P(1)))}&end_key=${qe(E(P(2)))}&limit=10`);
    expect(raw.json.regions.map((r) => r.id)).toEqual([10, 11]);
  });

  test('region/key/<key> (ADD INDEX estimate): the region of the tenant\'s key, in its coordinates', async () => {
    const r = await call(t1, 'GET', `/pd/api/v1/region/key/${qe(E('b'))}`);
    expect(r.status).toBe(200);
    expect(regionSpan(r.json)).toEqual([10, '', 'm']);
    const r2 = await call(t2, 'GET', `/pd/api/v1/region/key/${qe(E('b'))}`);
    expect(regionSpan(r2.json)).toEqual([11, '', 'c']);
    expect((await call(t1, 'GET', '/pd/api/v1/region/key/abc')).status).toBe(400);
  });
});

describe('placement and TiFlash rules (GC after DROP/TRUNCATE)', () => {
  const tiflashRule = (id, s, e) => ({ group_id: 'tiflash', id, index: 120, start_key: hex(E(s)), end_key: hex(E(e)), role: 'learner', count: 1 });

  test('rules/batch and rules/group/tiflash: ids scoped inside the shared group; DELETE only reaches the own rule', async () => {
    const add = await call(t1, 'POST', '/pd/api/v1/config/rules/batch', [{ ...tiflashRule('table-45-r', 't\x80\x2d', 't\x80\x2e'), action: 'add' }]);
    expect([add.status, add.body]).toEqual([200, '"Batch operations successfully."\n']);
    const stored = (await direct('GET', '/pd/api/v1/config/rules/group/tiflash')).json;
    expect(stored.map((r) => r.id)).toEqual(['tidb-mesh-1-table-45-r']);
    expect(showKey(stored[0].start_key)).toBe(P(1, 't\x80\x2d').toString('latin1'));
    const mine = await call(t1, 'GET', '/pd/api/v1/config/rules/group/tiflash');
    expect(mine.json.map((r) => [r.group_id, r.id, showKey(r.start_key), showKey(r.end_key)])).toEqual([['tiflash', 'table-45-r', 't\x80\x2d', 't\x80\x2e']]);
    expect((await call(t2, 'GET', '/pd/api/v1/config/rules/group/tiflash')).json).toEqual([]);
    await call(t2, 'DELETE', '/pd/api/v1/config/rule/tiflash/table-45-r');
    expect((await direct('GET', '/pd/api/v1/config/rules/group/tiflash')).json.map((r) => r.id)).toEqual(['tidb-mesh-1-table-45-r']);
    const del = await call(t1, 'POST', '/pd/api/v1/config/rules/batch', [{ group_id: 'tiflash', id: 'table-45-r', start_key: '', end_key: '', role: 'learner', count: 0, action: 'del', delete_by_id_prefix: false }]);
    expect(del.status).toBe(200);
    expect((await direct('GET', '/pd/api/v1/config/rules/group/tiflash')).json).toBeNull();
  });

  test('placement bundles with ?partial=true: the group is the tenant\'s; an empty bundle deletes only it', async () => {
    const bundle = (rules) => [{ group_id: 'TiDB_DDL_45', group_index: 40, group_override: true, rules }];
    const voter = { group_id: 'TiDB_DDL_45', id: 'table_rule_45_0', start_key: hex(E('t\x80\x2d')), end_key: hex(E('t\x80\x2e')), role: 'voter', count: 1 };
    const put = await call(t1, 'POST', '/pd/api/v1/config/placement-rule?partial=true', bundle([voter]));
    expect(put.status).toBe(200);
    const stored = (await direct('GET', '/pd/api/v1/config/placement-rule/tidb-mesh-1-TiDB_DDL_45')).json;
    expect(stored.rules.map((r) => [r.group_id, r.id, showKey(r.start_key)])).toEqual([['tidb-mesh-1-TiDB_DDL_45', 'tidb-mesh-1-table_rule_45_0', P(1, 't\x80\x2d').toString('latin1')]]);
    const mine = await call(t1, 'GET', '/pd/api/v1/config/placement-rule/TiDB_DDL_45');
    expect(mine.json).toMatchObject({ group_id: 'TiDB_DDL_45', rules: [{ group_id: 'TiDB_DDL_45', id: 'table_rule_45_0', start_key: hex(E('t\x80\x2d')) }] });
    // Tenant 2's GC of its own table 45 leaves tenant 1's group alone.
    expect((await call(t2, 'POST', '/pd/api/v1/config/placement-rule?partial=true', bundle(null))).status).toBe(200);
    expect((await direct('GET', '/pd/api/v1/config/placement-rule/tidb-mesh-1-TiDB_DDL_45')).json.rules.length).toBe(1);
    expect((await call(t1, 'POST', '/pd/api/v1/config/placement-rule?partial=true', bundle(null))).status).toBe(200);
    expect((await direct('GET', '/pd/api/v1/config/placement-rule/tidb-mesh-1-TiDB_DDL_45')).json.rules).toBeNull();
    // Without ?partial PD would replace every group of the cluster.
    const all = await call(t1, 'POST', '/pd/api/v1/config/placement-rule', bundle(null));
    expect(all.status).toBe(403);
    expect((await direct('GET', '/pd/api/v1/config/placement-rule/pd')).json.rules.length).toBe(1);
  });
});

describe('refusals are HTTP errors with a JSON body, counted in Envoy\'s stats', () => {
  test('writes that cannot be scoped -> 403; unknown routes -> 404; unknown callers -> 403', async () => {
    const before = await t1.stats();
    const w = await call(t1, 'POST', '/pd/api/v1/config', { 'schedule.max-merge-region-size': 1 });
    expect(w.status).toBe(403);
    expect(w.headers['content-type']).toBe('application/json');
    expect(w.json.error).toMatch(/^tidb-mesh: POST \/pd\/api\/v1\/config is denied: PD configuration is cluster-wide/);
    const s = await call(t1, 'POST', '/pd/api/v1/schedulers', { name: 'balance-range-scheduler' });
    expect(s.status).toBe(403);
    const u = await call(t1, 'GET', '/pd/api/v1/regions');
    expect(u.status).toBe(404);
    expect(u.json.error).toMatch(/^tidb-mesh: GET \/pd\/api\/v1\/regions is not on the PD HTTP allowlist \(unknown routes are refused\)/);
    const n = await call(t9, 'GET', '/pd/api/v1/status');
    expect([n.status, n.json]).toEqual([403, { error: 'tidb-mesh: caller matches no tenant' }]);
    const after = await t1.stats();
    const d = (k) => (after[`wasmcustom.${k}`] || 0) - (before[`wasmcustom.${k}`] || 0);
    expect(d('tidb_mesh.tenant.cluster1.calls_denied.denied_route')).toBe(2);
    expect(d('tidb_mesh.tenant.cluster1.calls_denied.unknown_route')).toBe(1);
    expect(await stat(t9, 'tidb_mesh.unknown.calls_denied.unknown_tenant')).toBeGreaterThanOrEqual(1);
    expect(after['wasmcustom.tidb_mesh.tenant.cluster1.calls_passed']).toBeGreaterThan(0);
    expect(after['wasmcustom.tidb_mesh.tenant.cluster1.calls_rewritten']).toBeGreaterThan(0);
    expect(after['wasmcustom.tidb_mesh.tenant.cluster1.calls_emulated']).toBeGreaterThan(0);
  });
});
