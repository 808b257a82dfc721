// End-to-end: a REAL etcd (Debian etcd-server, scripts/install-system.sh) behind real Envoys with
// the tidb-mesh filter, driven by real clients: the etcd3 npm client and etcdctl. Three tenants
// with keyspace ids 1, 10 and 100 (byte prefixes of each other as decimal strings) write the
// SAME keys; a direct client (no Envoy) shows the raw etcd layout.
//
// Namespaces come from the default etcdNamespace "/keyspaces/tidb/{id}" (TiDB's own keyspace
// layout, no-digit rule): a TiDB key "/tidb/ddl/x" of keyspace 1 is stored as
// "/keyspaces/tidb/1/tidb/ddl/x" and "tidb/autoid/leader" (no leading "/", TiDB's autoid
// service) as "/keyspaces/tidb/1tidb/autoid/leader". Keys starting with a digit are refused
// ("/keyspaces/tidb/1" + "0/x" is keyspace 10's "/x"), so keyspace 1's key space is
// ["/keyspaces/tidb/1\x00", "/keyspaces/tidb/10") and ["/keyspaces/tidb/1:", "/keyspaces/tidb/2"),
// and a range that would need both parts (every key) is refused.
'use strict';

const fs = require('fs');
const path = require('path');
const { Etcd3, Range } = require('etcd3');
const { startEtcd, etcdctl } = require('../servers/etcd-process');
const { startEnvoy, tidbNode } = require('../harness/envoy');
const { grpcFrame, rawGrpcCall } = require('../harness/grpc-raw');

jest.setTimeout(60000);

const IDS = [1, 10, 100];
const NS = (id) => `/keyspaces/tidb/${id}`;
/** The raw prefix of a tenant's keys: NS(1) alone would also match keyspaces 10 and 100. */
const SCOPE = (id) => `${NS(id)}/`;
const KEYS = ['/tidb/ddl/all_schema_versions/1', '/tidb/ddl/fg/owner/abc', '/tidb/domain/ver'];
const VALUE = (id, k) => `ks${id}:${k}`;
const GRPC = { OK: 0, INVALID_ARGUMENT: 3, PERMISSION_DENIED: 7, UNIMPLEMENTED: 12, INTERNAL: 13 };

let etcd; let raw; const envoys = {}; const clients = {}; let setupError = null;

function tenantConfig() {
  return {
    version: 1,
    direction: 'outbound',
    mode: 'api-v2',
    tenants: IDS.map((id) => ({ name: `cluster${id}`, keyspaceId: id, match: { namespace: 'tidb', labels: { 'app.kubernetes.io/instance': `cluster${id}` } } })),
    unknownCaller: 'deny',
  };
}

const sorted = (a) => [...a].sort();
async function rawKeys(prefix = '/') { return sorted(await raw.getAll().prefix(prefix).keys()); }
async function codeOf(promise) {
  try { await promise; return GRPC.OK; } catch (e) {
    // etcd3 wraps grpc errors; the gRPC code sits on the cause or the message.
    const code = e.code !== undefined ? e.code : (e.cause && e.cause.code);
    if (typeof code === 'number') return code;
    const m = /^(\d+) /.exec(e.message || '');
    if (m) return Number(m[1]);
    throw e;
  }
}
function needSetup() { if (setupError) throw new Error(`setup failed, so this test cannot run: ${setupError.message}`); }

beforeAll(async () => {
  etcd = await startEtcd();
  raw = new Etcd3({ hosts: etcd.endpoint });
  const config = tenantConfig();
  const started = await Promise.all(IDS.map((id) => startEnvoy({ upstream: { port: etcd.port }, pluginConfig: config, node: tidbNode(`cluster${id}`) })));
  IDS.forEach((id, i) => { envoys[id] = started[i]; clients[id] = new Etcd3({ hosts: `127.0.0.1:${started[i].port}` }); });
  try {
    for (const id of IDS) for (const k of KEYS) await clients[id].put(k).value(VALUE(id, k));
  } catch (e) { setupError = e; }
});

afterAll(async () => {
  for (const c of [raw, ...Object.values(clients)]) if (c) c.close();
  const dir = path.join(__dirname, '..', '..', '.tmp', 'e2e-logs');
  fs.mkdirSync(dir, { recursive: true });
  for (const id of IDS) if (envoys[id]) fs.writeFileSync(path.join(dir, `etcd-cluster${id}.log`), envoys[id].logs());
  await Promise.all(Object.values(envoys).map((e) => e.stop()));
  if (etcd) await etcd.stop();
});

describe('KV through the filter (etcd3 client)', () => {
  test('the raw etcd view shows one namespace per tenant and nothing outside them', async () => {
    needSetup();
    const keys = await rawKeys();
    const expected = sorted(IDS.flatMap((id) => KEYS.map((k) => NS(id) + k)));
    expect(keys).toEqual(expected);
    expect(await raw.get(NS(10) + KEYS[0]).string()).toBe(VALUE(10, KEYS[0]));
  });

  test('the layout is TiDB\'s own: "/tidb/x" of keyspace 1 is "/keyspaces/tidb/1/tidb/x"', async () => {
    needSetup();
    expect(await raw.get('/keyspaces/tidb/1/tidb/ddl/all_schema_versions/1').string()).toBe(VALUE(1, KEYS[0]));
    expect(await raw.get('/keyspaces/tidb/100/tidb/domain/ver').string()).toBe(VALUE(100, KEYS[2]));
  });

  // The one shared read (docs/gc.md, keyspace/etcd.ts): client-go's visibility check reads the
  // saved GC safe point with a single-key Range; it reads the platform's key, which the GC
  // controller writes. The tenant's own writes of that key stay in its namespace.
  test('the saved GC safe point: a single-key read is the platform\'s key; writes and ranges stay the tenant\'s', async () => {
    needSetup();
    const K = '/tidb/store/gcworker/saved_safe_point';
    await raw.put(K).value('4242');
    try {
      expect(await clients[10].get(K).string()).toBe('4242');
      expect(await clients[1].get(K).string()).toBe('4242');
      await clients[10].put(K).value('999999');
      expect(await raw.get(K).string()).toBe('4242');
      expect(await raw.get('/keyspaces/tidb/10' + K).string()).toBe('999999');
      expect(await clients[10].get(K).string()).toBe('4242');
      // A prefix range is the tenant's own namespace.
      expect(await clients[10].getAll().prefix('/tidb/store/gcworker/').strings()).toEqual({ [K]: '999999' });
      expect(await clients[1].getAll().prefix('/tidb/store/gcworker/').keys()).toEqual([]);
    } finally {
      await raw.delete().key(K);
      await raw.delete().key('/keyspaces/tidb/10' + K);
    }
  });

  test('a key starting with a digit is INVALID_ARGUMENT (put, get, delete): "/keyspaces/tidb/1" + "0/x" would be keyspace 10\'s key', async () => {
    needSetup();
    expect(await codeOf(clients[1].put('0/tidb/x').value('v'))).toBe(GRPC.INVALID_ARGUMENT);
    expect(await codeOf(clients[1].put('9').value('v'))).toBe(GRPC.INVALID_ARGUMENT);
    expect(await codeOf(clients[1].get('0/tidb/domain/ver').string())).toBe(GRPC.INVALID_ARGUMENT);
    expect(await codeOf(clients[1].delete().key('0/tidb/domain/ver').exec())).toBe(GRPC.INVALID_ARGUMENT);
    expect(await raw.get('/keyspaces/tidb/10/tidb/domain/ver').string()).toBe(VALUE(10, '/tidb/domain/ver'));
    expect(await rawKeys('/keyspaces/tidb/10/tidb/x')).toEqual([]);
    expect(await rawKeys('/keyspaces/tidb/19')).toEqual([]);
  });

  test('keys without "/" (TiDB\'s "tidb/autoid/leader"): each tenant reads its own; the raw view is "/keyspaces/tidb/<id>tidb/autoid/leader"', async () => {
    needSetup();
    const k = 'tidb/autoid/leader';
    await clients[1].put(k).value('leader-of-1');
    await clients[10].put(k).value('leader-of-10');
    try {
      expect(await clients[1].get(k).string()).toBe('leader-of-1');
      expect(await clients[10].get(k).string()).toBe('leader-of-10');
      expect(await clients[100].get(k).string()).toBeNull();
      expect(await raw.get('/keyspaces/tidb/1tidb/autoid/leader').string()).toBe('leader-of-1');
      expect(await raw.get('/keyspaces/tidb/10tidb/autoid/leader').string()).toBe('leader-of-10');
      // A prefix range on "tidb/" returns only the tenant's own key, stripped.
      expect(await clients[1].getAll().prefix('tidb/').strings()).toEqual({ [k]: 'leader-of-1' });
      expect(await clients[10].getAll().prefix('tidb/').strings()).toEqual({ [k]: 'leader-of-10' });
      expect(await clients[100].getAll().prefix('tidb/').keys()).toEqual([]);
      // From-key "tidb/" to the end of the namespace ("\x00"): keyspace 1 stops before "/keyspaces/tidb/2".
      expect(await clients[1].getAll().inRange(new Range('tidb/', '\0')).keys()).toEqual([k]);
      // "/" prefixes and no-slash prefixes do not see each other.
      expect(sorted(await clients[1].getAll().prefix('/').keys())).toEqual(sorted(KEYS));
    } finally {
      await clients[1].delete().key(k);
      await clients[10].delete().key(k);
    }
    expect(await rawKeys('/keyspaces/tidb/1tidb')).toEqual([]);
  });

  test('other keys without "/" (e.g. "-x", ":x") are the tenant\'s too; the bare namespace and other keyspaces are nobody\'s', async () => {
    needSetup();
    const stray = ['/keyspaces/tidb/1', '/keyspaces/tidb/1-x', '/keyspaces/tidb/1:x', '/keyspaces/tidb/19/x', '/keyspaces/tidb/10:x'];
    for (const k of stray) await raw.put(k).value('stray');
    try {
      expect(await clients[1].get('-x').string()).toBe('stray');
      expect(await clients[1].get(':x').string()).toBe('stray');
      expect(sorted(await clients[1].getAll().inRange(new Range('', '/')).keys())).toEqual(['-x']);
      expect(sorted(await clients[1].getAll().inRange(new Range(':', '\0')).keys())).toEqual([':x']);
      expect(sorted(await clients[1].getAll().inRange(new Range('', '/\xff')).keys())).toEqual(sorted(['-x', ...KEYS]));
      expect(await clients[10].get(':x').string()).toBe('stray');
      expect(await clients[10].getAll().inRange(new Range(':', '\0')).keys()).toEqual([':x']);
    } finally {
      for (const k of stray) await raw.delete().key(k);
    }
  });

  test('a range over every key ("\\x00".."\\x00") is INVALID_ARGUMENT: it would span keyspaces 10-19, 100-199, ...', async () => {
    needSetup();
    expect(await codeOf(clients[1].getAll().all().keys())).toBe(GRPC.INVALID_ARGUMENT);
    expect(await codeOf(clients[1].getAll().inRange(new Range('/', '\0')).keys())).toBe(GRPC.INVALID_ARGUMENT);
    expect(await codeOf(clients[1].delete().all().exec())).toBe(GRPC.INVALID_ARGUMENT);
    expect(sorted(await rawKeys(SCOPE(1)))).toEqual(sorted(KEYS.map((k) => NS(1) + k)));
  });

  test('put/get: each tenant reads its own value of the same key', async () => {
    needSetup();
    for (const id of IDS) expect(await clients[id].get(KEYS[0]).string()).toBe(VALUE(id, KEYS[0]));
  });

  test('prefix range: keys come back stripped, only the tenant\'s own', async () => {
    needSetup();
    for (const id of IDS) {
      const all = await clients[id].getAll().prefix('/tidb/').strings();
      expect(sorted(Object.keys(all))).toEqual(sorted(KEYS));
      for (const k of KEYS) expect(all[k]).toBe(VALUE(id, k));
    }
  });

  test('ranges of "/" keys stop at the end of that part ("/keyspaces/tidb/<id>0"): keyspace 1 never sees 10 or 100', async () => {
    needSetup();
    // Range ends past the tenant's "/" keys ("1", "5", ":") are clamped to "/keyspaces/tidb/10".
    expect(sorted(await clients[1].getAll().inRange(new Range('/', '1')).keys())).toEqual(sorted(KEYS));
    expect(sorted(await clients[1].getAll().inRange(new Range('/', ':')).keys())).toEqual(sorted(KEYS));
    expect(sorted(await clients[1].getAll().inRange(new Range('', '5')).keys())).toEqual(sorted(KEYS));
    expect(await clients[1].getAll().inRange(new Range('/', '1')).count()).toBe(KEYS.length);
    expect(sorted(await clients[10].getAll().inRange(new Range('', '0')).keys())).toEqual(sorted(KEYS));
    expect(sorted(await clients[100].getAll().prefix('/').keys())).toEqual(sorted(KEYS));
    // From-key ranges of the upper part ("tidb/…" to "\x00", "\xff") stop before "/keyspaces/tidb/<id+1>".
    expect(await clients[1].getAll().inRange(new Range(':', '\0')).keys()).toEqual([]);
    expect(await clients[1].getAll().inRange(new Range('a', Buffer.from([0xff]))).keys()).toEqual([]);
  });

  test('tenant 1 cannot read or delete tenant 10\'s keys, even by naming their raw path', async () => {
    needSetup();
    expect(await clients[1].get(NS(10) + KEYS[0]).string()).toBeNull();
    expect(await clients[1].getAll().prefix('/keyspaces/').keys()).toEqual([]);
    const res = await clients[1].delete().key(NS(10) + KEYS[0]).exec();
    expect(Number(res.deleted)).toBe(0);
    expect(await raw.get(NS(10) + KEYS[0]).string()).toBe(VALUE(10, KEYS[0]));
  });

  test('txn with compares and nested operations runs inside the namespace', async () => {
    needSetup();
    const k = KEYS[2];
    // Tenant 1 compares against its own value: success branch; its put and range are namespaced.
    const r1 = await clients[1].if(k, 'Value', '==', VALUE(1, k))
      .then(clients[1].put('/tidb/txn/ok').value('yes'), clients[1].get(k))
      .else(clients[1].put('/tidb/txn/else').value('no'))
      .commit();
    expect(r1.succeeded).toBe(true);
    const rangeResp = r1.responses[1].response_range;
    expect(rangeResp.kvs.map((kv) => kv.key.toString())).toEqual([k]);
    expect(rangeResp.kvs[0].value.toString()).toBe(VALUE(1, k));
    // Tenant 10 compares its key against tenant 1's value: it sees its own value, so the else branch runs.
    const r10 = await clients[10].if(k, 'Value', '==', VALUE(1, k))
      .then(clients[10].put('/tidb/txn/ok').value('yes'))
      .else(clients[10].put('/tidb/txn/else').value('no'))
      .commit();
    expect(r10.succeeded).toBe(false);
    expect(await raw.get(`${NS(1)}/tidb/txn/ok`).string()).toBe('yes');
    expect(await raw.get(`${NS(10)}/tidb/txn/else`).string()).toBe('no');
    expect(await raw.get(`${NS(10)}/tidb/txn/ok`).string()).toBeNull();
  });

  test('watch with prev_kv: events arrive stripped, and only for the tenant\'s own keys', async () => {
    needSetup();
    const k = '/tidb/watch/owner';
    await clients[1].put(k).value('before');
    const watcher = await clients[1].watch().prefix('/tidb/watch/').withPreviousKV().create();
    const events = [];
    watcher.on('put', (kv, prev) => events.push({ type: 'put', key: kv.key.toString(), value: kv.value.toString(), prev: prev ? [prev.key.toString(), prev.value.toString()] : null }));
    watcher.on('delete', (kv, prev) => events.push({ type: 'delete', key: kv.key.toString(), prev: prev ? [prev.key.toString(), prev.value.toString()] : null }));
    // Same key from other tenants: must not show up in tenant 1's watch.
    await clients[10].put(k).value('other-10');
    await clients[100].put(k).value('other-100');
    await clients[1].put(k).value('after');
    await clients[1].delete().key(k);
    const deadline = Date.now() + 5000;
    while (events.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 200));
    await watcher.cancel();
    expect(events).toEqual([
      { type: 'put', key: k, value: 'after', prev: [k, 'before'] },
      { type: 'delete', key: k, prev: [k, 'after'] },
    ]);
  });

  test('watch of every "/" key ("" to "0") in keyspace 1 does not see keyspace 10', async () => {
    needSetup();
    const watcher = await clients[1].watch().inRange(new Range('', '0')).create();
    const seen = [];
    watcher.on('put', (kv) => seen.push(kv.key.toString()));
    await clients[10].put('/tidb/watch/ten').value('x');
    await clients[1].put('/tidb/watch/one').value('y');
    const deadline = Date.now() + 5000;
    while (seen.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 200));
    await watcher.cancel();
    expect(seen).toEqual(['/tidb/watch/one']);
  });

  test('watch of a key without "/" (the autoid leader prefix, from-key to "\\x00") sees only the tenant\'s own events', async () => {
    needSetup();
    const watcher = await clients[1].watch().prefix('tidb/autoid/leader').withPreviousKV().create();
    const fromKey = await clients[1].watch().inRange(new Range('tidb/', '\0')).create();
    const seen = [];
    const all = [];
    watcher.on('put', (kv, prev) => seen.push(['put', kv.key.toString(), kv.value.toString(), prev ? prev.value.toString() : null]));
    watcher.on('delete', (kv) => seen.push(['delete', kv.key.toString()]));
    fromKey.on('put', (kv) => all.push(kv.key.toString()));
    const k = 'tidb/autoid/leader/694d8a3b5c';
    await clients[10].put(k).value('other-10');
    await clients[100].put(k).value('other-100');
    await clients[1].put(k).value('a');
    await clients[1].put(k).value('b');
    await clients[1].delete().key(k);
    const deadline = Date.now() + 5000;
    while (seen.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 200));
    await watcher.cancel();
    await fromKey.cancel();
    expect(seen).toEqual([['put', k, 'a', null], ['put', k, 'b', 'a'], ['delete', k]]);
    expect(all).toEqual([k, k]);
    await clients[10].delete().key(k);
    await clients[100].delete().key(k);
  });

  test('lease TTL: LeaseTimeToLive keys are filtered to the namespace and stripped', async () => {
    needSetup();
    const lease = clients[1].lease(60, { autoKeepAlive: false });
    await lease.put('/tidb/lease/owner').value('me');
    const id = await lease.grant();
    // Tenant 10 attaches a key of its own to tenant 1's lease id (lease ids are global in etcd).
    await clients[10].put('/tidb/lease/intruder').value('x').lease(id);
    const own = await clients[1].leaseClient.leaseTimeToLive({ ID: id, keys: true });
    expect(Number(own.TTL)).toBeGreaterThan(0);
    expect(own.keys.map((x) => x.toString())).toEqual(['/tidb/lease/owner']);
    const other = await clients[10].leaseClient.leaseTimeToLive({ ID: id, keys: true });
    expect(other.keys.map((x) => x.toString())).toEqual(['/tidb/lease/intruder']);
    // The raw view holds both keys under their namespaces.
    const rawTtl = await raw.leaseClient.leaseTimeToLive({ ID: id, keys: true });
    expect(sorted(rawTtl.keys.map((x) => x.toString()))).toEqual(sorted([`${NS(1)}/tidb/lease/owner`, `${NS(10)}/tidb/lease/intruder`]));
    await lease.revoke();
    expect(await raw.get(`${NS(1)}/tidb/lease/owner`).string()).toBeNull();
  });

  test('delete range: a tenant deletes only its own keys', async () => {
    needSetup();
    await clients[100].put('/tidb/gone/a').value('1');
    await clients[10].put('/tidb/gone/a').value('1');
    const res = await clients[100].delete().prefix('/tidb/gone/').exec();
    expect(Number(res.deleted)).toBe(1);
    expect(await raw.get(`${NS(10)}/tidb/gone/a`).string()).toBe('1');
    expect(await raw.get(`${NS(100)}/tidb/gone/a`).string()).toBeNull();
    // "Delete every '/' key" of keyspace 1 ("" to "0") leaves 10 and 100 intact.
    const before10 = await rawKeys(SCOPE(10));
    const before100 = await rawKeys(SCOPE(100));
    expect(before10.length).toBeGreaterThan(0);
    expect(before100.length).toBeGreaterThan(0);
    await clients[1].delete().range(new Range('', '0')).exec();
    expect(await rawKeys(SCOPE(1))).toEqual([]);
    expect(await rawKeys(SCOPE(10))).toEqual(before10);
    expect(await rawKeys(SCOPE(100))).toEqual(before100);
    for (const k of KEYS) await clients[1].put(k).value(VALUE(1, k)); // restore for later tests
  });

  test('an empty key with an empty range end is INVALID_ARGUMENT; Compact is denied', async () => {
    needSetup();
    expect(await codeOf(clients[1].kv.range({ key: Buffer.alloc(0) }))).toBe(GRPC.INVALID_ARGUMENT);
    expect(await codeOf(clients[1].kv.put({ key: Buffer.alloc(0), value: Buffer.from('x') }))).toBe(GRPC.INVALID_ARGUMENT);
    expect(await codeOf(clients[1].kv.compact({ revision: 1 }))).toBe(GRPC.PERMISSION_DENIED);
    expect(await raw.get(NS(1)).string()).toBeNull();
  });

  test('Election and Lock services and LeaseLeases are denied', async () => {
    needSetup();
    for (const p of ['/v3electionpb.Election/Campaign', '/v3lockpb.Lock/Lock', '/etcdserverpb.Lease/LeaseLeases', '/etcdserverpb.Maintenance/Snapshot']) {
      const r = await rawGrpcCall(envoys[1].port, p, [grpcFrame(Buffer.alloc(0))]);
      expect([p, r.status]).toEqual([p, GRPC.PERMISSION_DENIED]);
    }
  });
});

describe('etcdctl through the filter', () => {
  const ep = (id) => `127.0.0.1:${envoys[id].port}`;

  test('put, get --prefix and get --from-key stay inside the namespace; keys without "/" work, digit-first keys and "every key" are refused', async () => {
    needSetup();
    expect((await etcdctl(ep(10), ['put', '/tidb/ctl/k', 'v10'])).stdout.trim()).toBe('OK');
    expect((await etcdctl(ep(1), ['put', '/tidb/ctl/k', 'v1'])).stdout.trim()).toBe('OK');
    const g1 = await etcdctl(ep(1), ['get', '--prefix', '/tidb/ctl/']);
    expect(g1.code).toBe(0);
    expect(g1.stdout.trim().split('\n')).toEqual(['/tidb/ctl/k', 'v1']);
    const slash = await etcdctl(ep(1), ['get', '--prefix', '/', '--keys-only']);
    expect(slash.code).toBe(0);
    const keys = slash.stdout.split('\n').filter(Boolean);
    expect(keys).toContain('/tidb/ctl/k');
    for (const k of keys) expect(k.startsWith('/tidb/')).toBe(true);
    expect(keys.length).toBe(new Set(keys).size);
    expect(await raw.get(`${NS(10)}/tidb/ctl/k`).string()).toBe('v10');
    // A key without "/": stored as "/keyspaces/tidb/1tidb/ctl/k"; --from-key on it stops at "/keyspaces/tidb/2".
    expect((await etcdctl(ep(1), ['put', 'tidb/ctl/k', 'v1-noslash'])).stdout.trim()).toBe('OK');
    expect(await raw.get(`${NS(1)}tidb/ctl/k`).string()).toBe('v1-noslash');
    const from = await etcdctl(ep(1), ['get', '--from-key', 'tidb/', '--keys-only']);
    expect(from.code).toBe(0);
    expect(from.stdout.split('\n').filter(Boolean)).toEqual(['tidb/ctl/k']);
    expect((await etcdctl(ep(1), ['del', 'tidb/ctl/k'])).stdout.trim()).toBe('1');
    // get --prefix '' sends key "\x00" with end "\x00": every key, which spans other keyspaces.
    const all = await etcdctl(ep(1), ['get', '--prefix', '', '--keys-only']);
    expect(all.code).not.toBe(0);
    expect(all.stderr).toMatch(/both sides of the digits/);
    const bad = await etcdctl(ep(1), ['put', '0/tidb/ctl/k', 'v']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/must not start with a digit/);
  });

  test('del --prefix deletes only the tenant\'s keys; lease timetolive --keys shows stripped keys', async () => {
    needSetup();
    const d = await etcdctl(ep(1), ['del', '--prefix', '/tidb/ctl/']);
    expect(d.stdout.trim()).toBe('1');
    expect(await raw.get(`${NS(10)}/tidb/ctl/k`).string()).toBe('v10');
    const grant = await etcdctl(ep(10), ['lease', 'grant', '60']);
    const id = /lease ([0-9a-f]+) granted/.exec(grant.stdout)[1];
    expect((await etcdctl(ep(10), ['put', '--lease', id, '/tidb/ctl/leased', 'x'])).code).toBe(0);
    const ttl = await etcdctl(ep(10), ['lease', 'timetolive', id, '--keys']);
    expect(ttl.code).toBe(0);
    expect(ttl.stdout).toMatch(/attached keys\(\[\/tidb\/ctl\/leased\]\)/);
    const compact = await etcdctl(ep(1), ['compaction', '1']);
    expect(compact.code).not.toBe(0);
    expect(compact.stderr).toMatch(/PermissionDenied|Compact drops/);
  });

  test('no Wasm VM failure in any Envoy', () => {
    for (const id of IDS) expect(envoys[id].logs()).not.toMatch(/\[critical\]\[wasm\]|Uncaught RuntimeError|VM failed/);
  });
});
