'use strict';
// PD and etcd tables through the pure core (dist/tidb-mesh-core.wasm), with hand-built wire
// bytes: the engine additions (keyspaceIdFilter, require on KeyspaceScope) and the fail-closed
// etcd response checks that a real etcd behind a correct request rewrite never provokes.
const { Core, S, frame, unframe } = require('../core/core');
const { V, L, msg, fields } = require('./pb');

const TENANTS = [{ name: 't1', keyspaceId: 1 }, { name: 't10', keyspaceId: 10 }, { name: 't100', keyspaceId: 100 }];
/** Status of a slash-rule etcd key without the leading '/' (assembly/proto/status.ts). */
const ETCD_KEY_FORMAT = S.ETCD_KEY_FORMAT;
// core: the default etcdNamespace "/keyspaces/tidb/{id}" (no-digit rule, etcd-nodigit.core.test.js);
// nameCore: "/keyspaces/tidb/{name}" with tenants named like their ids (slash rule);
// slashCore: "/keyspaces/tidb/{id}/" (trailing-slash mode).
let core, nameCore, slashCore;
beforeAll(() => {
  core = new Core();
  expect(core.configure({ tenants: TENANTS })).toBe('');
  nameCore = new Core();
  expect(nameCore.configure({ tenants: TENANTS.map((t) => ({ ...t, name: String(t.keyspaceId) })), etcdNamespace: '/keyspaces/tidb/{name}' })).toBe('');
  slashCore = new Core();
  expect(slashCore.configure({ tenants: TENANTS, etcdNamespace: '/keyspaces/tidb/{id}/' })).toBe('');
});
afterAll(() => { expect(core.traps).toBe(0); expect(nameCore.traps).toBe(0); expect(slashCore.traps).toBe(0); });

function run(ti, path, isRequest, payload, c = core) {
  const r = c.run(ti, path, isRequest, [frame(payload)]);
  return { status: r.status, filtered: r.filtered, out: r.status === S.OK ? unframe(r.out)[0] : null };
}

describe('GC scope (requests)', () => {
  const P = '/pdpb.PD/AdvanceTxnSafePoint';
  test('KeyspaceScope.keyspace_id 0xFFFFFFFF becomes the tenant id', () => {
    const r = run(1, P, true, msg(L(1, V(1, 7)), L(2, V(1, 0xffffffff)), V(3, 500)));
    expect(r.status).toBe(S.OK);
    const scope = fields(r.out).find(([n]) => n === 2)[2];
    expect(fields(scope)).toEqual([[1, 0, 10n]]);
  });
  test('no scope, an empty scope, or an API-v3 identity is DENIED', () => {
    expect(run(0, P, true, msg(V(3, 500))).status).toBe(S.DENIED);
    expect(run(0, P, true, msg(L(2), V(3, 500))).status).toBe(S.DENIED);
    expect(run(0, P, true, msg(L(2, L(2, V(1, 1), V(2, 1))), V(3, 500))).status).toBe(S.DENIED);
  });
  test('GetGCSafePointV2: keyspace_id(2) forced; missing is DENIED', () => {
    const r = run(0, '/pdpb.PD/GetGCSafePointV2', true, msg(V(2, 10)));
    expect(fields(r.out)).toEqual([[2, 0, 1n]]);
    expect(run(0, '/pdpb.PD/GetGCSafePointV2', true, msg(L(1, V(1, 7)))).status).toBe(S.DENIED);
  });
});

describe('keyspaceIdFilter (responses)', () => {
  test('GetAllGCSafePointV2: only the tenant\'s entry survives (missing id and API-v3 identity dropped)', () => {
    const entries = [
      L(2, V(1, 1), V(2, 1001)), L(2, V(1, 10), V(2, 1010)), L(2, V(2, 999)),
      L(2, L(3, V(1, 0), V(2, 10)), V(2, 1011)), L(2, V(1, 100), V(2, 1100)),
    ];
    const r = run(1, '/pdpb.PD/GetAllGCSafePointV2', false, msg(L(1, V(1, 7)), ...entries, V(3, 4)));
    expect(r.status).toBe(S.OK);
    const kept = fields(r.out).filter(([n]) => n === 2).map(([, , v]) => fields(v));
    expect(kept).toEqual([[[1, 0, 10n], [2, 0, 1010n]]]);
    expect(r.filtered).toBe(4);
  });
  test('GetAllKeyspacesGCStates: GCState.keyspace_scope.keyspace_id decides; the null keyspace is dropped', () => {
    const state = (id) => L(2, L(1, V(1, id)), V(2, 1), V(3, 50));
    const r = run(0, '/pdpb.PD/GetAllKeyspacesGCStates', false, msg(state(1), state(10), state(0xffffffff), L(3, L(1, 'barrier'))));
    expect(r.status).toBe(S.OK);
    expect(fields(r.out).filter(([n]) => n === 2)).toHaveLength(1);
    expect(fields(r.out).filter(([n]) => n === 3)).toHaveLength(1);
  });
  test('LoadKeyspace: another keyspace\'s meta is OUT_OF_KEYSPACE; the own one passes unchanged', () => {
    const own = msg(L(2, V(1, 1), L(2, 'ks1')));
    expect(run(0, '/keyspacepb.Keyspace/LoadKeyspace', false, own)).toMatchObject({ status: S.OK });
    expect(run(0, '/keyspacepb.Keyspace/LoadKeyspace', false, own).out.equals(own)).toBe(true);
    expect(run(0, '/keyspacepb.Keyspace/LoadKeyspace', false, msg(L(2, V(1, 10), L(2, 'ks10')))).status).toBe(S.OUT_OF_KEYSPACE);
    const all = run(0, '/keyspacepb.Keyspace/GetAllKeyspaces', false, msg(L(2, V(1, 1)), L(2, V(1, 10)), L(2, V(1, 100))));
    expect(fields(all.out).map(([, , v]) => fields(v))).toEqual([[[1, 0, 1n]]]);
  });
});

describe('etcd, slash rule (etcdNamespace "/keyspaces/tidb/{name}", tenants named "1", "10", "100")', () => {
  // Names can be prefixes of each other, so a {name} template keeps the rule that every key
  // starts with "/": ns‖"0/x" of tenant "1" would be tenant "10"'s "/x".
  const ns1 = '/keyspaces/tidb/1';
  const nrun = (ti, path, isRequest, payload) => run(ti, path, isRequest, payload, nameCore);
  const X = (...b) => Buffer.from(b);
  /** The fields of a rewritten request as {num: latin1 string}. */
  const F = (r) => { expect(r.status).toBe(S.OK); return Object.fromEntries(fields(r.out).map(([n, , v]) => [n, typeof v === 'bigint' ? v : v.toString('latin1')])); };
  const range = (key, end, ti = 0) => F(nrun(ti, '/etcdserverpb.KV/Range', true, end === undefined ? msg(L(1, key)) : msg(L(1, key), L(2, end))));

  test('keys are stored as ns‖key: "/tidb/x" of keyspace 1 is "/keyspaces/tidb/1/tidb/x"', () => {
    expect(F(nrun(0, '/etcdserverpb.KV/Put', true, msg(L(1, '/tidb/ddl/x'), L(2, 'v'))))).toEqual({ 1: `${ns1}/tidb/ddl/x`, 2: 'v' });
    expect(range('/tidb/server/minstartts/abc')).toEqual({ 1: '/keyspaces/tidb/1/tidb/server/minstartts/abc' });
    expect(range('/tidb/x', '', 1)).toEqual({ 1: '/keyspaces/tidb/10/tidb/x' });
  });

  test('a single key without the leading "/" is ETCD_KEY_FORMAT (Put, Range, DeleteRange, Watch create, Txn compare and nested ops)', () => {
    expect(nrun(0, '/etcdserverpb.KV/Put', true, msg(L(1, 'tidb/x'), L(2, 'v'))).status).toBe(ETCD_KEY_FORMAT);
    expect(nrun(0, '/etcdserverpb.KV/Put', true, msg(L(1, '0/tidb/x'))).status).toBe(ETCD_KEY_FORMAT);
    expect(nrun(0, '/etcdserverpb.KV/Range', true, msg(L(1, 'x'))).status).toBe(ETCD_KEY_FORMAT);
    expect(nrun(0, '/etcdserverpb.KV/Range', true, msg(L(1, '\0'), L(2, ''))).status).toBe(ETCD_KEY_FORMAT);
    expect(nrun(0, '/etcdserverpb.KV/DeleteRange', true, msg(L(1, '-b/x'))).status).toBe(ETCD_KEY_FORMAT);
    expect(nrun(0, '/etcdserverpb.Watch/Watch', true, msg(L(1, L(1, '0/x')))).status).toBe(ETCD_KEY_FORMAT);
    expect(nrun(0, '/etcdserverpb.KV/Txn', true, msg(L(1, V(1, 0), L(3, 'a')))).status).toBe(ETCD_KEY_FORMAT);
    const nestedPut = msg(L(2, L(2, L(1, 'b'), L(2, 'v'))));
    expect(nrun(0, '/etcdserverpb.KV/Txn', true, msg(L(1, L(3, '/a')), L(3, L(4, nestedPut)))).status).toBe(ETCD_KEY_FORMAT);
    // The empty key keeps its own status.
    expect(nrun(0, '/etcdserverpb.KV/Put', true, msg(L(1, ''), L(2, 'v'))).status).toBe(S.EMPTY_KEY);
    expect(nrun(0, '/etcdserverpb.KV/Range', true, msg(V(3, 1))).status).toBe(S.EMPTY_KEY);
  });

  test('"\\x00" end stops at ns‖"0" ("/keyspaces/tidb/10" < keyspace 10\'s first key "/keyspaces/tidb/10/")', () => {
    expect(range('/tidb/', '\0')).toEqual({ 1: `${ns1}/tidb/`, 2: '/keyspaces/tidb/10' });
    expect(range('/tidb/', '\0', 1)).toEqual({ 1: '/keyspaces/tidb/10/tidb/', 2: '/keyspaces/tidb/100' });
    expect(Buffer.compare(Buffer.from('/keyspaces/tidb/10'), Buffer.from('/keyspaces/tidb/10/'))).toBeLessThan(0);
    expect(Buffer.compare(Buffer.from('/keyspaces/tidb/100'), Buffer.from('/keyspaces/tidb/100/'))).toBeLessThan(0);
  });

  test('range starts below "/" (empty, or "\\x00" from WithPrefix("")/WithFromKey("")) begin at ns‖"/"', () => {
    expect(range('', '\0')).toEqual({ 1: `${ns1}/`, 2: '/keyspaces/tidb/10' });
    expect(range('\0', '\0')).toEqual({ 1: `${ns1}/`, 2: '/keyspaces/tidb/10' });
    expect(range('', '/tidb0')).toEqual({ 1: `${ns1}/`, 2: `${ns1}/tidb0` });
    expect(range('.', '/b')).toEqual({ 1: `${ns1}/`, 2: `${ns1}/b` });
  });

  test('range ends are ns‖end clamped to ns‖"0": "1" and "\\xff" cannot reach "/keyspaces/tidb/10…"', () => {
    expect(range('/tidb/', '/tidb0')).toEqual({ 1: `${ns1}/tidb/`, 2: `${ns1}/tidb0` });
    expect(range('/a', '1')).toEqual({ 1: `${ns1}/a`, 2: '/keyspaces/tidb/10' });
    expect(range('/a', X(0xff))).toEqual({ 1: `${ns1}/a`, 2: '/keyspaces/tidb/10' });
    expect(range('/a', X(0xff, 0xff, 0xff))).toEqual({ 1: `${ns1}/a`, 2: '/keyspaces/tidb/10' });
    expect(range('/a', '0')).toEqual({ 1: `${ns1}/a`, 2: '/keyspaces/tidb/10' });
    expect(range('/a', '0/x')).toEqual({ 1: `${ns1}/a`, 2: '/keyspaces/tidb/10' });
    // An end below the tenant's first key gives an empty range, never a foreign one.
    expect(range('/a', '.')).toEqual({ 1: `${ns1}/a`, 2: `${ns1}/` });
    // DeleteRange, Watch create and Txn compares take the same bounds.
    expect(F(nrun(0, '/etcdserverpb.KV/DeleteRange', true, msg(L(1, '/a'), L(2, '1'))))).toEqual({ 1: `${ns1}/a`, 2: '/keyspaces/tidb/10' });
    const w = F(nrun(0, '/etcdserverpb.Watch/Watch', true, msg(L(1, L(1, '\0'), L(2, X(0xff))))));
    expect(Object.fromEntries(fields(Buffer.from(w[1], 'latin1')).map(([n, , v]) => [n, v.toString()]))).toEqual({ 1: `${ns1}/`, 2: '/keyspaces/tidb/10' });
    const t = nrun(0, '/etcdserverpb.KV/Txn', true, msg(L(1, L(3, '/a'), L(64, '1'))));
    expect(t.status).toBe(S.OK);
    expect(Object.fromEntries(fields(fields(t.out)[0][2]).map(([n, , v]) => [n, v.toString()]))).toEqual({ 3: `${ns1}/a`, 64: '/keyspaces/tidb/10' });
  });

  test('a nested Txn is namespaced at every level', () => {
    const inner = msg(L(2, L(2, L(1, '/b'), L(2, 'v'))));
    const r = nrun(0, '/etcdserverpb.KV/Txn', true, msg(L(1, L(3, '/a'), L(64, '\0')), L(2, L(4, inner))));
    expect(r.status).toBe(S.OK);
    const s = r.out.toString('latin1');
    expect(s).toContain(`${ns1}/a`);
    expect(s).toContain(`${ns1}/b`);
    expect(s).toContain('/keyspaces/tidb/10');
  });

  test('responses: a key must start with ns‖"/"; keys of 10 and 100, the bare namespace and ns‖"x" are OUT_OF_KEYSPACE', () => {
    const kv = (k) => L(1, k);
    const own = nrun(0, '/etcdserverpb.KV/Range', false, msg(L(2, kv(`${ns1}/tidb/a`), L(5, 'v')), V(4, 1)));
    expect(own.status).toBe(S.OK);
    expect(fields(fields(own.out)[0][2])[0][2].toString()).toBe('/tidb/a');
    for (const foreign of ['/keyspaces/tidb/10/tidb/a', '/keyspaces/tidb/100/tidb/a', '/keyspaces/tidb/10', ns1, `${ns1}x`, `${ns1}0/a`, '/other']) {
      expect([foreign, nrun(0, '/etcdserverpb.KV/Range', false, msg(L(2, kv(`${ns1}/a`)), L(2, kv(foreign)))).status]).toEqual([foreign, S.OUT_OF_KEYSPACE]);
    }
    expect(nrun(1, '/etcdserverpb.KV/Range', false, msg(L(2, kv('/keyspaces/tidb/100/a')))).status).toBe(S.OUT_OF_KEYSPACE);
    expect(nrun(1, '/etcdserverpb.KV/Range', false, msg(L(2, kv('/keyspaces/tidb/1/a')))).status).toBe(S.OUT_OF_KEYSPACE);
    expect(nrun(0, '/etcdserverpb.KV/Put', false, msg(L(2, kv('/keyspaces/tidb/10/x')))).status).toBe(S.OUT_OF_KEYSPACE);
    expect(nrun(0, '/etcdserverpb.Watch/Watch', false, msg(V(2, 1), L(11, L(2, kv('/keyspaces/tidb/100/x'))))).status).toBe(S.OUT_OF_KEYSPACE);
    const ok = nrun(0, '/etcdserverpb.Watch/Watch', false, msg(V(2, 1), L(11, L(2, kv(`${ns1}/x`)), L(3, kv(`${ns1}/x`)))));
    expect(ok.status).toBe(S.OK);
    expect(ok.out.toString('latin1')).not.toContain('keyspaces');
    expect(ok.out.toString('latin1')).toContain('/x');
  });

  test('LeaseTimeToLive keeps only keys under ns‖"/" (stripped to "/…"); 10\'s, 100\'s and the bare namespace are dropped', () => {
    const r = nrun(0, '/etcdserverpb.Lease/LeaseTimeToLive', false, msg(V(2, 5),
      L(5, `${ns1}/mine`), L(5, '/keyspaces/tidb/10/theirs'), L(5, '/keyspaces/tidb/100/theirs'), L(5, ns1), L(5, `${ns1}x`)));
    expect(r.status).toBe(S.OK);
    expect(fields(r.out).filter(([n]) => n === 5).map(([, , v]) => v.toString())).toEqual(['/mine']);
    expect(r.filtered).toBe(4);
  });
});

describe('etcd, trailing-slash mode (etcdNamespace "/keyspaces/tidb/{id}/")', () => {
  const ns1 = '/keyspaces/tidb/1/';
  const srun = (ti, path, isRequest, payload) => run(ti, path, isRequest, payload, slashCore);
  test('Range "\\x00" end stops at the end of the namespace ("/keyspaces/tidb/10", which holds no key of keyspace 10)', () => {
    const r = srun(0, '/etcdserverpb.KV/Range', true, msg(L(1, '/tidb/'), L(2, '\0')));
    const f = Object.fromEntries(fields(r.out).map(([n, , v]) => [n, v.toString()]));
    expect(f).toEqual({ 1: `${ns1}/tidb/`, 2: '/keyspaces/tidb/10' });
    const e = srun(0, '/etcdserverpb.KV/Range', true, msg(L(2, '\0')));
    expect(Object.fromEntries(fields(e.out).map(([n, , v]) => [n, v.toString()]))).toEqual({ 1: ns1, 2: '/keyspaces/tidb/10' });
  });
  test('keys need no leading "/"; range ends are plain ns‖end (already below the namespace end)', () => {
    const p = srun(0, '/etcdserverpb.KV/Put', true, msg(L(1, 'tidb/x'), L(2, 'v')));
    expect(p.status).toBe(S.OK);
    expect(fields(p.out)[0][2].toString()).toBe(`${ns1}tidb/x`);
    const r = srun(0, '/etcdserverpb.KV/Range', true, msg(L(1, 'a'), L(2, Buffer.from([0xff]))));
    expect(fields(r.out).map(([, , v]) => v.toString('latin1'))).toEqual([`${ns1}a`, `${ns1}\xff`]);
  });
  test('empty key with empty range end is EMPTY_KEY (Range, DeleteRange, Watch create, Txn compare)', () => {
    expect(srun(0, '/etcdserverpb.KV/Range', true, msg(V(3, 1))).status).toBe(S.EMPTY_KEY);
    expect(srun(0, '/etcdserverpb.KV/DeleteRange', true, msg()).status).toBe(S.EMPTY_KEY);
    expect(srun(0, '/etcdserverpb.Watch/Watch', true, msg(L(1, V(6, 1)))).status).toBe(S.EMPTY_KEY);
    expect(srun(0, '/etcdserverpb.KV/Txn', true, msg(L(1, V(1, 0), L(7, 'x')))).status).toBe(S.EMPTY_KEY);
  });
  test('a nested Txn is namespaced at every level', () => {
    const inner = msg(L(2, L(2, L(1, '/b'), L(2, 'v'))));
    const r = srun(0, '/etcdserverpb.KV/Txn', true, msg(L(1, L(3, '/a'), L(64, '\0')), L(2, L(4, inner))));
    expect(r.status).toBe(S.OK);
    const s = r.out.toString('latin1');
    expect(s).toContain(`${ns1}/a`);
    expect(s).toContain(`${ns1}/b`);
    expect(s).toContain('/keyspaces/tidb/10');
  });
  test('responses fail closed: a foreign key in Range, Put prev_kv or a Watch event is OUT_OF_KEYSPACE', () => {
    const kv = (k) => L(1, k);
    expect(srun(0, '/etcdserverpb.KV/Range', false, msg(L(2, kv(`${ns1}/a`)), L(2, kv('/keyspaces/tidb/10//a')))).status).toBe(S.OUT_OF_KEYSPACE);
    expect(srun(0, '/etcdserverpb.KV/Put', false, msg(L(2, kv('/keyspaces/tidb/1')))).status).toBe(S.OUT_OF_KEYSPACE);
    expect(srun(0, '/etcdserverpb.Watch/Watch', false, msg(V(2, 1), L(11, L(2, kv('/other'))))).status).toBe(S.OUT_OF_KEYSPACE);
    const ok = srun(0, '/etcdserverpb.Watch/Watch', false, msg(V(2, 1), L(11, L(2, kv(`${ns1}/x`)), L(3, kv(`${ns1}/x`)))));
    expect(ok.status).toBe(S.OK);
    expect(ok.out.toString('latin1')).not.toContain('keyspaces');
  });
  test('LeaseTimeToLive keys of other namespaces are dropped, own keys stripped', () => {
    const r = srun(0, '/etcdserverpb.Lease/LeaseTimeToLive', false, msg(V(2, 5), L(5, `${ns1}/mine`), L(5, '/keyspaces/tidb/10//theirs'), L(5, '/keyspaces/tidb/1')));
    expect(r.status).toBe(S.OK);
    expect(fields(r.out).filter(([n]) => n === 5).map(([, , v]) => v.toString())).toEqual(['/mine']);
    expect(r.filtered).toBe(2);
  });
});
