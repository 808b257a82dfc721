'use strict';
// PD and etcd tables through the pure core (dist/tidb-mesh-core.wasm), with hand-built wire
// bytes: the engine additions (keyspaceIdFilter, require on KeyspaceScope) and the fail-closed
// etcd response checks that a real etcd behind a correct request rewrite never provokes.
const { Core, S, frame, unframe } = require('../core/core');

const TENANTS = [{ name: 't1', keyspaceId: 1 }, { name: 't10', keyspaceId: 10 }];
let core;
beforeAll(() => { core = new Core(); expect(core.configure({ tenants: TENANTS })).toBe(''); });
afterAll(() => expect(core.traps).toBe(0));

// ---- tiny protobuf writer -------------------------------------------------------------------
const varint = (n) => {
  const out = [];
  let v = BigInt(n);
  do { let b = Number(v & 0x7fn); v >>= 7n; if (v) b |= 0x80; out.push(b); } while (v);
  return Buffer.from(out);
};
const tag = (num, wt) => varint((num << 3) | wt);
const V = (num, n) => Buffer.concat([tag(num, 0), varint(n)]);
const L = (num, ...parts) => { const b = Buffer.concat(parts.map((p) => Buffer.from(p))); return Buffer.concat([tag(num, 2), varint(b.length), b]); };
const msg = (...fields) => Buffer.concat(fields);

/** Parses one level of a message into [num, wireType, value(Buffer|BigInt)]. */
function fields(buf) {
  const out = [];
  let i = 0;
  const rv = () => { let v = 0n, s = 0n, b; do { b = buf[i++]; v |= BigInt(b & 0x7f) << s; s += 7n; } while (b & 0x80); return v; };
  while (i < buf.length) {
    const t = Number(rv());
    const num = t >> 3, wt = t & 7;
    if (wt === 0) out.push([num, wt, rv()]);
    else if (wt === 2) { const n = Number(rv()); out.push([num, wt, buf.subarray(i, i + n)]); i += n; } else throw new Error(`wire type ${wt}`);
  }
  return out;
}

function run(ti, path, isRequest, payload) {
  const r = core.run(ti, path, isRequest, [frame(payload)]);
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

describe('etcd', () => {
  const ns1 = '/keyspaces/tidb/1/';
  test('Range "\\x00" end stops at the end of the namespace ("/keyspaces/tidb/10", which holds no key of keyspace 10)', () => {
    const r = run(0, '/etcdserverpb.KV/Range', true, msg(L(1, '/tidb/'), L(2, '\0')));
    const f = Object.fromEntries(fields(r.out).map(([n, , v]) => [n, v.toString()]));
    expect(f).toEqual({ 1: `${ns1}/tidb/`, 2: '/keyspaces/tidb/10' });
    expect(Buffer.compare(Buffer.from('/keyspaces/tidb/10'), Buffer.from('/keyspaces/tidb/10/'))).toBeLessThan(0);
  });
  test('empty key with empty range end is EMPTY_KEY (Range, DeleteRange, Watch create, Txn compare)', () => {
    expect(run(0, '/etcdserverpb.KV/Range', true, msg(V(3, 1))).status).toBe(S.EMPTY_KEY);
    expect(run(0, '/etcdserverpb.KV/DeleteRange', true, msg()).status).toBe(S.EMPTY_KEY);
    expect(run(0, '/etcdserverpb.Watch/Watch', true, msg(L(1, V(6, 1)))).status).toBe(S.EMPTY_KEY);
    expect(run(0, '/etcdserverpb.KV/Txn', true, msg(L(1, V(1, 0), L(7, 'x')))).status).toBe(S.EMPTY_KEY);
  });
  test('a nested Txn is namespaced at every level', () => {
    const inner = msg(L(2, L(2, L(1, '/b'), L(2, 'v'))));
    const r = run(0, '/etcdserverpb.KV/Txn', true, msg(L(1, L(3, '/a'), L(64, '\0')), L(2, L(4, inner))));
    expect(r.status).toBe(S.OK);
    const s = r.out.toString('latin1');
    expect(s).toContain(`${ns1}/a`);
    expect(s).toContain(`${ns1}/b`);
    expect(s).toContain('/keyspaces/tidb/10');
  });
  test('responses fail closed: a foreign key in Range, Put prev_kv or a Watch event is OUT_OF_KEYSPACE', () => {
    const kv = (k) => L(1, k);
    expect(run(0, '/etcdserverpb.KV/Range', false, msg(L(2, kv(`${ns1}/a`)), L(2, kv('/keyspaces/tidb/10//a')))).status).toBe(S.OUT_OF_KEYSPACE);
    expect(run(0, '/etcdserverpb.KV/Put', false, msg(L(2, kv('/keyspaces/tidb/1')))).status).toBe(S.OUT_OF_KEYSPACE);
    expect(run(0, '/etcdserverpb.Watch/Watch', false, msg(V(2, 1), L(11, L(2, kv('/other'))))).status).toBe(S.OUT_OF_KEYSPACE);
    const ok = run(0, '/etcdserverpb.Watch/Watch', false, msg(V(2, 1), L(11, L(2, kv(`${ns1}/x`)), L(3, kv(`${ns1}/x`)))));
    expect(ok.status).toBe(S.OK);
    expect(ok.out.toString('latin1')).not.toContain('keyspaces');
  });
  test('LeaseTimeToLive keys of other namespaces are dropped, own keys stripped', () => {
    const r = run(0, '/etcdserverpb.Lease/LeaseTimeToLive', false, msg(V(2, 5), L(5, `${ns1}/mine`), L(5, '/keyspaces/tidb/10//theirs'), L(5, '/keyspaces/tidb/1')));
    expect(r.status).toBe(S.OK);
    expect(fields(r.out).filter(([n]) => n === 5).map(([, , v]) => v.toString())).toEqual(['/mine']);
    expect(r.filtered).toBe(2);
  });
});
