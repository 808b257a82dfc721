'use strict';
// The PD-HTTP allowlist (assembly/pdhttp/routes.ts + plan.ts) through the pure module: which
// (method, path) passes, is emulated, rewritten, denied (403) or unknown (404), and the paths
// and query keys the filter sends to PD instead.
const { PdHttp, E, P, qe, qu, hex } = require('./pdhttp');

let m;
beforeAll(() => { m = new PdHttp(); });

describe('route table', () => {
  test.each([
    '/pd/api/v1/status', '/pd/api/v1/version', '/pd/api/v1/health', '/pd/api/v1/members', '/pd/api/v1/leader',
    '/pd/api/v1/min-resolved-ts', '/pd/api/v1/min-resolved-ts?scope=1,2', '/pd/api/v1/min-resolved-ts/1', '/pd/api/v1/stores',
    '/pd/api/v1/stores?state=0', '/pd/api/v1/store/1', '/pd/api/v1/config', '/pd/api/v1/config/replicate',
    '/pd/api/v1/config/schedule', '/pd/api/v1/cluster', '/pd/api/v1/cluster/status', '/pd/api/v2/ms/members/tso',
  ])('GET %s passes untouched', (p) => {
    const r = m.plan(0, 'GET', p);
    expect(r).toMatchObject({ status: 0, passes: true, path: null, request: false, response: false });
  });

  test('GET rule_group/tiflash is answered locally, its POST is denied', () => {
    const r = m.plan(0, 'GET', '/pd/api/v1/config/rule_group/tiflash');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ id: 'tiflash', index: 120, override: false });
    const w = m.plan(0, 'POST', '/pd/api/v1/config/rule_group');
    expect(w.status).toBe(403);
    expect(JSON.parse(w.body).error).toMatch(/^tidb-mesh: POST \/pd\/api\/v1\/config\/rule_group is denied: rule groups are cluster-wide/);
    expect(w.reason).toBe('denied_route');
  });

  test.each([
    ['POST', '/pd/api/v1/config'], ['POST', '/pd/api/v1/config/schedule'], ['POST', '/pd/api/v1/schedulers'],
    ['DELETE', '/pd/api/v1/schedulers/balance-leader-scheduler'], ['POST', '/pd/api/v1/scheduler-config/x'],
    ['POST', '/pd/api/v1/store/1/label'], ['DELETE', '/pd/api/v1/store/1'], ['POST', '/pd/api/v1/operators'],
    ['POST', '/pd/api/v1/admin/reset-ts'], ['POST', '/pd/api/v1/regions/accelerate-schedule/batch'],
    ['PATCH', '/pd/api/v2/keyspaces/ks/config'], ['POST', '/pd/api/v2/affinity-groups'],
    ['POST', '/pd/api/v1/hotspot/regions/history'], ['PUT', '/pd/api/v1/config'], ['DELETE', '/pd/api/v1/config/placement-rule/TiDB_DDL_1'],
    ['POST', '/pd/api/v1/config/rules'], ['HEAD', '/pd/api/v1/status'],
  ])('%s %s -> 403 with a JSON error', (method, p) => {
    const r = m.plan(0, method, p);
    expect(r.status).toBe(403);
    expect(r.reason).toBe('denied_route');
    expect(JSON.parse(r.body).error).toMatch(/^tidb-mesh: /);
  });

  test.each([
    '/pd/api/v1/regions', '/pd/api/v1/region/id/2', '/pd/api/v1/hotspot/regions/read', '/pd/api/v1/nosuch',
    '/pd/api/v1/status/', '/pd/api/v1//status', '/pd/api/v1/store/..', '/pd/api/v1/stores/../config/rules',
    '/pd/api/v1/config/rules', '/pd/api/v1/gc/safepoint', '/pd/api/v2/keyspaces', '/pd/api/v1/st%61tus',
  ])('GET %s -> 404 (fail closed)', (p) => {
    const r = m.plan(0, 'GET', p);
    expect(r.status).toBe(404);
    expect(r.reason).toBe('unknown_route');
    expect(JSON.parse(r.body).error).toMatch(/is not on the PD HTTP allowlist \(unknown routes are refused\)/);
  });

  test('messages never carry the query (keys)', () => {
    const r = m.plan(0, 'GET', '/pd/api/v1/nosuch?key=secret');
    expect(r.body).not.toMatch(/secret/);
  });
});

describe('query and path keys', () => {
  const q = (p, name) => new URLSearchParams(p.split('?')[1]).getAll(name);
  const param = (p, name) => { const raw = p.split('?')[1].split('&').find((kv) => kv.split('=')[0] === name); return raw === undefined ? undefined : qu(raw.split('=')[1]); };

  test('stats/region: start_key/end_key become E(P‖D(k)); other parameters stay', () => {
    const p = `/pd/api/v1/stats/region?start_key=${qe(E('t\x80\x00a'))}&end_key=${qe(E('t\x80\x00b'))}&count`;
    const r = m.plan(0, 'GET', p);
    expect(r).toMatchObject({ status: 0, request: false, response: false, keys: 2 });
    expect(hex(param(r.path, 'start_key'))).toBe(hex(E(P(1, 't\x80\x00a'))));
    expect(hex(param(r.path, 'end_key'))).toBe(hex(E(P(1, 't\x80\x00b'))));
    expect(r.path).toMatch(/&count(&|$)/);
    expect(r.path.startsWith('/pd/api/v1/stats/region?')).toBe(true);
  });

  test('stats/region: empty or absent keys become the keyspace bounds, never unbounded', () => {
    for (const p of ['/pd/api/v1/stats/region?start_key=&end_key=', '/pd/api/v1/stats/region', '/pd/api/v1/stats/region?use_hot&engine=tikv']) {
      const r = m.plan(1, 'GET', p);
      expect(hex(param(r.path, 'start_key'))).toBe(hex(E(P(2))));
      expect(hex(param(r.path, 'end_key'))).toBe(hex(E(P(3))));
    }
    const hot = m.plan(0, 'GET', '/pd/api/v1/stats/region?use_hot&start_key=&end_key=&engine=tikv');
    expect(hot.path).toMatch(/^\/pd\/api\/v1\/stats\/region\?use_hot&start_key=[^&]+&end_key=[^&]+&engine=tikv$/);
  });

  test('Go escaping round trip: spaces as +, every byte value', () => {
    const key = Buffer.from([...Array(256).keys()]);
    const r = m.plan(0, 'GET', `/pd/api/v1/stats/region?start_key=${qe(E(key))}&end_key=`);
    expect(hex(param(r.path, 'start_key'))).toBe(hex(E(Buffer.concat([P(1), key]))));
    const sp = m.plan(0, 'GET', `/pd/api/v1/stats/region?start_key=${qe(E('a b'))}`);
    expect(hex(param(sp.path, 'start_key'))).toBe(hex(E(P(1, 'a b'))));
  });

  test('every occurrence of a key parameter is rewritten, also with an escaped name', () => {
    const r = m.plan(0, 'GET', `/pd/api/v1/stats/region?start_key=${qe(E('a'))}&start%5Fkey=${qe(E('b'))}&end_key=`);
    expect(q(r.path, 'start_key').length).toBe(2);
    expect(r.path).not.toMatch(/start%5Fkey/);
  });

  test('malformed keys and queries -> 400', () => {
    for (const p of [
      '/pd/api/v1/stats/region?start_key=abc',             // not memcomparable
      '/pd/api/v1/stats/region?start_key=%zz',             // bad escape
      '/pd/api/v1/stats/region?start_key=%4',              // truncated escape
      '/pd/api/v1/stats/region?a=1;start_key=x',           // ';' (Go drops such pairs)
      `/pd/api/v1/regions/key?key=${qe(E('a').subarray(0, 5))}`,
      '/pd/api/v1/region/key/abc',
    ]) {
      const r = m.plan(0, 'GET', p);
      expect([p, r.status]).toEqual([p, 400]);
      expect(r.reason).toBe('malformed');
      expect(JSON.parse(r.body).error).toMatch(/^tidb-mesh: malformed request: /);
    }
  });

  test('regions/key: key and end_key rewritten, limit kept, regions rewritten on the way back', () => {
    const r = m.plan(0, 'GET', `/pd/api/v1/regions/key?key=${qe(E('t1'))}&end_key=${qe(E('t2'))}&limit=3`);
    expect(r).toMatchObject({ status: 0, response: true, request: false });
    expect(hex(param(r.path, 'key'))).toBe(hex(E(P(1, 't1'))));
    expect(hex(param(r.path, 'end_key'))).toBe(hex(E(P(1, 't2'))));
    expect(q(r.path, 'limit')).toEqual(['3']);
  });

  test('region/key/<key>: the path segment, raw or ?format=hex', () => {
    const r = m.plan(2, 'GET', `/pd/api/v1/region/key/${qe(E('t\x80'))}`);
    expect(r.path.startsWith('/pd/api/v1/region/key/')).toBe(true);
    expect(hex(qu(r.path.split('/').pop()))).toBe(hex(E(P(10, 't\x80'))));
    const h = m.plan(0, 'GET', `/pd/api/v1/region/key/${hex(E('k'))}?format=hex`);
    const seg = h.path.split('?')[0].split('/').pop();
    expect(seg).toBe(hex(E(P(1, 'k'))));
    expect(h.path.endsWith('?format=hex')).toBe(true);
  });
});

describe('id paths', () => {
  test('label rule by id: escaped tenant scope in front of the segment', () => {
    expect(m.plan(0, 'GET', '/pd/api/v1/config/region-label/rule/schema%2Ftest%2Ft1').path)
      .toBe('/pd/api/v1/config/region-label/rule/tidb-mesh%2F1%2Fschema%2Ftest%2Ft1');
    expect(m.plan(2, 'DELETE', '/pd/api/v1/config/region-label/rule/x').path)
      .toBe('/pd/api/v1/config/region-label/rule/tidb-mesh%2F10%2Fx');
  });

  test('placement: groups and rule ids scoped with tidb-mesh-<id>-, group tiflash kept', () => {
    expect(m.plan(0, 'DELETE', '/pd/api/v1/config/rule/tiflash/table-45-r').path).toBe('/pd/api/v1/config/rule/tiflash/tidb-mesh-1-table-45-r');
    expect(m.plan(1, 'DELETE', '/pd/api/v1/config/rule/TiDB_DDL_45/r1').path).toBe('/pd/api/v1/config/rule/tidb-mesh-2-TiDB_DDL_45/tidb-mesh-2-r1');
    expect(m.plan(0, 'GET', '/pd/api/v1/config/rules/group/tiflash')).toMatchObject({ path: '/pd/api/v1/config/rules/group/tiflash', response: true });
    expect(m.plan(0, 'GET', '/pd/api/v1/config/placement-rule/TiDB_DDL_45')).toMatchObject({ path: '/pd/api/v1/config/placement-rule/tidb-mesh-1-TiDB_DDL_45', response: true });
    expect(m.plan(0, 'GET', '/pd/api/v1/config/placement-rule/tiflash').status).toBe(403);
    expect(m.plan(0, 'DELETE', '/pd/api/v1/config/rule/tiflash/a%2F..%2Fb').status).toBe(400);
  });

  test('placement bundles need ?partial (without it PD replaces every group)', () => {
    expect(m.plan(0, 'POST', '/pd/api/v1/config/placement-rule?partial=true')).toMatchObject({ status: 0, request: true });
    expect(m.plan(0, 'POST', '/pd/api/v1/config/placement-rule?partial')).toMatchObject({ status: 0, request: true });
    const r = m.plan(0, 'POST', '/pd/api/v1/config/placement-rule');
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body).error).toMatch(/without \?partial=true replaces every placement group/);
  });

  test('label rule routes rewrite bodies: ids GET (TiDB) and POST, PATCH, POST rule, GET list', () => {
    expect(m.plan(0, 'GET', '/pd/api/v1/config/region-label/rules/ids')).toMatchObject({ request: true, response: true, path: null });
    expect(m.plan(0, 'POST', '/pd/api/v1/config/region-label/rules/ids')).toMatchObject({ request: true, response: true });
    expect(m.plan(0, 'PATCH', '/pd/api/v1/config/region-label/rules')).toMatchObject({ request: true, response: false });
    expect(m.plan(0, 'POST', '/pd/api/v1/config/region-label/rule')).toMatchObject({ request: true, response: false });
    expect(m.plan(0, 'GET', '/pd/api/v1/config/region-label/rules')).toMatchObject({ request: false, response: true });
    expect(m.plan(0, 'POST', '/pd/api/v1/config/rules/batch')).toMatchObject({ request: true, response: false });
    expect(m.plan(0, 'POST', '/pd/api/v1/config/rule')).toMatchObject({ request: true, response: false });
  });
});
