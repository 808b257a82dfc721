'use strict';
// The etcd no-digit rule (the default etcdNamespace "/keyspaces/tidb/{id}") through the pure
// core and the chunking matrix, with hand-built wire bytes. Keys are concatenated onto the
// namespace as TiDB's own keyspace mode does ("/keyspaces/tidb/1" + "tidb/autoid/leader"); a key
// starting with a digit is refused, since "/keyspaces/tidb/1" + "0/x" is keyspace 10's "/x".
// Keyspace 1's key space is ["/keyspaces/tidb/1\x00", "/keyspaces/tidb/10") and
// ["/keyspaces/tidb/1:", "/keyspaces/tidb/2"); the gap between holds keyspaces 10-19, 100-199...
const { Core, S, frame, unframe } = require('../core/core');
const { runMatrix, prng } = require('../core/chunking');
const { V, L, msg, fields } = require('./pb');

const IDS = [1, 10, 100, 19, 2];
const TENANTS = IDS.map((id) => ({ name: `t${id}`, keyspaceId: id }));
const NS = (id) => `/keyspaces/tidb/${id}`;
const B = (s) => Buffer.from(s, 'latin1');

let core;
beforeAll(() => { core = new Core(); expect(core.configure({ tenants: TENANTS })).toBe(''); });
afterAll(() => expect(core.traps).toBe(0));

/** One message through the chunking matrix (two frames: the message twice). */
function run(ti, path, isRequest, payload) {
  const r = runMatrix([frame(payload), frame(payload)], (chunks) => core.run(ti, path, isRequest, chunks), { randomRuns: 2 });
  if (r.status !== S.OK) return { status: r.status, out: null, filtered: r.filtered };
  const [a, b] = unframe(r.out);
  expect(a.equals(b)).toBe(true);
  return { status: r.status, out: a, filtered: r.filtered / 2 };
}
/** The fields of a rewritten message as {num: latin1 string}. */
const F = (r) => { expect(r.status).toBe(S.OK); return Object.fromEntries(fields(r.out).map(([n, , v]) => [n, typeof v === 'bigint' ? v : v.toString('latin1')])); };
const range = (key, end, ti = 0) => F(run(ti, '/etcdserverpb.KV/Range', true, end === undefined ? msg(L(1, B(key))) : msg(L(1, B(key)), L(2, B(end)))));
const rangeStatus = (key, end, ti = 0) => run(ti, '/etcdserverpb.KV/Range', true, msg(L(1, B(key)), L(2, B(end)))).status;

/** The JS model of a tenant's key space (keyspace/keyspace.ts ETCD_RULE_NO_DIGIT). */
function owns(id, k) {
  const ns = B(NS(id));
  return k.length > ns.length && k.subarray(0, ns.length).equals(ns) && !(k[ns.length] >= 0x30 && k[ns.length] <= 0x39);
}

describe('single keys: ns‖key, never refused unless they start with a digit', () => {
  test('"tidb/autoid/leader" (TiDB\'s autoid service, no leading "/") is "/keyspaces/tidb/1tidb/autoid/leader"', () => {
    expect(F(run(0, '/etcdserverpb.KV/Put', true, msg(L(1, 'tidb/autoid/leader'), L(2, 'v'))))).toEqual({ 1: '/keyspaces/tidb/1tidb/autoid/leader', 2: 'v' });
    expect(range('tidb/autoid/leader', '', 1)).toEqual({ 1: '/keyspaces/tidb/10tidb/autoid/leader' });
    // and slash keys keep TiDB's own layout
    expect(range('/tidb/ddl/x')).toEqual({ 1: '/keyspaces/tidb/1/tidb/ddl/x' });
  });

  test.each(['-x', '.', '\0', ':', ';a', 'a', 'Z', '\xff', '/'])('key %j is allowed', (k) => {
    expect(range(k)).toEqual({ 1: NS(1) + k });
  });

  test.each(['0', '0/x', '1', '9abc', '5'])('key %j starting with a digit is ETCD_DIGIT_KEY everywhere a single key goes', (k) => {
    expect(run(0, '/etcdserverpb.KV/Put', true, msg(L(1, k), L(2, 'v'))).status).toBe(S.ETCD_DIGIT_KEY);
    expect(run(0, '/etcdserverpb.KV/Range', true, msg(L(1, k))).status).toBe(S.ETCD_DIGIT_KEY);
    expect(run(0, '/etcdserverpb.KV/Range', true, msg(L(1, k), L(2, ''))).status).toBe(S.ETCD_DIGIT_KEY);
    expect(run(0, '/etcdserverpb.KV/DeleteRange', true, msg(L(1, k))).status).toBe(S.ETCD_DIGIT_KEY);
    expect(run(0, '/etcdserverpb.Watch/Watch', true, msg(L(1, L(1, k)))).status).toBe(S.ETCD_DIGIT_KEY);
    expect(run(0, '/etcdserverpb.KV/Txn', true, msg(L(1, V(1, 0), L(3, k)))).status).toBe(S.ETCD_DIGIT_KEY);
    const nestedPut = msg(L(2, L(2, L(1, k), L(2, 'v'))));
    expect(run(0, '/etcdserverpb.KV/Txn', true, msg(L(1, L(3, 'tidb/a')), L(3, L(4, nestedPut)))).status).toBe(S.ETCD_DIGIT_KEY);
  });

  test('the empty key keeps its own status', () => {
    expect(run(0, '/etcdserverpb.KV/Put', true, msg(L(1, ''), L(2, 'v'))).status).toBe(S.EMPTY_KEY);
    expect(run(0, '/etcdserverpb.KV/Range', true, msg(V(3, 1))).status).toBe(S.EMPTY_KEY);
  });

  test('isolation: 2000 random keys of each tenant land in its own key space and in nobody else\'s', () => {
    const rnd = prng(7);
    const alphabet = B('/0123456789:abt-.\x00\xff');
    for (let ti = 0; ti < IDS.length; ti++) {
      for (let i = 0; i < 2000 / IDS.length; i++) {
        const n = 1 + Math.floor(rnd() * 6);
        const k = Buffer.from(Array.from({ length: n }, () => alphabet[Math.floor(rnd() * alphabet.length)]));
        const r = core.run(ti, '/etcdserverpb.KV/Put', true, [frame(msg(L(1, k), L(2, 'v')))]);
        if (k[0] >= 0x30 && k[0] <= 0x39) { expect(r.status).toBe(S.ETCD_DIGIT_KEY); continue; }
        expect(r.status).toBe(S.OK);
        const stored = fields(unframe(r.out)[0])[0][2];
        expect(stored.equals(Buffer.concat([B(NS(IDS[ti])), k]))).toBe(true);
        for (let tj = 0; tj < IDS.length; tj++) expect([IDS[tj], owns(IDS[tj], stored)]).toEqual([IDS[tj], tj === ti]);
      }
    }
  });
});

describe('ranges: clamped into the one part of the key space they meet', () => {
  test('prefixes and from-keys in the upper part ("tidb/…", as TiDB\'s autoid election sends)', () => {
    expect(range('tidb/autoid/leader', 'tidb/autoid/leades')).toEqual({ 1: `${NS(1)}tidb/autoid/leader`, 2: `${NS(1)}tidb/autoid/leades` });
    expect(range('tidb/', 'tidb0')).toEqual({ 1: `${NS(1)}tidb/`, 2: `${NS(1)}tidb0` });
    expect(range('tidb/', '\0')).toEqual({ 1: `${NS(1)}tidb/`, 2: '/keyspaces/tidb/2' });
    expect(range('tidb/', '\0', 1)).toEqual({ 1: `${NS(10)}tidb/`, 2: '/keyspaces/tidb/11' });
    expect(range('tidb/', '\xff\xff', 3)).toEqual({ 1: `${NS(19)}tidb/`, 2: `${NS(19)}\xff\xff` });
    expect(range('tidb/', '\0', 3)).toEqual({ 1: `${NS(19)}tidb/`, 2: '/keyspaces/tidb/1:' });
    // a start in the digit gap moves up to ns‖":"
    expect(range('5', 'b')).toEqual({ 1: `${NS(1)}:`, 2: `${NS(1)}b` });
    expect(range('0', '\0')).toEqual({ 1: `${NS(1)}:`, 2: '/keyspaces/tidb/2' });
  });

  test('prefixes in the lower part ("/tidb/…", TiDB\'s own keys) stop at ns‖"0"', () => {
    expect(range('/tidb/', '/tidb0')).toEqual({ 1: `${NS(1)}/tidb/`, 2: `${NS(1)}/tidb0` });
    expect(range('/a', '0')).toEqual({ 1: `${NS(1)}/a`, 2: '/keyspaces/tidb/10' });
    expect(range('/a', '5')).toEqual({ 1: `${NS(1)}/a`, 2: '/keyspaces/tidb/10' });
    expect(range('/a', ':')).toEqual({ 1: `${NS(1)}/a`, 2: '/keyspaces/tidb/10' });
    expect(range('', '/b')).toEqual({ 1: `${NS(1)}\0`, 2: `${NS(1)}/b` });
  });

  test('a range that meets no key of the tenant stays empty (key >= range_end), never foreign', () => {
    expect(range('0', '9')).toEqual({ 1: '/keyspaces/tidb/10', 2: '/keyspaces/tidb/10' });
    expect(range('b', 'a')).toEqual({ 1: '/keyspaces/tidb/10', 2: '/keyspaces/tidb/10' });
  });

  test.each([
    ['every key ("\\x00".."\\x00", WithPrefix(""), etcdctl get --prefix \'\')', '\0', '\0'],
    ['from the empty key', '', '\0'],
    ['from "/" (WithFromKey("/"))', '/', '\0'],
    ['"" to "\\xff"', '', '\xff'],
    ['"/a" to ";"', '/a', ';'],
  ])('%s meets both parts: ETCD_RANGE_SPAN', (_, k, e) => {
    expect(rangeStatus(k, e)).toBe(S.ETCD_RANGE_SPAN);
    expect(run(0, '/etcdserverpb.KV/DeleteRange', true, msg(L(1, B(k)), L(2, B(e)))).status).toBe(S.ETCD_RANGE_SPAN);
    expect(run(0, '/etcdserverpb.Watch/Watch', true, msg(L(1, L(1, B(k)), L(2, B(e))))).status).toBe(S.ETCD_RANGE_SPAN);
    expect(run(0, '/etcdserverpb.KV/Txn', true, msg(L(1, L(3, B(k)), L(64, B(e))))).status).toBe(S.ETCD_RANGE_SPAN);
  });

  test('Watch create and Txn compares and nested ops take the same bounds', () => {
    const w = F(run(0, '/etcdserverpb.Watch/Watch', true, msg(L(1, L(1, 'tidb/autoid/leader'), L(2, 'tidb/autoid/leades'), V(4, 1)))));
    expect(Object.fromEntries(fields(B(w[1])).map(([n, , v]) => [n, typeof v === 'bigint' ? v : v.toString()]))).toEqual({ 1: `${NS(1)}tidb/autoid/leader`, 2: `${NS(1)}tidb/autoid/leades`, 4: 1n });
    const inner = msg(L(2, L(2, L(1, 'tidb/b'), L(2, 'v'))));
    const t = run(0, '/etcdserverpb.KV/Txn', true, msg(L(1, L(3, 'tidb/a'), L(64, '\0')), L(2, L(4, inner))));
    expect(t.status).toBe(S.OK);
    const s = t.out.toString('latin1');
    expect(s).toContain(`${NS(1)}tidb/a`);
    expect(s).toContain(`${NS(1)}tidb/b`);
    expect(s).toContain('/keyspaces/tidb/2');
  });

  test('random ranges: every rewritten range lies inside one part of the tenant\'s key space, or is refused', () => {
    const rnd = prng(11);
    const alphabet = B('/059:at\x00\xff');
    const gen = () => Buffer.from(Array.from({ length: Math.floor(rnd() * 4) }, () => alphabet[Math.floor(rnd() * alphabet.length)]));
    let spans = 0;
    for (let i = 0; i < 600; i++) {
      const ti = i % IDS.length, id = IDS[ti];
      const k = gen();
      const e = rnd() < 0.2 ? B('\0') : gen();
      if (e.length === 0) continue;
      const r = core.run(ti, '/etcdserverpb.KV/Range', true, [frame(msg(L(1, k), L(2, e)))]);
      if (r.status === S.ETCD_RANGE_SPAN) { spans++; continue; }
      expect(r.status).toBe(S.OK);
      const f = Object.fromEntries(fields(unframe(r.out)[0]).map(([n, , v]) => [n, v]));
      const ns = B(NS(id));
      const parts = [[Buffer.concat([ns, B('\0')]), Buffer.concat([ns, B('0')])], [Buffer.concat([ns, B(':')]), B(`/keyspaces/tidb/${id + 1}`)]];
      // /keyspaces/tidb/19 -> next prefix "/keyspaces/tidb/1:"
      if (id === 19) parts[1][1] = B('/keyspaces/tidb/1:');
      const inside = parts.some(([s, en]) => Buffer.compare(f[1], s) >= 0 && Buffer.compare(f[2], en) <= 0 && Buffer.compare(f[1], en) <= 0);
      expect([k.toString('latin1'), e.toString('latin1'), inside]).toEqual([k.toString('latin1'), e.toString('latin1'), true]);
    }
    expect(spans).toBeGreaterThan(0);
  });
});

describe('responses: a key is the tenant\'s when it starts with ns and the next byte is not a digit', () => {
  const kv = (k) => L(1, B(k));
  test('own keys come back stripped, with or without "/"', () => {
    for (const k of ['/tidb/a', 'tidb/autoid/leader', '-x', '\0', ':x', '\xff']) {
      const r = run(0, '/etcdserverpb.KV/Range', false, msg(L(2, kv(NS(1) + k), L(5, 'v')), V(4, 1)));
      expect(r.status).toBe(S.OK);
      expect(fields(fields(r.out)[0][2])[0][2].toString('latin1')).toBe(k);
    }
  });

  test.each(['/keyspaces/tidb/10tidb/autoid/leader', '/keyspaces/tidb/10/tidb/a', '/keyspaces/tidb/100:x', '/keyspaces/tidb/1', '/keyspaces/tidb/2x', '/keyspaces/tidb/19/a', '/other'])(
    'keyspace 1: %j is OUT_OF_KEYSPACE in Range, Put, DeleteRange, Txn and Watch responses', (foreign) => {
      expect(run(0, '/etcdserverpb.KV/Range', false, msg(L(2, kv(`${NS(1)}tidb/a`)), L(2, kv(foreign)))).status).toBe(S.OUT_OF_KEYSPACE);
      expect(run(0, '/etcdserverpb.KV/Put', false, msg(L(2, kv(foreign)))).status).toBe(S.OUT_OF_KEYSPACE);
      expect(run(0, '/etcdserverpb.KV/DeleteRange', false, msg(L(3, kv(foreign)))).status).toBe(S.OUT_OF_KEYSPACE);
      expect(run(0, '/etcdserverpb.KV/Txn', false, msg(L(3, L(1, L(2, kv(foreign)))))).status).toBe(S.OUT_OF_KEYSPACE);
      expect(run(0, '/etcdserverpb.Watch/Watch', false, msg(V(2, 1), L(11, L(2, kv(foreign))))).status).toBe(S.OUT_OF_KEYSPACE);
    });

  test('keyspace 10 does not own keyspace 1\'s or 100\'s keys either', () => {
    for (const foreign of [`${NS(1)}tidb/x`, `${NS(1)}/x`, `${NS(100)}tidb/x`, `${NS(100)}/x`]) {
      expect([foreign, run(1, '/etcdserverpb.KV/Range', false, msg(L(2, kv(foreign)))).status]).toEqual([foreign, S.OUT_OF_KEYSPACE]);
    }
    expect(run(1, '/etcdserverpb.KV/Range', false, msg(L(2, kv(`${NS(10)}tidb/x`)))).status).toBe(S.OK);
  });

  test('Watch events: kv and prev_kv stripped; LeaseTimeToLive keeps only the tenant\'s keys', () => {
    const ok = run(0, '/etcdserverpb.Watch/Watch', false, msg(V(2, 1), L(11, L(2, kv(`${NS(1)}tidb/autoid/leader/1`)), L(3, kv(`${NS(1)}tidb/autoid/leader/1`)))));
    expect(ok.status).toBe(S.OK);
    expect(ok.out.toString('latin1')).not.toContain('keyspaces');
    const r = run(0, '/etcdserverpb.Lease/LeaseTimeToLive', false, msg(V(2, 5),
      L(5, `${NS(1)}tidb/mine`), L(5, `${NS(1)}/mine`), L(5, `${NS(10)}tidb/theirs`), L(5, `${NS(100)}/theirs`), L(5, NS(1))));
    expect(r.status).toBe(S.OK);
    expect(fields(r.out).filter(([n]) => n === 5).map(([, , v]) => v.toString())).toEqual(['tidb/mine', '/mine']);
    expect(r.filtered).toBe(3);
  });
});

describe('which etcdNamespace templates get the no-digit rule', () => {
  const put = (etcdNamespace, key) => {
    const c = new Core();
    expect(c.configure({ tenants: [{ name: 'a', keyspaceId: 1 }, { name: 'a-b', keyspaceId: 10 }], etcdNamespace })).toBe('');
    const r = c.run(0, '/etcdserverpb.KV/Put', true, [frame(msg(L(1, key), L(2, 'v')))]);
    expect(c.traps).toBe(0);
    return r.status === S.OK ? fields(unframe(r.out)[0])[0][2].toString('latin1') : r.status;
  };
  test.each([
    // {id} alone at the end: concatenated, digits refused
    ['/keyspaces/tidb/{id}', 'tidb/x', '/keyspaces/tidb/1tidb/x'],
    ['/keyspaces/tidb/{id}', '0x', S.ETCD_DIGIT_KEY],
    ['/k{id}', 'x', '/k1x'],
    // anything else without a trailing "/": keys must start with "/"
    ['/keyspaces/{id}/tidb', 'tidb/x', S.ETCD_KEY_FORMAT],
    ['/keyspaces/{name}/{id}', 'tidb/x', S.ETCD_KEY_FORMAT],
    ['/keyspaces/{name}', 'x', S.ETCD_KEY_FORMAT],
    ['/keyspaces/{id}{id}', 'x', S.ETCD_KEY_FORMAT],
    ['/keyspaces/{name}', '/x', '/keyspaces/a/x'],
    // trailing "/": a plain prefix, digits allowed
    ['/keyspaces/tidb/{id}/', '0x', '/keyspaces/tidb/1/0x'],
  ])('%s: key %j -> %j', (ns, key, expected) => {
    expect(put(ns, key)).toEqual(expected);
  });
});
