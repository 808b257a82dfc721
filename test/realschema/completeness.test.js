'use strict';
// The completeness check (completeness.js) against the pinned kvproto, pdpb and etcd schemas
// (schema/upstream-protos.js, fetched by scripts/fetch-schemas.js): zero unclassified fields,
// zero table rules that disagree with the classification, zero rules without a real field.
// Then the check itself is shown to catch what it must: the two fields the old tables missed,
// a field added to the schema, a dropped classification, a wrong rule, flag, range kind or key
// kind.
const protobuf = require('protobufjs');
const { loadAll, loadSet } = require('./load');
const { loadTables, C } = require('./tables');
const { Checker } = require('./completeness');
const { FIELDS } = require('../../schema/fields');
const FORWARD = require('../../schema/fields/forward');
const { MODULES } = require('../../schema/upstream-protos');

/** Runs the check over every set; returns the violations. */
function check(tables = loadTables(), fields = FIELDS, forward = FORWARD) {
  const c = new Checker(tables, fields);
  for (const s of loadAll()) c.checkSet(s);
  return { violations: c.finish(forward), checker: c };
}

const clone = (x) => JSON.parse(JSON.stringify(x));
const descNamed = (t, name) => t.descs.find((d) => d.name === name);
const methodOf = (t, p) => t.methods.find((m) => m.path === p);

test('the pinned schemas are the ones fetched (versions and go.sum hashes)', () => {
  for (const s of loadAll()) {
    const kv = MODULES.find((m) => m.version === s.kvproto.version);
    expect(kv).toBeDefined();
    expect(s.kvproto.dir).toContain(kv.version);
  }
  expect(loadSet('tidb').kvproto.version).toBe('v0.0.0-20250224053625-b6a98c6bf02d');
  expect(loadSet('tidb').etcd.version).toBe('v3.5.12');
});

test('every allowlisted field of every pinned schema is classified and the tables agree', () => {
  const { violations, checker } = check();
  expect(violations).toEqual([]);
  // It walked something real: thousands of fields, every rewritten method in some set.
  expect(checker.stats.fields).toBeGreaterThan(10000);
  const checked = [...checker.found.entries()].filter(([, sets]) => sets.length > 0).map(([p]) => p);
  expect(checked.length).toBeGreaterThan(100);
});

describe('the check catches', () => {
  test('the old RawBatchPut table: pairs[].error (a KeyError in a request KvPair) unwalked', () => {
    const t = clone(loadTables());
    const kvPair = t.descs.find((d) => d.name === 'kvrpcpb.KvPair' && d.rules.some((r) => r.act === C.ACT_DENY));
    kvPair.rules = kvPair.rules.filter((r) => r.act !== C.ACT_DENY);
    const v = check(t).violations;
    expect(v).toContain('/tikvpb.Tikv/RawBatchPut request: kvrpcpb.RawBatchPutRequest.pairs.error: classified refuse (a KeyError inside a request KvPair (RawBatchPut.pairs) is meaningless to TiKV and its keys would pass unprefixed) but the table has no rule [kvrpcpb.KvPair]');
    expect(v.some((x) => x.startsWith('/tikvpb.Tikv/BatchCommands request: tikvpb.BatchCommandsRequest.requests.RawBatchPut.pairs.error'))).toBe(true);
  });

  test('the old GetHealthFeedback table: the response region_error copied unchanged', () => {
    const t = clone(loadTables());
    const noKeys = descNamed(t, '(no keys)');
    methodOf(t, '/tikvpb.Tikv/GetHealthFeedback').response = noKeys.id;
    const v = check(t).violations;
    expect(v).toContain('/tikvpb.Tikv/GetHealthFeedback response: kvrpcpb.GetHealthFeedbackResponse.region_error: holds errorpb.KeyNotInRegion.key (key) but the table copies it unchanged [(no keys)]');
  });

  test('a field added to the schema (kvproto grows): unclassified, named by path', () => {
    const t = loadSet('tidb').root.lookupType('kvrpcpb.GetRequest');
    const f = new protobuf.Field('new_key', 99, 'bytes');
    t.add(f);
    try {
      const v = check().violations;
      expect(v).toContain('/tikvpb.Tikv/KvGet request: kvrpcpb.GetRequest.new_key: unclassified bytes field (kvrpcpb.GetRequest.new_key = 99)');
    } finally {
      t.remove(f);
    }
  });

  test('a classification entry dropped', () => {
    const fields = { ...FIELDS };
    delete fields['errorpb.KeyNotInRegion.key'];
    const v = check(loadTables(), fields).violations;
    expect(v.some((x) => x.endsWith('region_error.key_not_in_region.key: unclassified bytes field (errorpb.KeyNotInRegion.key = 1) with table rule KEY'))).toBe(true);
  });

  test('a classification entry that names no reachable field', () => {
    const v = check(loadTables(), { ...FIELDS, 'kvrpcpb.GetRequest.no_such_field': FIELDS['kvrpcpb.GetRequest.key'] }).violations;
    expect(v).toContain('schema/fields: kvrpcpb.GetRequest.no_such_field is not reached by any allowlisted method in any pinned schema');
  });

  test('a key rule removed, a filter flag dropped, a range kind or a key kind changed', () => {
    let t = clone(loadTables());
    const get = t.descs[methodOf(t, '/tikvpb.Tikv/KvGet').request];
    get.rules = get.rules.filter((r) => r.num !== 2);
    expect(check(t).violations.some((x) => x.startsWith('/tikvpb.Tikv/KvGet request: kvrpcpb.GetRequest.key: classified key but the table has no rule'))).toBe(true);

    t = clone(loadTables());
    const scan = t.descs[methodOf(t, '/tikvpb.Tikv/PhysicalScanLock').response];
    for (const r of scan.rules) r.flags = 0;
    expect(check(t).violations.some((x) => x.includes('PhysicalScanLockResponse.locks: classified filtered but the table fails the call'))).toBe(true);

    t = clone(loadTables());
    descNamed(t, 'kvrpcpb.ScanRequest').rangeKind = C.RANGE_REGION;
    expect(check(t).violations.some((x) => x.includes('kvrpcpb.ScanRequest.start_key: classified raw range start but the table\'s range kind is REGION'))).toBe(true);

    t = clone(loadTables());
    t.descs[methodOf(t, '/tikvpb.Tikv/RawGet').request].kind = C.KIND_TXN;
    expect(check(t).violations.some((x) => x.startsWith('/tikvpb.Tikv/RawGet request: kvrpcpb.RawGetRequest.key: key kind TXN, the method uses RAW'))).toBe(true);
  });

  test('a value field with a key rule, and a rule for a field no schema has', () => {
    const t = clone(loadTables());
    const get = t.descs[methodOf(t, '/tikvpb.Tikv/KvGet').response];
    get.rules.push({ num: 3, act: C.ACT_KEY, flags: 0, child: -1 }, { num: 77, act: C.ACT_KEY, flags: 0, child: -1 });
    const v = check(t).violations;
    expect(v.some((x) => x.includes('kvrpcpb.GetResponse.value: classified value but the table has KEY'))).toBe(true);
    expect(v.some((x) => /rule KEY\(77\): no such field in any pinned schema/.test(x))).toBe(true);
  });

  test('a method that passes untouched but carries keys', () => {
    const t = clone(loadTables());
    methodOf(t, '/tikvpb.Tikv/KvGet').policy = C.POLICY_PASS;
    expect(check(t).violations).toContain('/tikvpb.Tikv/KvGet request: kvrpcpb.GetRequest.key: key field in a method that passes untouched');
  });

  test('a rewritten method in no pinned schema, and a stale forward entry', () => {
    const t = clone(loadTables());
    t.methods.push({ ...methodOf(t, '/tikvpb.Tikv/KvGet'), path: '/tikvpb.Tikv/KvGetNew' });
    const v = check(t, FIELDS, { RULES: { ...FORWARD.RULES, 'kvrpcpb.GetRequest.2': 'not forward at all' }, METHODS: FORWARD.METHODS }).violations;
    expect(v).toContain('/tikvpb.Tikv/KvGetNew: on the allowlist but in no pinned schema');
    expect(v.some((x) => /kvrpcpb.GetRequest rule KEY\(2\): listed in schema\/fields\/forward.js but a pinned schema has the field/.test(x))).toBe(true);
  });
});
