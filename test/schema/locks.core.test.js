'use strict';
// Keyless lock requests and the lock ledger (proto/keyless.ts, locks/ledger.ts) through the
// pure core, with hand-built wire bytes: a response that shows the tenant locks records them;
// a keyless KvResolveLock / KvPessimisticRollback of that transaction is forwarded in the keyed
// form with exactly those keys; anything the tenant was not shown goes out without effect
// (no start_version, no txn_infos: TiKV resolves nothing). Also the etcd key every tenant reads
// outside its namespace (client-go's GC saved safe point) and nothing else.
const { Core, S, frame, unframe } = require('../core/core');
const { V, L, msg, fields } = require('./pb');

const TENANTS = [{ name: 't1', keyspaceId: 1 }, { name: 't2', keyspaceId: 2 }];
const P1 = Buffer.from('78000001', 'hex');
const P2 = Buffer.from('78000002', 'hex');
const TIKV = '/tikvpb.Tikv/';
let core;
beforeAll(() => { core = new Core(); expect(core.configure({ tenants: TENANTS })).toBe(''); });
afterAll(() => expect(core.traps).toBe(0));
beforeEach(() => core.ledgerClear());

/** One direction of one call, keeping the ledger; returns { status, out, counters }. */
function run(ti, method, isRequest, payload) {
  const r = core.run(ti, method.startsWith('/') ? method : TIKV + method, isRequest, [frame(payload)], { keepLedger: true });
  return { status: r.status, out: r.status === S.OK ? unframe(r.out)[0] : null };
}
const K = (p, k) => Buffer.concat([p, Buffer.from(k)]);
const lockInfo = (p, key, ts) => msg(L(1, K(p, 'pk')), V(2, ts), L(3, K(p, key)), V(4, 3000), V(5, 5000));
const ctx = L(1, V(1, 9));

describe('lock ledger: keyless ResolveLock becomes keyed with the tenant\'s own keys', () => {
  test('a ScanLock answer records the locks; keyless ResolveLock of that txn carries exactly those keys', () => {
    // KvScanLock response: locks(3)[] of txn 700 on keys a, b (tenant 1's keyspace).
    const scan = run(0, 'KvScanLock', false, msg(L(3, lockInfo(P1, 'a', 700)), L(3, lockInfo(P1, 'b', 700)), L(3, lockInfo(P1, 'c', 701))));
    expect(scan.status).toBe(S.OK);
    const r = run(0, 'KvResolveLock', true, msg(ctx, V(2, 700), V(3, 750)));
    expect(r.status).toBe(S.OK);
    const f = fields(r.out);
    expect(f.filter(([n]) => n === 5).map(([, , v]) => v.toString('hex'))).toEqual([K(P1, 'a').toString('hex'), K(P1, 'b').toString('hex')]);
    expect(f.find(([n]) => n === 2)[2]).toBe(700n);
    expect(f.find(([n]) => n === 3)[2]).toBe(750n);
  });

  test('txn_infos with one transaction (TiDB\'s GC worker) becomes start_version/commit_version + keys', () => {
    run(0, 'KvScanLock', false, msg(L(3, lockInfo(P1, 'a', 800))));
    const r = run(0, 'KvResolveLock', true, msg(ctx, L(4, V(1, 800), V(2, 0))));
    const f = fields(r.out);
    expect(f.find(([n]) => n === 2)[2]).toBe(800n);
    expect(f.find(([n]) => n === 3)).toBeUndefined();
    expect(f.filter(([n]) => n === 4)).toHaveLength(0);
    expect(f.filter(([n]) => n === 5)).toHaveLength(1);
  });

  test('another tenant naming that start_ts: sent without effect (no transaction, no keys)', () => {
    run(0, 'KvScanLock', false, msg(L(3, lockInfo(P1, 'a', 900))));
    const r = run(1, 'KvResolveLock', true, msg(ctx, V(2, 900), V(3, 950)));
    expect(r.status).toBe(S.OK);
    const f = fields(r.out);
    expect(f.map(([n]) => n)).toEqual([1]);
    // Its Context carries its own keyspace, as every request does.
    expect(fields(f[0][2]).filter(([n]) => n === 32).map(([, , v]) => v)).toEqual([2n]);
  });

  test('several transactions in txn_infos cannot be keyed: no effect', () => {
    run(0, 'KvScanLock', false, msg(L(3, lockInfo(P1, 'a', 1000)), L(3, lockInfo(P1, 'b', 1001))));
    const r = run(0, 'KvResolveLock', true, msg(ctx, L(4, V(1, 1000)), L(4, V(1, 1001), V(2, 1002))));
    expect(fields(r.out).map(([n]) => n)).toEqual([1]);
  });

  test('the latest response wins: the keys of the region the client just read', () => {
    run(0, 'KvScanLock', false, msg(L(3, lockInfo(P1, 'a', 1100))));
    run(0, 'KvGet', false, msg(L(2, L(1, lockInfo(P1, 'z', 1100)))));
    const f = fields(run(0, 'KvResolveLock', true, msg(ctx, V(2, 1100))).out);
    expect(f.filter(([n]) => n === 5).map(([, , v]) => v.toString('hex'))).toEqual([K(P1, 'z').toString('hex')]);
  });

  test('a response refused (a foreign key) records nothing', () => {
    const bad = run(0, 'KvScanLock', false, msg(L(3, lockInfo(P1, 'a', 1200)), L(3, lockInfo(P2, 'x', 1200))));
    expect(bad.status).toBe(S.OUT_OF_KEYSPACE);
    expect(fields(run(0, 'KvResolveLock', true, msg(ctx, V(2, 1200))).out).map(([n]) => n)).toEqual([1]);
  });

  test('inside BatchCommands (Request.resolve_lock = 10) the same, and the stream goes on', () => {
    run(0, 'KvScanLock', false, msg(L(3, lockInfo(P1, 'a', 1300))));
    const sub = msg(ctx, V(2, 1300));
    const r = run(0, 'BatchCommands', true, msg(L(1, L(10, sub)), L(1, L(10, msg(ctx, V(2, 4242)))), L(2, V(1, 1))));
    expect(r.status).toBe(S.OK);
    const reqs = fields(r.out).filter(([n]) => n === 1).map(([, , v]) => fields(fields(v)[0][2]));
    expect(reqs[0].filter(([n]) => n === 5)).toHaveLength(1);
    expect(reqs[1].map(([n]) => n)).toEqual([1]);
  });

  test('keyless PessimisticRollback: keyed from the ledger (for_update_ts kept), else without start_version', () => {
    const pessimistic = msg(L(1, K(P1, 'pk')), V(2, 1400), L(3, K(P1, 'row')), V(6, 5), V(7, 1401));
    run(0, 'KvPessimisticLock', false, msg(L(2, L(1, pessimistic))));
    const f = fields(run(0, 'KVPessimisticRollback', true, msg(ctx, V(2, 1400), V(3, 99))).out);
    expect(f.find(([n]) => n === 2)[2]).toBe(1400n);
    expect(f.find(([n]) => n === 3)[2]).toBe(99n);
    expect(f.filter(([n]) => n === 4).map(([, , v]) => v.toString('hex'))).toEqual([K(P1, 'row').toString('hex')]);
    const none = fields(run(1, 'KVPessimisticRollback', true, msg(ctx, V(2, 1400), V(3, 99))).out);
    expect(none.map(([n]) => n)).toEqual([1, 3]);
  });

  test('keyed requests are untouched by the ledger: their keys are prefixed as always', () => {
    run(0, 'KvScanLock', false, msg(L(3, lockInfo(P1, 'a', 1500))));
    const f = fields(run(0, 'KvResolveLock', true, msg(ctx, V(2, 1500), L(5, 'mine'))).out);
    expect(f.filter(([n]) => n === 5).map(([, , v]) => v.toString('hex'))).toEqual([K(P1, 'mine').toString('hex')]);
  });
});

describe('etcd: the GC saved safe point is the one key read outside the namespace', () => {
  const KEY = '/tidb/store/gcworker/saved_safe_point';
  const req = (m, payload) => run(0, `/etcdserverpb.KV/${m}`, true, payload);
  test('a single-key Range reads the platform\'s key; the answer shows it as it is', () => {
    const r = req('Range', msg(L(1, KEY)));
    expect(fields(r.out)).toEqual([[1, 2, Buffer.from(KEY)]]);
    const resp = run(0, '/etcdserverpb.KV/Range', false, msg(L(1, V(1, 1)), L(2, L(1, KEY), L(5, '12345')), V(4, 1)));
    expect(resp.status).toBe(S.OK);
    expect(fields(fields(resp.out).find(([n]) => n === 2)[2])[0][2].toString()).toBe(KEY);
  });
  test('writes, deletes, prefixes and compares of it stay in the tenant\'s namespace', () => {
    const ns = '/keyspaces/tidb/1';
    expect(fields(req('Put', msg(L(1, KEY), L(2, '1'))).out)[0][2].toString()).toBe(ns + KEY);
    expect(fields(req('DeleteRange', msg(L(1, KEY))).out)[0][2].toString()).toBe(ns + KEY);
    expect(fields(req('Range', msg(L(1, KEY), L(2, KEY + '0'))).out)[0][2].toString()).toBe(ns + KEY);
    expect(fields(req('Range', msg(L(1, KEY + 'x'))).out)[0][2].toString()).toBe(ns + KEY + 'x');
    const txn = fields(req('Txn', msg(L(1, V(1, 0), L(3, KEY)))).out);
    expect(fields(txn[0][2]).find(([n]) => n === 3)[2].toString()).toBe(ns + KEY);
  });
});
