'use strict';
// PD services shared by every tenant, through the pure core and the chunking matrix with
// hand-built wire bytes: meta storage (reads under "resource_group/" only; the keyUnder rule)
// and the resource manager (bytes untouched; newer kvproto's keyspace_id fields refused).
// Field numbers: kvproto proto/meta_storagepb.proto and proto/resource_manager.proto
// (schema/metastorage.ts, schema/resource.ts).
const { Core, S, frame, unframe } = require('../core/core');
const { runMatrix } = require('../core/chunking');
const { V, L, D, msg } = require('./pb');

let core;
beforeAll(() => { core = new Core(); expect(core.configure({ tenants: [{ name: 't1', keyspaceId: 1 }, { name: 't10', keyspaceId: 10 }] })).toBe(''); });
afterAll(() => expect(core.traps).toBe(0));

/** Runs one message (as two frames) through the matrix; returns the status and, on success, the first output frame. */
function run(path, isRequest, payload) {
  const r = runMatrix([frame(payload), frame(payload)], (chunks) => core.run(0, path, isRequest, chunks), { randomRuns: 2 });
  return { status: r.status, out: r.status === S.OK ? unframe(r.out)[0] : null };
}
/** The message must pass byte for byte. */
function same(path, isRequest, payload) {
  const r = run(path, isRequest, payload);
  expect(r.status).toBe(S.OK);
  expect(r.out.toString('hex')).toBe(payload.toString('hex'));
}

const MS = '/meta_storagepb.MetaStorage/';
const header = L(1, V(1, 7204187032519000000n), L(2, 'tidb'));
/** An unknown field, as a newer kvproto might add: must pass untouched. */
const unknown = msg(L(99, 'future'), V(100, 5));

describe('meta storage: Get and Watch inside "resource_group/" only', () => {
  test('Get "resource_group/controller" (TiDB loadServerConfig) passes byte for byte', () => {
    same(MS + 'Get', true, msg(header, L(2, 'resource_group/controller')));
    same(MS + 'Get', true, msg(header, L(2, 'resource_group/controller'), V(4, 1), V(5, 42), unknown));
  });

  test('prefix ranges inside the subtree, up to its end "resource_group0", pass', () => {
    same(MS + 'Get', true, msg(header, L(2, 'resource_group/settings'), L(3, 'resource_group/settingt')));
    same(MS + 'Get', true, msg(header, L(2, 'resource_group/'), L(3, 'resource_group0')));
    same(MS + 'Get', true, msg(L(2, 'resource_group/a'), L(3, '')));
    same(MS + 'Watch', true, msg(header, L(2, 'resource_group/settings'), L(3, 'resource_group/settingt'), V(4, 17), V(5, 1)));
    same(MS + 'Watch', true, msg(header, L(2, 'resource_group/controller'), V(4, 17)));
  });

  test.each([
    ['another tenant\'s etcd key', msg(header, L(2, '/keyspaces/tidb/10/tidb/ddl/x'))],
    ['a PD key', msg(L(2, '/pd/7204187032519000000/config'))],
    ['the empty key', msg(header, L(2, ''))],
    ['no key field at all (PD reads the empty key)', msg(header, V(4, 1))],
    ['"resource_group" without the slash', msg(L(2, 'resource_group'))],
    ['a range end "\\x00" (every key from here on)', msg(L(2, 'resource_group/x'), L(3, '\0'))],
    ['a range end past the subtree', msg(L(2, 'resource_group/x'), L(3, 'resource_group1'))],
    ['a range end far past the subtree', msg(L(2, 'resource_group/x'), L(3, 'z'))],
    ['a second key field outside (the last one wins in PD)', msg(L(2, 'resource_group/x'), L(2, '/keyspaces/tidb/10/x'))],
  ])('%s is KEY_NOT_ALLOWED (Get and Watch)', (_, payload) => {
    expect(run(MS + 'Get', true, payload).status).toBe(S.KEY_NOT_ALLOWED);
    expect(run(MS + 'Watch', true, payload).status).toBe(S.KEY_NOT_ALLOWED);
  });

  test('a key field with the wrong wire type is malformed', () => {
    expect(run(MS + 'Get', true, msg(V(2, 1))).status).toBe(S.WIRE_TYPE);
  });

  test('responses: keys under the prefix pass untouched; any other key fails the call', () => {
    const kv = (k) => L(2, L(1, k), V(2, 3), V(3, 4), V(4, 1), L(5, '{"name":"default"}'), V(6, 0));
    same(MS + 'Get', false, msg(L(1, V(1, 7), V(3, 99)), kv('resource_group/controller'), V(3, 0), V(4, 1)));
    same(MS + 'Get', false, msg(L(1, V(1, 7), V(3, 99))));
    expect(run(MS + 'Get', false, msg(kv('resource_group/a'), kv('/keyspaces/tidb/10/x'))).status).toBe(S.OUT_OF_KEYSPACE);
    const ev = (k, prev) => L(3, V(1, 0), L(2, L(1, k), L(5, 'v')), ...(prev ? [L(3, L(1, prev))] : []));
    same(MS + 'Watch', false, msg(L(1, V(3, 100)), V(2, 0), ev('resource_group/settings/default', 'resource_group/settings/default')));
    expect(run(MS + 'Watch', false, msg(ev('resource_group/settings/x', '/keyspaces/tidb/10/x'))).status).toBe(S.OUT_OF_KEYSPACE);
    expect(run(MS + 'Watch', false, msg(ev('/pd/x'))).status).toBe(S.OUT_OF_KEYSPACE);
  });

  test('Put and Delete are not opened (denied at the gate)', () => {
    expect(core.open(0, MS + 'Put', true)).toBe(-2);
    expect(core.open(0, MS + 'Delete', true)).toBe(-2);
  });
});

describe('resource manager: reads and token requests pass untouched', () => {
  const RM = '/resource_manager.ResourceManager/';
  test('GetResourceGroup("default") and ListResourceGroups pass byte for byte', () => {
    same(RM + 'GetResourceGroup', true, msg(L(1, 'default'), V(2, 1)));
    same(RM + 'ListResourceGroups', true, msg(V(1, 1)));
    same(RM + 'ListResourceGroups', true, msg());
  });

  test('AcquireTokenBuckets requests (RU items and consumption as doubles) pass byte for byte', () => {
    const item = L(1, V(1, 0), D(2, 12.5));
    const consumption = L(4, D(1, 1.5), D(2, 2.5), D(7, 3), D(8, 1));
    const req = msg(L(1, L(1, 'default'), L(2, item), consumption, V(5, 0)), V(2, 5000), V(3, 123456789));
    same(RM + 'AcquireTokenBuckets', true, msg(req));
  });

  test('responses pass byte for byte', () => {
    const group = L(2, L(1, 'default'), V(2, 1), L(3, L(1, L(1, V(1, 1000), V(2, 2000)), D(2, 5))), V(5, 8));
    same(RM + 'ListResourceGroups', false, msg(group, group));
    same(RM + 'GetResourceGroup', false, msg(group));
    same(RM + 'AcquireTokenBuckets', false, msg(L(2, L(1, 'default'), L(2, V(1, 0), L(2, D(2, 100)), V(3, 5000)))));
  });

  test('newer kvproto\'s keyspace_id fields (another keyspace\'s groups) are DENIED', () => {
    expect(run(RM + 'GetResourceGroup', true, msg(L(1, 'default'), L(3, V(1, 10)))).status).toBe(S.DENIED);
    expect(run(RM + 'ListResourceGroups', true, msg(V(1, 1), L(2, V(1, 10)))).status).toBe(S.DENIED);
    expect(run(RM + 'AcquireTokenBuckets', true, msg(L(1, L(1, 'default'), L(7, V(1, 10))))).status).toBe(S.DENIED);
  });

  test('Add/Modify/DeleteResourceGroup are not opened (denied at the gate)', () => {
    for (const m of ['AddResourceGroup', 'ModifyResourceGroup', 'DeleteResourceGroup']) expect([m, core.open(0, RM + m, true)]).toEqual([m, -2]);
  });
});

describe('keyless methods at the gate', () => {
  test('gRPC health Check and Watch are known (passed, not opened); List is not on the allowlist', () => {
    expect(core.open(0, '/grpc.health.v1.Health/Check', true)).toBe(-2);
    expect(core.open(0, '/grpc.health.v1.Health/Watch', true)).toBe(-2);
    expect(core.open(0, '/grpc.health.v1.Health/List', true)).toBe(-1);
  });
});
