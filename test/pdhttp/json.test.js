'use strict';
// The PD-HTTP JSON rewriting (assembly/pdhttp/jsonwalk.ts with the shapes of shapes.ts) through
// the pure module: ids scoped and unscoped, hex keys prefixed and stripped, other tenants'
// entries dropped, every other byte kept, and fail-closed answers for malformed bodies.
const { PdHttp, E, P, hex, qe } = require('./pdhttp');

let m;
beforeAll(() => { m = new PdHttp(); });

const IDS = '/pd/api/v1/config/region-label/rules/ids';
const RULE = '/pd/api/v1/config/region-label/rule';
const RULES = '/pd/api/v1/config/region-label/rules';
const h = (k) => hex(E(k));
const rq = (tenant, method, p, body) => m.rewrite(tenant, method, p, true, body);
const rs = (tenant, method, p, body) => m.rewrite(tenant, method, p, false, body);

describe('region label rules: requests', () => {
  test('ids are scoped; whitespace and order kept byte for byte', () => {
    const body = '[ "schema/test/t1",\n  "schema/test/t2" ]';
    const r = rq(0, 'GET', IDS, body);
    expect(r.status).toBe(0);
    expect(r.out.toString()).toBe('[ "tidb-mesh/1/schema/test/t1",\n  "tidb-mesh/1/schema/test/t2" ]');
    expect(r.keys).toBe(2);
    expect(rq(2, 'POST', IDS, '[]').out.toString()).toBe('[]');
    // escapes inside an id stay as they are, behind the scope
    expect(rq(1, 'GET', IDS, '["a\\"b\\u00e9"]').out.toString()).toBe('["tidb-mesh/2/a\\"b\\u00e9"]');
  });

  test('a rule: id scoped, data keys E(P‖D(k)), everything else unchanged', () => {
    const rule = {
      id: 'schema/test/t1', index: 0, labels: [{ key: 'merge_option', value: 'allow', ttl: '1h' }], rule_type: 'key-range',
      data: [{ start_key: h('t\x80\x00\x00\x00\x00\x00\x00\x05'), end_key: h('t\x80\x00\x00\x00\x00\x00\x00\x06') }, { start_key: '', end_key: '' }],
    };
    const r = rq(0, 'POST', RULE, rule);
    expect(r.status).toBe(0);
    expect(r.json).toEqual({
      ...rule, id: 'tidb-mesh/1/schema/test/t1',
      data: [
        { start_key: h(P(1, 't\x80\x00\x00\x00\x00\x00\x00\x05')), end_key: h(P(1, 't\x80\x00\x00\x00\x00\x00\x00\x06')) },
        { start_key: h(P(1)), end_key: h(P(2)) },
      ],
    });
    expect(r.keys).toBe(5);
  });

  test('upper-case hex input is accepted', () => {
    const r = rq(0, 'POST', RULE, { id: 'x', labels: [], rule_type: 'key-range', data: [{ start_key: h('a').toUpperCase(), end_key: '' }] });
    expect(r.json.data[0].start_key).toBe(h(P(1, 'a')));
  });

  test('PATCH: sets and deletes are scoped', () => {
    const patch = { sets: [{ id: 'schema/d/t2', labels: [{ key: 'k', value: 'v' }], rule_type: 'key-range', data: [{ start_key: h('a'), end_key: h('b') }] }], deletes: ['schema/d/t1'] };
    const r = rq(1, 'PATCH', RULES, patch);
    expect(r.status).toBe(0);
    expect(r.json.sets[0].id).toBe('tidb-mesh/2/schema/d/t2');
    expect(r.json.sets[0].data[0]).toEqual({ start_key: h(P(2, 'a')), end_key: h(P(2, 'b')) });
    expect(r.json.deletes).toEqual(['tidb-mesh/2/schema/d/t1']);
    expect(rq(1, 'PATCH', RULES, '{"sets":null,"deletes":["a"]}').out.toString()).toBe('{"sets":null,"deletes":["tidb-mesh/2/a"]}');
  });

  test('Go reads member names case-insensitively: case variants are rewritten too', () => {
    const r = rq(0, 'POST', RULE, '{"ID":"a","Data":[{"START_KEY":"","End_Key":""}]}');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ ID: 'tidb-mesh/1/a', Data: [{ START_KEY: h(P(1)), End_Key: h(P(2)) }] });
  });

  test.each([
    ['missing id', '{"data":[{"start_key":"","end_key":""}]}', /missing member "id"/],
    ['missing data', '{"id":"a"}', /missing member "data"/],
    ['missing end_key', '{"id":"a","data":[{"start_key":""}]}', /missing member "end_key"/],
    ['null key (Go would read "")', '{"id":"a","data":[{"start_key":null,"end_key":""}]}', /"start_key" must be a string/],
    ['numeric id', '{"id":1,"data":[]}', /"id" must be a string/],
    ['data not an array', '{"id":"a","data":{"start_key":"","end_key":""}}', /"data" must be an array/],
    ['non-hex key', '{"id":"a","data":[{"start_key":"zz","end_key":""}]}', /not a hex key/],
    ['odd hex', '{"id":"a","data":[{"start_key":"abc","end_key":""}]}', /not a hex key/],
    ['not memcomparable', '{"id":"a","data":[{"start_key":"61","end_key":""}]}', /not a valid memcomparable key/],
    ['escaped key', '{"id":"a","data":[{"start_key":"\\u0030","end_key":""}]}', /plain hex string/],
    ['escaped member name', '{"\\u0069d":"a","id":"b","data":[]}', /member names must be plain ASCII/],
    ['Unicode-folded member name (ſ = s)', '{"id":"b","data":[{"ſtart_key":"00","start_key":"","end_key":""}]}', /member names must be plain ASCII/],
    ['trailing garbage', '{"id":"a","data":[]} x', /trailing characters/],
    ['two values', '{"id":"a","data":[]}{}', /trailing characters/],
    ['unterminated', '{"id":"a","data":[', /invalid JSON/],
    ['control character', '{"id":"a\n","data":[]}', /control character/],
    ['empty body', '', /empty body/],
    ['bad number', '{"id":"a","index":01,"data":[]}', /invalid JSON/],
  ])('%s -> 400', (_, body, why) => {
    const r = rq(0, 'POST', RULE, body);
    expect(r.httpStatus).toBe(400);
    expect(r.reason).toBe('malformed');
    expect(r.message).toMatch(/^malformed request: /);
    expect(r.message).toMatch(why);
  });

  test('deep nesting is refused, not a trap', () => {
    const deep = '{"id":"a","data":[],"x":' + '['.repeat(200) + ']'.repeat(200) + '}';
    expect(rq(0, 'POST', RULE, deep).httpStatus).toBe(400);
  });
});

describe('region label rules: responses', () => {
  // PD's own output shape (indented, as unrolled/render writes it), with PD's keyspace rule and
  // rules of tenants 1, 2 and 10.
  const pdRules = (rules) => JSON.stringify(rules, null, 2);
  const rule = (id, s, e) => ({ id, index: 0, labels: [{ key: 'k', value: 'v' }], rule_type: 'key-range', data: [{ start_key: hex(E(s)), end_key: hex(E(e)) }] });
  const all = [
    { id: 'keyspaces/0', index: 0, labels: [{ key: 'id', value: '0' }], rule_type: 'key-range', data: [{ start_key: '7200000000000000fb', end_key: '7200000100000000fb' }, { start_key: '7800000000000000fb', end_key: '7800000100000000fb' }] },
    rule('tidb-mesh/1/schema/test/t1', P(1, 'a'), P(1, 'b')),
    rule('tidb-mesh/2/schema/test/t1', P(2, 'a'), P(2, 'b')),
    rule('tidb-mesh/10/schema/test/t1', P(10, 'a'), P(10, 'b')),
    rule('tidb-mesh/1/whole', P(1), P(2)),
    rule('schema/test/t1', 'a', 'b'),
  ];

  test('GET rules: only the tenant\'s rules, ids and keys stripped; keyspace bounds become ""', () => {
    const r = rs(0, 'GET', RULES, pdRules(all));
    expect(r.status).toBe(0);
    expect(r.filtered).toBe(4);
    expect(r.json).toEqual([
      { ...rule('schema/test/t1', 'a', 'b') },
      { ...rule('whole', '', ''), data: [{ start_key: '', end_key: '' }] },
    ]);
    expect(rs(2, 'GET', RULES, pdRules(all)).json.map((x) => x.id)).toEqual(['schema/test/t1']);
    expect(rs(1, 'GET', RULES, '[]').out.toString()).toBe('[]');
    expect(rs(1, 'GET', RULES, 'null').out.toString()).toBe('null');
  });

  test('an indented answer stays indented; nothing but the rewritten strings changes', () => {
    const one = pdRules([rule('tidb-mesh/1/x', P(1, 'a'), P(1, 'b'))]);
    const r = rs(0, 'GET', IDS, one);
    const expected = one.replace('tidb-mesh/1/x', 'x').replace(hex(E(P(1, 'a'))), hex(E('a'))).replace(hex(E(P(1, 'b'))), hex(E('b')));
    expect(r.out.toString()).toBe(expected);
  });

  test('a rule of the tenant whose key lies outside its keyspace -> 502 out_of_keyspace', () => {
    for (const bad of [rule('tidb-mesh/1/x', P(2, 'a'), P(2, 'b')), rule('tidb-mesh/1/x', P(1, 'a'), P(3)), rule('tidb-mesh/1/x', 'a', P(1, 'b'))]) {
      const r = rs(0, 'GET', RULES, pdRules([bad]));
      expect(r.httpStatus).toBe(502);
      expect(r.reason).toBe('out_of_keyspace');
      expect(r.message).toMatch(/^response key outside the tenant keyspace/);
    }
    const unbounded = { ...rule('tidb-mesh/1/x', 'a', 'b'), data: [{ start_key: '', end_key: '' }] };
    expect(rs(0, 'GET', RULES, pdRules([unbounded])).httpStatus).toBe(502);
  });

  test('GET one rule: another tenant\'s rule is an error, not an empty answer', () => {
    const p = '/pd/api/v1/config/region-label/rule/x';
    expect(rs(0, 'GET', p, JSON.stringify(rule('tidb-mesh/1/x', P(1, 'a'), P(1, 'b')))).json.id).toBe('x');
    const r = rs(0, 'GET', p, JSON.stringify(rule('tidb-mesh/2/x', P(2, 'a'), P(2, 'b'))));
    expect(r.httpStatus).toBe(502);
    expect(r.reason).toBe('out_of_keyspace');
  });

  test('malformed responses -> 502 malformed', () => {
    for (const body of ['[', '{"id":"x"}', '[{"id":"tidb-mesh/1/x","data":[{"start_key":"zz","end_key":""}]}]', '"Update"']) {
      const r = rs(0, 'GET', RULES, body);
      expect([body, r.httpStatus]).toEqual([body, 502]);
      expect(r.message).toMatch(/^malformed response|^response/);
    }
  });
});

describe('regions', () => {
  const region = (id, s, e) => ({ id, start_key: s === '' ? '' : hex(E(s)).toUpperCase(), end_key: e === '' ? '' : hex(E(e)).toUpperCase(), epoch: { conf_ver: 1, version: 2 }, peers: [{ role_name: 'Voter', id: id + 1000, store_id: 1 }], approximate_size: 1 });
  const REGIONS = '/pd/api/v1/regions/key?key=&end_key=&limit=10';
  const ONE = `/pd/api/v1/region/key/${qe(E('a'))}`;

  test('regions/key: clamped, stripped (upper-case hex like PD), outside dropped, count fixed', () => {
    const body = JSON.stringify({ count: 5, regions: [region(2, '', P(1)), region(10, P(1), P(1, 'm')), region(11, P(1, 'm'), P(2, 'c')), region(12, P(2, 'c'), P(10)), region(13, P(10), '')] });
    const r = rs(0, 'GET', REGIONS, body);
    expect(r.status).toBe(0);
    expect(r.filtered).toBe(3);
    expect(r.json.count).toBe(2);
    expect(r.json.regions.map((x) => [x.id, x.start_key, x.end_key])).toEqual([[10, '', hex(E('m')).toUpperCase()], [11, hex(E('m')).toUpperCase(), '']]);
    expect(r.json.regions[0].peers).toEqual([{ role_name: 'Voter', id: 1010, store_id: 1 }]);
    const r2 = rs(1, 'GET', REGIONS, body);
    expect(r2.json.regions.map((x) => [x.id, x.start_key, x.end_key])).toEqual([[11, '', hex(E('c')).toUpperCase()], [12, hex(E('c')).toUpperCase(), '']]);
    expect(r2.json.count).toBe(2);
  });

  test('a region spanning everything is clamped to ["", "")', () => {
    const r = rs(2, 'GET', ONE, JSON.stringify(region(2, '', '')));
    expect([r.json.start_key, r.json.end_key]).toEqual(['', '']);
  });

  test('region/key: a region outside the keyspace is an error; null stays null', () => {
    expect(rs(0, 'GET', ONE, JSON.stringify(region(12, P(2, 'c'), P(3)))).httpStatus).toBe(502);
    expect(rs(0, 'GET', ONE, JSON.stringify(region(2, '', P(1)))).httpStatus).toBe(502);
    expect(rs(0, 'GET', ONE, 'null').out.toString()).toBe('null');
    expect(rs(0, 'GET', ONE, '{"id":1,"start_key":"00","end_key":""}').httpStatus).toBe(502);
  });
});

describe('placement and TiFlash rules', () => {
  const BUNDLES = '/pd/api/v1/config/placement-rule?partial=true';
  const rule = (group, id, s, e) => ({ group_id: group, id, start_key: s, end_key: e, role: 'voter', count: 1 });

  test('GC delete of placement groups (empty bundles): group scoped', () => {
    const r = rq(0, 'POST', BUNDLES, '[{"group_id":"TiDB_DDL_108","group_index":0,"group_override":false,"rules":null}]');
    expect(r.out.toString()).toBe('[{"group_id":"tidb-mesh-1-TiDB_DDL_108","group_index":0,"group_override":false,"rules":null}]');
  });

  test('bundles with rules: group and rule ids scoped, keys prefixed', () => {
    const b = [{ group_id: 'TiDB_DDL_5', group_index: 40, group_override: true, rules: [rule('TiDB_DDL_5', 'table_rule_5_0', h('t\x80\x05'), h('t\x80\x06')), { id: 'r2', start_key: '', end_key: '', role: 'voter', count: 1 }] }];
    const r = rq(1, 'POST', BUNDLES, b);
    expect(r.status).toBe(0);
    expect(r.json).toEqual([{
      group_id: 'tidb-mesh-2-TiDB_DDL_5', group_index: 40, group_override: true,
      rules: [rule('tidb-mesh-2-TiDB_DDL_5', 'tidb-mesh-2-table_rule_5_0', h(P(2, 't\x80\x05')), h(P(2, 't\x80\x06'))),
        { id: 'tidb-mesh-2-r2', start_key: h(P(2)), end_key: h(P(3)), role: 'voter', count: 1 }],
    }]);
  });

  test('a bundle for group tiflash -> 403 (it would replace every tenant\'s TiFlash rules)', () => {
    const r = rq(0, 'POST', BUNDLES, '[{"group_id":"tiflash","rules":[]}]');
    expect(r.httpStatus).toBe(403);
    expect(r.reason).toBe('denied_route');
    expect(r.message).toMatch(/group "tiflash"/);
  });

  test('rules/batch: TiFlash deletes keep group tiflash and scope the id; keys required', () => {
    const ops = [{ group_id: 'tiflash', id: 'table-45-r', start_key: '', end_key: '', role: 'learner', count: 0, action: 'del', delete_by_id_prefix: false }];
    const r = rq(0, 'POST', '/pd/api/v1/config/rules/batch', ops);
    expect(r.json).toEqual([{ ...ops[0], id: 'tidb-mesh-1-table-45-r', start_key: h(P(1)), end_key: h(P(2)) }]);
    const noKeys = rq(0, 'POST', '/pd/api/v1/config/rules/batch', [{ group_id: 'tiflash', id: 'x', action: 'del' }]);
    expect(noKeys.httpStatus).toBe(400);
    const noGroup = rq(0, 'POST', '/pd/api/v1/config/rule', { id: 'x', start_key: '', end_key: '' });
    expect(noGroup.message).toMatch(/missing member "group_id"/);
  });

  test('GET rules/group/tiflash: only the tenant\'s rules, ids and keys stripped', () => {
    const rules = [rule('tiflash', 'tidb-mesh-1-table-45-r', h(P(1, 'a')), h(P(1, 'b'))), rule('tiflash', 'tidb-mesh-2-table-45-r', h(P(2, 'a')), h(P(2, 'b'))), rule('tiflash', 'table-45-r', h('a'), h('b'))];
    const r = rs(0, 'GET', '/pd/api/v1/config/rules/group/tiflash', JSON.stringify(rules, null, 2));
    expect(r.json).toEqual([rule('tiflash', 'table-45-r', h('a'), h('b'))]);
    expect(r.filtered).toBe(2);
    expect(rs(0, 'GET', '/pd/api/v1/config/rules/group/tiflash', 'null').out.toString()).toBe('null');
  });

  test('GET placement-rule/<group>: the bundle stripped; a foreign one is an error', () => {
    const bundle = { group_id: 'tidb-mesh-1-TiDB_DDL_5', group_index: 0, group_override: false, rules: [rule('tidb-mesh-1-TiDB_DDL_5', 'tidb-mesh-1-r', h(P(1, 'a')), h(P(1, 'b')))] };
    const r = rs(0, 'GET', '/pd/api/v1/config/placement-rule/TiDB_DDL_5', JSON.stringify(bundle));
    expect(r.json).toEqual({ group_id: 'TiDB_DDL_5', group_index: 0, group_override: false, rules: [rule('TiDB_DDL_5', 'r', h('a'), h('b'))] });
    const foreign = rs(0, 'GET', '/pd/api/v1/config/placement-rule/TiDB_DDL_5', JSON.stringify({ ...bundle, group_id: 'tidb-mesh-2-TiDB_DDL_5' }));
    expect(foreign.httpStatus).toBe(502);
  });
});
