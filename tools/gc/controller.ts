// One round of the platform's GC: the only writer of the global GC safe point of a storage
// layer shared by tenants (docs/gc.md has the design and the safety argument).
//
// Open-source TiKV collects below one global GC safe point (it reads only GetGCSafePoint). A
// round computes, for every keyspace, the oldest point it still needs, takes the minimum with
// the platform's own service safe points, resolves every lock below it, publishes it to the
// tenants' readers, waits for their caches, and only then moves PD's GC safe point:
//   1. now = PD TSO; G = the current GC safe point.
//   2. per keyspace K (every keyspace PD knows, id >= 1), bound(K) = the minimum of
//      - each of its TiDB servers' oldest running transaction: etcd <ns>/tidb/server/minstartts/<server>
//        minus one (TiDB reports it every 30 s, infosync.ReportMinStartTS), and for a server
//        that registered (<ns>/tidb/server/info/<server>) but has not reported yet, its start
//        time (every transaction of it is younger) minus the clock skew allowance;
//      - its own service safe points ("tidb-mesh-<K>-…": its GC worker's tidb_gc_life_time,
//        its BR/CDC; the filter scopes them, schema/gc.ts);
//      - now - life time (the platform's floor for K, default 10 min as TiDB's).
//      A bound older than now - max-hold is ignored, as TiDB ignores transactions older than
//      tidb_gc_max_wait_time (infosync.ReportMinStartTS): a transaction or a service that old
//      loses its history (its next read below the new point fails with TiDB's GC error, it
//      never reads wrong data: step 7). Ignored service safe points are deleted, so PD's own
//      minimum agrees with the round.
//   3. platform services (any other id except "gc_worker") bound it too, uncapped.
//   4. T = min(all); nothing to do when T <= G.
//   5. the platform's "gc_worker" service safe point := T (from now on PD refuses a service
//      safe point below T: BR cannot register behind the round's back); T = min(T, PD's min).
//   6. resolve every lock with start_ts <= T in every keyspace (resolve-locks.ts).
//   7. etcd /tidb/store/gcworker/saved_safe_point := T (every tenant's client-go reads it
//      through the filter's one shared read, keyspace/etcd.ts, and refuses reads below it).
//   8. wait safe-point-wait (TiDB: GcSafePointCacheInterval, 100 s: a TiDB may use a cached
//      saved safe point that long).
//   9. PD UpdateGCSafePoint(T); every TiKV then collects below T.
import { msOfTs, tsOfMs } from '../storage/codec';
import { PdClient, ServiceSafePoint } from '../storage/pd-client';
import { resolveLocksBelow, ResolveStats } from './resolve-locks';

export const SAVED_SAFE_POINT_KEY = '/tidb/store/gcworker/saved_safe_point';
export const PLATFORM_SERVICE = 'gc_worker';
const MAX_I64 = (1n << 63n) - 1n;

export interface GcOptions {
  /** Platform floor of retained history per keyspace (ms); per-keyspace overrides. */
  lifeTimeMs: number;
  lifeTimeByKeyspace: Map<number, number>;
  /** A keyspace's bound older than this (ms) is ignored (TiDB's tidb_gc_max_wait_time, 24 h). */
  maxHoldMs: number;
  /** How long readers may cache the saved safe point (ms; TiDB: 100 s). */
  safePointWaitMs: number;
  /** Allowance for TiDB hosts' clocks when a server's start time bounds its transactions (ms). */
  clockSkewMs: number;
  /** The tenants' etcd namespace template (the filter's etcdNamespace). */
  etcdNamespace: string;
  sleep?: (ms: number) => Promise<void>;
  /** Lock resolution (resolve-locks.ts; tests replace it). */
  resolve?: (pd: PdClient, keyspaceId: number, maxVersion: bigint, log: (l: string) => void) => Promise<ResolveStats>;
}

export const DEFAULT_OPTIONS: GcOptions = {
  lifeTimeMs: 10 * 60_000, lifeTimeByKeyspace: new Map(), maxHoldMs: 24 * 3600_000, safePointWaitMs: 100_000,
  clockSkewMs: 10_000, etcdNamespace: '/keyspaces/tidb/{id}',
};

export interface Bound { keyspace: number | null; what: string; ts: bigint }

export interface GcRound {
  now: bigint;
  previous: bigint;
  /** The GC safe point this round moved to, or null when it did not move. */
  applied: bigint | null;
  target: bigint;
  /** The constraint that decided the target. */
  heldBy: Bound;
  bounds: Bound[];
  /** Bounds older than max-hold, not honoured. */
  ignored: Bound[];
  deletedServices: string[];
  locks: ResolveStats;
  note: string;
}

/** The service id prefix of keyspace K's scoped service safe points (schema/gc.ts, keyspace.ts serviceScope). */
export const serviceScope = (k: number) => `tidb-mesh-${k}-`;
const TENANT_SERVICE = /^tidb-mesh-(\d+)-/;

const prefixEnd = (p: Buffer) => {
  const b = Buffer.from(p);
  for (let i = b.length - 1; i >= 0; i--) { if (b[i] !== 0xff) { b[i]++; return b.subarray(0, i + 1); } }
  return Buffer.alloc(0);
};

/** The keyspace's etcd namespace and the key of one of its TiDB paths (TiDB's keys start with "/tidb"). */
export function etcdKey(template: string, k: number, path: string): Buffer {
  return Buffer.from(template.replace('{id}', String(k)) + path);
}

async function keyspaceBounds(pd: PdClient, k: number, now: bigint, services: ServiceSafePoint[], o: GcOptions): Promise<Bound[]> {
  const out: Bound[] = [];
  const info = etcdKey(o.etcdNamespace, k, '/tidb/server/info/');
  const mst = etcdKey(o.etcdNamespace, k, '/tidb/server/minstartts/');
  const minStart = new Map<string, bigint>();
  for (const kv of await pd.etcdRange(mst, prefixEnd(mst))) {
    const v = /^\d+$/.test(kv.value.toString()) ? BigInt(kv.value.toString()) : 0n;
    if (v > 0n) minStart.set(kv.key.subarray(mst.length).toString(), v);
  }
  for (const kv of await pd.etcdRange(info, prefixEnd(info))) {
    const id = kv.key.subarray(info.length).toString();
    const m = minStart.get(id);
    if (m !== undefined) continue;
    let startSec = 0;
    try { startSec = Number(JSON.parse(kv.value.toString()).start_timestamp) || 0; } catch { /* malformed: the server started at 0 */ }
    out.push({ keyspace: k, what: `TiDB ${id} (started, no minstartts yet)`, ts: tsOfMs(startSec * 1000 - o.clockSkewMs) });
  }
  for (const [id, v] of minStart) out.push({ keyspace: k, what: `oldest transaction of TiDB ${id}`, ts: v - 1n });
  for (const s of services) {
    const m = TENANT_SERVICE.exec(s.serviceId);
    if (m && Number(m[1]) === k) out.push({ keyspace: k, what: `service safe point ${s.serviceId}`, ts: s.safePoint });
  }
  const life = o.lifeTimeByKeyspace.get(k) ?? o.lifeTimeMs;
  out.push({ keyspace: k, what: `life time ${life / 1000}s`, ts: tsOfMs(msOfTs(now) - life) });
  return out;
}

/**
 * Runs one round (steps above). Throws on anything unexpected before the GC safe point moved;
 * the global point is only ever moved in the last step.
 */
export async function gcRound(pd: PdClient, o: GcOptions, log: (line: string) => void): Promise<GcRound> {
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  // A TiDB without keyspace on this storage runs its own GC worker, which also writes the
  // global point: two writers cannot both account for everyone. Refuse.
  const nullKs = Buffer.from('/tidb/server/info/');
  if ((await pd.etcdRange(nullKs, prefixEnd(nullKs))).length) {
    throw new Error('a TiDB without keyspace (/tidb/server/info/ in etcd) uses this storage layer; its own GC worker moves the global GC safe point, so tidb-mesh gc does not');
  }
  const now = await pd.tso();
  const previous = await pd.gcSafePoint();
  const expired = (s: ServiceSafePoint) => s.expiredAt < BigInt(Math.floor(msOfTs(now) / 1000));
  const services = (await pd.serviceSafePoints()).filter((s) => !expired(s));
  const keyspaces = (await pd.keyspaces()).filter((k) => k.id >= 1 && k.id < 0xffffff);
  const floor = tsOfMs(msOfTs(now) - o.maxHoldMs);
  const bounds: Bound[] = [];
  const ignored: Bound[] = [];
  for (const ks of keyspaces) {
    for (const b of await keyspaceBounds(pd, ks.id, now, services, o)) (b.ts < floor ? ignored : bounds).push(b);
  }
  for (const s of services) {
    if (s.serviceId === PLATFORM_SERVICE || TENANT_SERVICE.test(s.serviceId)) continue;
    bounds.push({ keyspace: null, what: `platform service safe point ${s.serviceId}`, ts: s.safePoint });
  }
  bounds.push({ keyspace: null, what: 'now', ts: now });
  let heldBy = bounds.reduce((a, b) => (b.ts < a.ts ? b : a));
  const base = { now, previous, bounds, ignored, deletedServices: [] as string[], locks: { regions: 0, locks: 0, txns: 0, committed: 0, rolledBack: 0 } };
  if (heldBy.ts <= previous) {
    return { ...base, applied: null, target: heldBy.ts, heldBy, note: `nothing to collect: held at ${heldBy.ts} by ${describe(heldBy)} (GC safe point ${previous})` };
  }
  // Ignored service safe points go, so that PD's minimum agrees with the round.
  for (const c of ignored) {
    const m = /^service safe point (.*)$/.exec(c.what);
    if (!m) continue;
    await pd.deleteServiceSafePoint(m[1]);
    base.deletedServices.push(m[1]);
    log(`deleted service safe point ${m[1]} of keyspace ${c.keyspace}: ${c.ts} is older than max-hold`);
  }
  let target = heldBy.ts;
  const reg = await pd.updateServiceSafePoint(PLATFORM_SERVICE, MAX_I64, target);
  if (reg.min < target) {
    heldBy = { keyspace: null, what: `service safe point ${reg.minService} (registered during this round)`, ts: reg.min };
    target = reg.min;
    if (target <= previous) return { ...base, applied: null, target, heldBy, note: `nothing to collect: held by ${describe(heldBy)}` };
  }
  log(`target ${target} (${new Date(msOfTs(target)).toISOString()}), held by ${describe(heldBy)}`);
  for (const ks of keyspaces) {
    const s = await (o.resolve ?? resolveLocksBelow)(pd, ks.id, target, log);
    for (const k of Object.keys(s) as Array<keyof ResolveStats>) base.locks[k] += s[k];
    if (s.locks) log(`keyspace ${ks.id}: resolved ${s.locks} lock(s) of ${s.txns} transaction(s) below the target`);
  }
  const key = Buffer.from(SAVED_SAFE_POINT_KEY);
  const saved = (await pd.etcdRange(key))[0];
  if (!saved || !/^\d+$/.test(saved.value.toString()) || BigInt(saved.value.toString()) < target) {
    await pd.etcdPut(key, Buffer.from(target.toString()));
  }
  log(`saved safe point published; waiting ${o.safePointWaitMs / 1000}s for the tenants' readers`);
  await sleep(o.safePointWaitMs);
  const applied = await pd.updateGCSafePoint(target);
  if (applied < target) throw new Error(`PD kept GC safe point ${applied} below ${target}`);
  return { ...base, applied, target, heldBy, note: `GC safe point ${previous} -> ${applied}` };
}

export function describe(b: Bound): string {
  return b.keyspace === null ? b.what : `keyspace ${b.keyspace}: ${b.what}`;
}
