// A tenant's lifecycle on shared storage, with two unmodified tidb-servers (A = tenant1,
// keyspace 1; B = tenant2, keyspace 2) behind the outbound mesh, one real PD and the unistore
// store (realstack/): GC that reclaims A's deleted rows while B's long transaction keeps its
// snapshot, lock resolution after a crash mid-commit, DROP/TRUNCATE side effects under the same
// table ids in both tenants, and retiring a tenant. What is checked is what a user checks: SQL
// results, the versions and locks physically in the store (its raw view), PD's rules and safe
// points, and the filter's counters. docs/gc.md has the design these tests exercise.
//
// Time: TiDB keeps at least 10 min of history (tidb_gc_life_time cannot go lower) and its GC
// worker sleeps 100 s before deleting ranges; the platform's GC (`tidb-mesh gc`) runs on demand
// here with --max-hold 5m, which ignores the tenants' 10-minute service safe points (that is
// what --max-hold is for: TiDB's tidb_gc_max_wait_time), and A's GC worker is started early for
// the DDL test (its 100 s sleep overlaps the other tests).
'use strict';

const path = require('path');
const { execFile } = require('child_process');

const { startStack } = require('../../realstack/stack');
const P = require('../../realstack/lib/processes');

jest.setTimeout(6 * 60 * 1000);
const ROOT = path.resolve(__dirname, '..', '..');
const out = (m) => process.stdout.write(m + '\n');

let stack, A, B;
const numbers = {};

function run(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 64 << 20, timeout: 300000, ...opts }, (err, stdout, stderr) => {
      if (err) reject(Object.assign(new Error(`${path.basename(cmd)} ${args.slice(0, 4).join(' ')}…: ${(stderr || err.message).trim()}`), { stdout, stderr }));
      else resolve({ stdout, stderr });
    });
  });
}
const inNs = (ns, cmd, args) => run('nsenter', [`--net=/run/netns/${ns}`, '--', cmd, ...args]);
/** The tidb-mesh CLI as the platform runs it: in the storage layer's network, next to PD. */
const mesh = (args) => inNs(stack.storageNs, process.execPath, [path.join(ROOT, 'bin', 'tidb-mesh.js'), ...args]);
const gcOnce = async (extra) => {
  const r = await mesh(['gc', '--pd', 'http://127.0.0.1:2379', '--once', '-o', 'json', ...extra]);
  return JSON.parse(r.stdout.trim().split('\n').pop());
};

const ksHex = (id) => '78' + id.toString(16).padStart(6, '0');
/** API-v2 record-key prefix of table `tid` in keyspace `ks`: x‖id ‖ 't' ‖ EncodeInt(tid) ‖ "_r". */
function recordPrefix(ks, tid) {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(tid) ^ (1n << 63n));
  return `${ksHex(ks)}74${b.toString('hex')}5f72`;
}
const versions = (prefix) => stack.storeView(`/raw/versions?prefix=${prefix}`);
/** Keys whose newest version is live (what a reader could find): deletes and destroyed ranges hide theirs at once. */
const liveKeys = async (prefix) => (await stack.storeView(`/raw/keys?prefix=${prefix}&limit=100000`)).keys.length;
const locks = (prefix) => stack.storeView(`/raw/locks?prefix=${prefix}`);
async function tableId(t, db, table) {
  const r = await t.mysql.query('SELECT TIDB_TABLE_ID AS id FROM information_schema.tables WHERE table_schema = ? AND table_name = ?', [db, table]);
  return Number(r[0].id);
}
async function insertRows(t, table, n, from = 1, tag = 'v') {
  for (let s = from; s < from + n; s += 1000) {
    const vals = [];
    for (let i = s; i < Math.min(s + 1000, from + n); i++) vals.push(`(${i}, '${tag}-${i}')`);
    await t.mysql.query(`INSERT INTO ${table} VALUES ${vals.join(',')}`);
  }
}
/** The smallest min-start-ts any TiDB of keyspace `ks` reported to etcd (through PD, as the platform). */
async function minStartTs(ks) {
  const key = Buffer.from(`/keyspaces/tidb/${ks}/tidb/server/minstartts/`);
  const end = Buffer.from(key); end[end.length - 1]++;
  const r = await stack.pdDirect('POST', '/v3/kv/range', { key: key.toString('base64'), range_end: end.toString('base64') });
  const vals = (JSON.parse(r.body).kvs || []).map((kv) => BigInt(Buffer.from(kv.value, 'base64').toString()));
  return vals.length ? vals.reduce((a, b) => (b < a ? b : a)) : 0n;
}
async function pdJson(p) { return JSON.parse((await stack.pdDirect('GET', p)).body); }
const labelRuleIds = async () => ((await pdJson('/pd/api/v1/config/region-label/rules')) || []).map((r) => r.id).filter((id) => id.startsWith('tidb-mesh/')).sort();
const placementGroups = async () => ((await pdJson('/pd/api/v1/config/placement-rule')) || []).map((g) => g.group_id).filter((g) => g.startsWith('tidb-mesh-')).sort();
const meshStat = async (tenant, name) => {
  const s = await stack.envoyStats(tenant, `tidb_mesh.tenant.${tenant}.${name}`);
  return Object.values(s).reduce((a, b) => a + b, 0);
};

beforeAll(async () => {
  // The CLI runs from tools/build: compile it while the stack starts.
  const tsc = run(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(ROOT, 'tools', 'tsconfig.json')]);
  stack = await startStack({ mode: 'outbound', log: out });
  await tsc;
  [A, B] = stack.tenants;
});

afterAll(async () => {
  out(`lifecycle numbers: ${JSON.stringify(numbers, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`);
  if (stack) await stack.stop();
});

describe('a tenant\'s lifecycle on shared storage (two tenants, outbound mesh)', () => {
  const ids = {};

  test('DDL, part 1: the same tables (same table ids) with PD rules in both tenants; DROP and TRUNCATE in A; A\'s GC worker started', async () => {
    for (const t of [A, B]) {
      await t.mysql.query('CREATE DATABASE ddl');
      for (const n of ['keep', 'gone', 'trunc']) await t.mysql.query(`CREATE TABLE ddl.${n} (id INT PRIMARY KEY, v VARCHAR(32))`);
      await t.mysql.query('CREATE PLACEMENT POLICY pp FOLLOWERS=1');
      for (const n of ['keep', 'gone', 'trunc']) {
        await insertRows(t, `ddl.${n}`, 300, 1, t.name);
        await t.mysql.query(`ALTER TABLE ddl.${n} PLACEMENT POLICY=pp`);
        await t.mysql.query(`ALTER TABLE ddl.${n} ATTRIBUTES 'merge_option=deny'`);
      }
    }
    for (const n of ['keep', 'gone', 'trunc']) {
      ids[n] = await tableId(A, 'ddl', n);
      // The premise: A and B name different data with the same ids (and the same names).
      expect(await tableId(B, 'ddl', n)).toBe(ids[n]);
    }
    const rules = ['gone', 'keep', 'trunc'];
    expect(await labelRuleIds()).toEqual([...rules.map((n) => `tidb-mesh/1/schema/ddl/${n}`), ...rules.map((n) => `tidb-mesh/2/schema/ddl/${n}`)]);
    const groups = Object.values(ids).sort((a, b) => a - b);
    expect(await placementGroups()).toEqual([...groups.map((i) => `tidb-mesh-1-TiDB_DDL_${i}`), ...groups.map((i) => `tidb-mesh-2-TiDB_DDL_${i}`)].sort());

    await A.mysql.query('DROP TABLE ddl.gone');
    await A.mysql.query('TRUNCATE TABLE ddl.trunc');
    ids.truncNew = await tableId(A, 'ddl', 'trunc');
    // TRUNCATE kept A's label rule for the new table within the DDL (GET rules/ids + PATCH);
    // DROP's rule goes with the GC worker (part 2). B's rules, same ids, untouched.
    expect(await labelRuleIds()).toEqual([...rules.map((n) => `tidb-mesh/1/schema/ddl/${n}`), ...rules.map((n) => `tidb-mesh/2/schema/ddl/${n}`)]);
    const pending = await A.mysql.query('SELECT COUNT(*) AS n FROM mysql.gc_delete_range');
    expect(Number(pending[0].n)).toBe(2);
    // TiDB deletes a dropped table's range once its GC safe point passes the DDL, i.e. 10 min
    // later at the earliest (tidb_gc_life_time >= 10m) plus its 100 s cache wait. Here A says
    // the DDL is old and its last run long ago, so its GC worker runs at its next tick.
    await A.mysql.query('UPDATE mysql.gc_delete_range SET ts = 1');
    await A.mysql.query("UPDATE mysql.tidb SET VARIABLE_VALUE = '20000101-00:00:00.000 +0000' WHERE VARIABLE_NAME = 'tikv_gc_last_run_time'");
    // A tenant's GC worker runs at min(its life time, PD's minimum service safe point), and PD's
    // own "gc_worker" point is 0 until the platform's first round: a first round, with the
    // default --max-hold, is held by the tenants' tidb_gc_life_time (10 min), which their GC
    // workers registered at start as their own service safe points.
    const round = await gcOnce(['--life-time', '0s', '--safe-point-wait', '2s']);
    out(`GC round 1: ${round.note}; held by ${round.heldBy.what}`);
    expect(round.heldBy.what).toMatch(/^service safe point tidb-mesh-[12]-gc_worker$/);
    expect(round.applied).not.toBeNull();
    numbers.gcRound1 = { applied: round.applied, heldBy: round.heldBy.what };
  });

  test('GC: rows A deleted are physically gone; B\'s long transaction, started before, still reads its snapshot; B\'s data untouched', async () => {
    for (const t of [A, B]) {
      await t.mysql.query('CREATE DATABASE gc');
      await t.mysql.query('CREATE TABLE gc.t (id INT PRIMARY KEY, v VARCHAR(32))');
    }
    await insertRows(A, 'gc.t', 3000, 1, 'a');
    await insertRows(B, 'gc.t', 1000, 1, 'b');
    const pa = recordPrefix(1, await tableId(A, 'gc', 't'));
    const pb = recordPrefix(2, await tableId(B, 'gc', 't'));
    // A deletes 2000 rows.
    const del = await A.mysql.session();
    await del.query('DELETE FROM gc.t WHERE id > 1000');
    const deletedAt = BigInt(JSON.parse((await del.query('SELECT @@tidb_last_txn_info AS i'))[0][0].i).commit_ts);
    await del.end();
    // B starts a long transaction, then changes every row in another session.
    const long = await B.mysql.session();
    await long.query('BEGIN');
    const longStart = BigInt((await long.query('SELECT @@tidb_current_ts AS ts'))[0][0].ts);
    const snapshot = (await long.query('SELECT COUNT(*) AS n, SUM(LENGTH(v)) AS len, MIN(v) AS v FROM gc.t'))[0][0];
    await B.mysql.query("UPDATE gc.t SET v = CONCAT(v, '-new')");
    // TiDB commits the secondary keys after the statement returned.
    await P.waitFor('B\'s update committed on every key', async () => (await versions(pb)).versions === 2000, { timeoutMs: 30000 });
    const before = { a: await versions(pa), b: await versions(pb) };
    expect(before.a).toMatchObject({ keys: 3000, versions: 5000 }); // 3000 puts, 2000 deletes
    expect(before.b).toMatchObject({ keys: 1000, versions: 2000 });

    // Every TiDB reports its oldest transaction every 30 s (infosync.ReportMinStartTS); the
    // round can pass A's delete once both tenants reported after it.
    await P.waitFor('both tenants report a min start ts after A\'s delete', async () => (await minStartTs(1)) > deletedAt && (await minStartTs(2)) > deletedAt, { timeoutMs: 150000, intervalMs: 2000 });
    const round = await gcOnce(['--life-time', '0s', '--max-hold', '5m', '--safe-point-wait', '12s']);
    const applied = BigInt(round.applied);
    out(`GC round: ${round.note}; held by ${round.heldBy.what}; ignored ${round.ignored.map((b) => b.what).join(', ')}`);
    expect(applied > deletedAt).toBe(true);
    expect(applied < longStart).toBe(true);
    // The tenants' own GC workers registered their tidb_gc_life_time (10 min) as scoped service
    // safe points; older than --max-hold, they were ignored and deleted.
    expect(round.ignored.map((b) => b.what)).toEqual(expect.arrayContaining(['service safe point tidb-mesh-1-gc_worker', 'service safe point tidb-mesh-2-gc_worker']));
    await P.waitFor('the store applied the GC safe point', async () => BigInt((await stack.storeView('/gc')).safePoint) >= applied, { timeoutMs: 60000 });
    const after = { a: await versions(pa), b: await versions(pb) };
    numbers.gc = { deletedAt, longStart, applied, before, after, versionsReclaimed: before.a.versions - after.a.versions };
    expect(after.a).toMatchObject({ keys: 1000, versions: 1000 });
    expect(after.b).toMatchObject({ keys: 1000, versions: 2000 });
    // B's snapshot, and B's current data.
    expect((await long.query('SELECT COUNT(*) AS n, SUM(LENGTH(v)) AS len, MIN(v) AS v FROM gc.t'))[0][0]).toEqual(snapshot);
    await long.query('COMMIT');
    await long.end();
    expect((await B.mysql.query('SELECT COUNT(*) AS n, MIN(v) AS v FROM gc.t'))[0]).toEqual({ n: 1000, v: 'b-1-new' });
    expect((await A.mysql.query('SELECT COUNT(*) AS n FROM gc.t'))[0].n).toBe(1000);
    // A read below the global point is refused (client-go reads the platform's saved safe
    // point through the filter), not answered from reclaimed data.
    await expect(A.mysql.query(`SELECT COUNT(*) FROM gc.t AS OF TIMESTAMP TIDB_PARSE_TSO(${deletedAt - 1n})`)).rejects.toThrow(/GC life time|safe point/i);
  });

  test('locks: B crashes mid-commit of a 20000-key transaction; B\'s readers resolve its locks and go on; A cannot resolve them', async () => {
    await B.mysql.query('CREATE DATABASE locks');
    await B.mysql.query('CREATE TABLE locks.big (id INT PRIMARY KEY, v INT)');
    const prefix = recordPrefix(2, await tableId(B, 'locks', 'big'));
    const s = await B.mysql.session();
    await s.query("SET tidb_txn_mode = 'optimistic'");
    await s.query('BEGIN');
    for (let from = 1; from <= 20000; from += 2000) {
      const vals = [];
      for (let i = from; i < from + 2000; i++) vals.push(`(${i}, ${i})`);
      await s.query(`INSERT INTO locks.big VALUES ${vals.join(',')}`);
    }
    // COMMIT, and kill B's tidb-server (SIGKILL) as soon as the store holds its prewrite locks.
    const commit = s.query('COMMIT').catch(() => 'killed');
    let seen = 0;
    for (let i = 0; i < 4000 && seen < 2000; i++) {
      seen = (await locks(prefix)).locks;
      if (seen < 2000) await P.sleep(2);
    }
    await stack.killTidb(B.name);
    out(`locks: killed ${B.name}'s tidb-server with ${seen} locks in the store`);
    const outcome = await Promise.race([commit, P.sleep(30000).then(() => 'no answer')]);
    expect(outcome).toBe('killed');
    s.destroy();
    const left = await locks(prefix);
    const txns = Object.keys(left.txns);
    expect(txns).toHaveLength(1);
    const startTs = txns[0];
    numbers.locks = { left: left.locks, startTs };
    expect(left.locks).toBeGreaterThan(1000);

    // A, as a malicious tenant, names B's transaction: keyless (its whole region) and keyed.
    const region = await pdJson(`/pd/api/v1/region/key/${[...Buffer.from(prefix, 'hex')].map((x) => '%' + x.toString(16).padStart(2, '0')).join('')}`);
    const context = { region_id: region.id, region_epoch: { conf_ver: region.epoch.conf_ver, version: region.epoch.version }, peer: { id: region.leader.id, store_id: region.leader.store_id } };
    const kvCall = (req) => inNs(A.ns, process.execPath, [path.join(ROOT, 'realstack', 'lib', 'kv-call.js'), '127.0.0.1:20160', '/tikvpb.Tikv/KvResolveLock', 'kvrpcpb.ResolveLockRequest', 'kvrpcpb.ResolveLockResponse', JSON.stringify(req)]);
    out(`locks: ${left.locks} locks of txn ${startTs} left; ${A.name} tries to resolve them`);
    const noEffectBefore = await meshStat(A.name, 'keyless_no_effect');
    await kvCall({ context, start_version: { $big: startTs }, commit_version: 0 });
    await kvCall({ context, start_version: { $big: startTs }, commit_version: 0, keys: [{ $hex: prefix.slice(8) + '8000000000000001' }] });
    expect(await meshStat(A.name, 'keyless_no_effect')).toBe(noEffectBefore + 1);
    expect((await locks(prefix)).locks).toBe(left.locks);

    // B comes back; its readers meet the locks of its dead transaction. client-go resolves a
    // lock region-wide (KvResolveLock without keys) when its transaction has at least
    // resolve-lock-lite-threshold (16) keys in the region; unistore reports no txn_size in its
    // locks (TiKV does), so B runs with threshold 0: every lock it meets is resolved that way.
    require('fs').appendFileSync(path.join(stack.dir, `${B.name}-tidb.toml`), '[tikv-client]\nresolve-lock-lite-threshold = 0\n');
    await stack.startTidb(B.name);
    out(`locks: ${B.name}'s tidb-server is back`);
    const rewrittenBefore = await meshStat(B.name, 'keyless_rewritten');
    const t0 = Date.now();
    // Readers keep reading: while the dead transaction's primary lock lives (its TTL), they read
    // around it (min_commit_ts pushed); once it expired, they roll it back (or find it
    // committed) and resolve the locks they meet (client-go ResolveLocksForRead, in the
    // background; with keys from the filter's lock ledger).
    const counts = new Set();
    await P.waitFor('B\'s readers resolved locks of the dead transaction', async () => {
      counts.add(Number((await B.mysql.query('SELECT COUNT(*) AS n FROM locks.big'))[0].n));
      await B.mysql.query('UPDATE locks.big SET v = v + 1 WHERE id <= 100');
      return (await locks(prefix)).locks < left.locks;
    }, { timeoutMs: 90000, intervalMs: 1000 });
    // All or nothing: the dead transaction committed (primary first) or rolled back, as a whole.
    const n = Number((await B.mysql.query('SELECT COUNT(*) AS n FROM locks.big'))[0].n);
    expect([0, 20000]).toContain(n);
    expect([...counts].every((c) => c === 0 || c === 20000)).toBe(true);
    const after = await locks(prefix);
    numbers.locks = { ...numbers.locks, outcome: n ? 'committed' : 'rolled back', readersMs: Date.now() - t0,
      resolvedByReaders: left.locks - after.locks, keylessRewritten: (await meshStat(B.name, 'keyless_rewritten')) - rewrittenBefore,
      keylessNoEffectOfA: (await meshStat(A.name, 'keyless_no_effect')) - noEffectBefore };
    expect(Date.now() - t0).toBeLessThan(90000);
    expect(after.locks).toBeLessThan(left.locks);
    expect(numbers.locks.keylessRewritten).toBeGreaterThan(0);
  });

  test('DDL, part 2: A\'s GC worker deleted the ranges and rules of its DROP/TRUNCATE; B\'s tables with the same ids and their rules survive', async () => {
    await P.waitFor('A\'s GC worker processed its delete ranges', async () => Number((await A.mysql.query('SELECT COUNT(*) AS n FROM mysql.gc_delete_range'))[0].n) === 0, { timeoutMs: 240000, intervalMs: 2000 });
    for (const n of ['gone', 'trunc']) {
      expect(await liveKeys(recordPrefix(1, ids[n]))).toBe(0);
      expect(await liveKeys(recordPrefix(2, ids[n]))).toBe(300);
    }
    expect(await liveKeys(recordPrefix(1, ids.keep))).toBe(300);
    expect(await labelRuleIds()).toEqual(['tidb-mesh/1/schema/ddl/keep', 'tidb-mesh/1/schema/ddl/trunc',
      'tidb-mesh/2/schema/ddl/gone', 'tidb-mesh/2/schema/ddl/keep', 'tidb-mesh/2/schema/ddl/trunc']);
    const groups = await placementGroups();
    for (const i of [ids.keep, ids.gone, ids.trunc]) expect(groups).toContain(`tidb-mesh-2-TiDB_DDL_${i}`);
    expect(groups).toContain(`tidb-mesh-1-TiDB_DDL_${ids.keep}`);
    expect(groups).not.toContain(`tidb-mesh-1-TiDB_DDL_${ids.gone}`);
    expect(groups).not.toContain(`tidb-mesh-1-TiDB_DDL_${ids.trunc}`);
    for (const n of ['keep', 'gone', 'trunc']) expect(Number((await B.mysql.query(`SELECT COUNT(*) AS n FROM ddl.${n}`))[0].n)).toBe(300);
    expect(Number((await A.mysql.query('SELECT COUNT(*) AS n FROM ddl.trunc'))[0].n)).toBe(0);
    numbers.ddl = { ids, labelRules: await labelRuleIds(), placementGroups: groups };
  });

  test('GC again: the platform resolves what is left of B\'s dead transaction below its new point', async () => {
    const { startTs, left } = numbers.locks;
    const prefix = ksHex(2);
    const before = (await locks(prefix)).locks;
    // The dead server's minstartts key goes with its etcd lease; then both tenants are past it.
    await P.waitFor('every TiDB reports a min start ts above the dead transaction', async () => (await minStartTs(1)) > BigInt(startTs) && (await minStartTs(2)) > BigInt(startTs), { timeoutMs: 120000, intervalMs: 2000 });
    const round = await gcOnce(['--life-time', '0s', '--max-hold', '5m', '--safe-point-wait', '2s']);
    expect(BigInt(round.applied) > BigInt(startTs)).toBe(true);
    expect((await locks(prefix)).locks).toBe(0);
    numbers.locks = { ...numbers.locks, resolvedByPlatform: round.locks.locks, platformTxns: round.locks.txns, leftBeforeRound: before, total: left };
    expect(round.locks.locks).toBe(before);
  });

  test('retire A with --destroy-data: its keys, safe points, etcd namespace and PD rules are gone; B\'s remain; its id stays reserved', async () => {
    const reg = path.join(stack.dir, 'tenants.json');
    require('fs').writeFileSync(reg, JSON.stringify({ apiVersion: 'tidb-mesh.io/v1alpha1', kind: 'TenantRegistry', tenants: [
      { name: A.name, namespace: 'tidb', storageLayer: 'tidb/basic', keyspaceId: 1, keyspaceName: A.name, labels: {}, state: 'active' },
      { name: B.name, namespace: 'tidb', storageLayer: 'tidb/basic', keyspaceId: 2, keyspaceName: B.name, labels: {}, state: 'active' },
    ] }));
    await P.stopProcess(A.tidbProc);
    expect((await stack.raw()).prefixes[ksHex(1)]).toBeGreaterThan(0);
    const bTables = [];
    for (const [db, n] of [['ddl', 'keep'], ['ddl', 'gone'], ['ddl', 'trunc'], ['gc', 't']]) bTables.push(recordPrefix(2, await tableId(B, db, n)));
    const bBefore = await Promise.all(bTables.map(liveKeys));
    const r = await mesh(['tenants', 'retire', `tidb/${A.name}`, '--registry', reg, '--destroy-data', '--pd', 'http://127.0.0.1:2379', '-o', 'json']);
    const rep = JSON.parse(r.stdout.trim().split('\n').pop());
    numbers.retire = rep;
    const raw = await stack.raw();
    expect(raw.prefixes[ksHex(1)] || 0).toBe(0);
    expect(raw.prefixes['79' + ksHex(1).slice(2)] || 0).toBe(0);
    expect(await Promise.all(bTables.map(liveKeys))).toEqual(bBefore);
    expect(raw.prefixes[ksHex(2)]).toBeGreaterThan(0);
    expect((await locks(ksHex(1))).locks).toBe(0);
    expect(await labelRuleIds()).toEqual(['tidb-mesh/2/schema/ddl/gone', 'tidb-mesh/2/schema/ddl/keep', 'tidb-mesh/2/schema/ddl/trunc']);
    expect((await placementGroups()).every((g) => g.startsWith('tidb-mesh-2-'))).toBe(true);
    // A's etcd key space: both parts of the no-digit rule (keyspace/keyspace.ts).
    const etcdCount = async (a, b) => Number(JSON.parse((await stack.pdDirect('POST', '/v3/kv/range', { key: Buffer.from(a).toString('base64'), range_end: Buffer.from(b).toString('base64'), count_only: true })).body).count || 0);
    expect(await etcdCount('/keyspaces/tidb/1\x00', '/keyspaces/tidb/10') + await etcdCount('/keyspaces/tidb/1:', '/keyspaces/tidb/2')).toBe(0);
    expect(await etcdCount('/keyspaces/tidb/2\x00', '/keyspaces/tidb/3')).toBeGreaterThan(0);
    const services = (await pdJson('/pd/api/v1/gc/safepoint')).service_gc_safe_points.map((x) => x.service_id);
    expect(services.some((x) => x.startsWith('tidb-mesh-1-'))).toBe(false);
    expect(JSON.parse(require('fs').readFileSync(reg, 'utf8')).tenants.find((t) => t.name === A.name)).toMatchObject({ keyspaceId: 1, state: 'retired' });
    // B still works.
    expect(Number((await B.mysql.query('SELECT COUNT(*) AS n FROM ddl.keep'))[0].n)).toBe(300);
  });
});
