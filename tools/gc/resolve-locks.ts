// Lock resolution below a GC safe point, in one keyspace, as the platform: what TiDB's GC worker
// does before it moves the safe point (tidb pkg/store/gcworker/gc_worker.go resolveLocks ->
// client-go tikv.ResolveLocksForRange -> txnlock BatchResolveLocks), written for the keyed
// requests only. Why: the global GC safe point must never pass a lock that is not resolved
// (after GC the write record that says whether its transaction committed may be gone, and a
// later reader would roll back a committed secondary). Every lock with start_ts <= T belongs
// to a transaction that is not running (T is below every tenant's oldest transaction:
// controller.ts), so, like TiDB's GC worker, its status is decided now (CheckTxnStatus with
// current_ts = max: an uncommitted primary is rolled back) and the locks are resolved with
// their keys. Async-commit transactions are decided from their secondaries
// (CheckSecondaryLocks, as client-go checkAllSecondaries); pessimistic locks are rolled back.
import { keyspaceRange } from '../storage/codec';
import { PdClient, Region } from '../storage/pd-client';
import { TikvClient } from '../storage/tikv-client';

const MAX_U64 = (1n << 64n) - 1n;
const SCAN_LIMIT = 1024;
const OP_PESSIMISTIC_LOCK = 5;

export interface ResolveStats { regions: number; locks: number; txns: number; committed: number; rolledBack: number }

interface Lock { primary: Buffer; ts: bigint; key: Buffer; type: number; forUpdateTs: bigint; asyncCommit: boolean; minCommitTs: bigint; secondaries: Buffer[] }

function lockOf(l: any): Lock {
  return {
    primary: Buffer.from(l.primary_lock), ts: l.lock_version, key: Buffer.from(l.key), type: l.lock_type,
    forUpdateTs: l.lock_for_update_ts, asyncCommit: Boolean(l.use_async_commit), minCommitTs: l.min_commit_ts,
    secondaries: (l.secondaries ?? []).map((s: Buffer) => Buffer.from(s)),
  };
}

const inRegion = (r: Region, k: Buffer) => Buffer.compare(k, r.start) >= 0 && (r.end.length === 0 || Buffer.compare(k, r.end) < 0);

/** Resolves every lock with start_ts <= maxVersion in keyspace `keyspaceId`'s txn keys. */
export async function resolveLocksBelow(pd: PdClient, keyspaceId: number, maxVersion: bigint, log: (l: string) => void): Promise<ResolveStats> {
  const kv = new TikvClient(pd, keyspaceId);
  const { start, end } = keyspaceRange('txn', keyspaceId);
  const stats: ResolveStats = { regions: 0, locks: 0, txns: 0, committed: 0, rolledBack: 0 };
  const seen = new Set<bigint>();
  let from = start;
  while (Buffer.compare(from, end) < 0) {
    const region = await pd.regionOfKey(from);
    const scanEnd = region.end.length === 0 || Buffer.compare(region.end, end) > 0 ? end : region.end;
    stats.regions++;
    for (let round = 0; ; round++) {
      const r = await kv.call(region, 'KvScanLock', 'kvrpcpb.ScanLockRequest', 'kvrpcpb.ScanLockResponse',
        { max_version: maxVersion, start_key: from, end_key: scanEnd, limit: SCAN_LIMIT });
      if (r.region_error) throw new Error(`KvScanLock in region ${region.id}: ${r.region_error.message || 'region error'} (the next round retries)`);
      if (r.error) throw new Error(`KvScanLock in region ${region.id}: ${JSON.stringify(r.error)}`);
      const locks: Lock[] = r.locks.map(lockOf);
      if (locks.length === 0) break;
      if (round >= 20) throw new Error(`${locks.length} lock(s) below ${maxVersion} in keyspace ${keyspaceId} region ${region.id} stay after 20 rounds of resolution`);
      stats.locks += locks.length;
      await resolveBatch(pd, kv, region, locks, stats, seen, log);
    }
    from = scanEnd;
  }
  return stats;
}

async function resolveBatch(pd: PdClient, kv: TikvClient, region: Region, locks: Lock[], stats: ResolveStats, seen: Set<bigint>, log: (l: string) => void): Promise<void> {
  const byTxn = new Map<bigint, Lock[]>();
  for (const l of locks) byTxn.set(l.ts, [...(byTxn.get(l.ts) ?? []), l]);
  for (const [ts, ls] of byTxn) {
    // A transaction with more locks than one scan returns is met once per scan: counted once.
    const first = !seen.has(ts);
    seen.add(ts);
    if (first) stats.txns++;
    const pessimistic = ls.filter((l) => l.type === OP_PESSIMISTIC_LOCK);
    const others = ls.filter((l) => l.type !== OP_PESSIMISTIC_LOCK);
    if (pessimistic.length) {
      // Pessimistic locks are never committed as they are (prewrite replaces them): roll back.
      const r = await kv.call(region, 'KVPessimisticRollback', 'kvrpcpb.PessimisticRollbackRequest', 'kvrpcpb.PessimisticRollbackResponse',
        { start_version: ts, for_update_ts: MAX_U64, keys: pessimistic.map((l) => l.key) });
      if (r.region_error) throw new Error(`KVPessimisticRollback in region ${region.id}: ${r.region_error.message || 'region error'}`);
      if (r.errors?.length) throw new Error(`KVPessimisticRollback of txn ${ts}: ${JSON.stringify(r.errors[0])}`);
      if (first && !others.length) stats.rolledBack++;
    }
    if (!others.length) continue;
    const { commitTs, keys } = await decide(pd, kv, others[0]);
    log(`  txn ${ts}: ${commitTs > 0n ? `committed at ${commitTs}` : 'rolled back'}; resolving ${others.length} lock(s) in region ${region.id}`);
    if (first) { if (commitTs > 0n) stats.committed++; else stats.rolledBack++; }
    // The scanned locks of this region, and for async commit every key of the transaction.
    const all = [...others.map((l) => l.key), ...keys];
    await resolveKeys(pd, kv, ts, commitTs, all);
  }
}

/** ResolveLock with keys, one request per region (TiKV needs the keys inside the region it names). */
async function resolveKeys(pd: PdClient, kv: TikvClient, ts: bigint, commitTs: bigint, keys: Buffer[]): Promise<void> {
  const seen = new Set<string>();
  let rest = keys.filter((k) => { const h = k.toString('hex'); if (seen.has(h)) return false; seen.add(h); return true; });
  while (rest.length) {
    const region = await pd.regionOfKey(rest[0]);
    const mine = rest.filter((k) => inRegion(region, k));
    rest = rest.filter((k) => !inRegion(region, k));
    const r = await kv.call(region, 'KvResolveLock', 'kvrpcpb.ResolveLockRequest', 'kvrpcpb.ResolveLockResponse',
      { start_version: ts, commit_version: commitTs, keys: mine });
    if (r.region_error) throw new Error(`KvResolveLock in region ${region.id}: ${r.region_error.message || 'region error'}`);
    if (r.error) throw new Error(`KvResolveLock of txn ${ts}: ${JSON.stringify(r.error)}`);
  }
}

/**
 * The fate of lock `l`'s transaction: its commit ts (0: rolled back), and, for async commit,
 * the keys to resolve beyond the scanned ones (its primary and secondaries).
 */
async function decide(pd: PdClient, kv: TikvClient, l: Lock, forceSync = false): Promise<{ commitTs: bigint; keys: Buffer[] }> {
  const region = await pd.regionOfKey(l.primary);
  const r = await kv.call(region, 'KvCheckTxnStatus', 'kvrpcpb.CheckTxnStatusRequest', 'kvrpcpb.CheckTxnStatusResponse', {
    primary_key: l.primary, lock_ts: l.ts, caller_start_ts: 0n, current_ts: MAX_U64, rollback_if_not_exist: true, force_sync_commit: forceSync,
  });
  if (r.region_error) throw new Error(`KvCheckTxnStatus in region ${region.id}: ${r.region_error.message || 'region error'}`);
  if (r.error) throw new Error(`KvCheckTxnStatus of txn ${l.ts}: ${JSON.stringify(r.error)}`);
  if (r.commit_version > 0n) return { commitTs: r.commit_version, keys: [] };
  if (r.lock_ttl === 0n) return { commitTs: 0n, keys: [] };
  const primary = r.lock_info;
  if (!primary || !primary.use_async_commit || forceSync) {
    throw new Error(`txn ${l.ts} is still locked after CheckTxnStatus with current_ts = max (not expected below the GC safe point)`);
  }
  // Async commit: committed iff every secondary is (or was) prewritten; at the largest min_commit_ts.
  const secondaries: Buffer[] = (primary.secondaries ?? []).map((s: Buffer) => Buffer.from(s));
  let commitTs = primary.min_commit_ts as bigint;
  let rest = secondaries.slice();
  while (rest.length) {
    const reg = await pd.regionOfKey(rest[0]);
    const mine = rest.filter((k) => inRegion(reg, k));
    rest = rest.filter((k) => !inRegion(reg, k));
    const c = await kv.call(reg, 'KvCheckSecondaryLocks', 'kvrpcpb.CheckSecondaryLocksRequest', 'kvrpcpb.CheckSecondaryLocksResponse',
      { keys: mine, start_version: l.ts });
    if (c.region_error) throw new Error(`KvCheckSecondaryLocks in region ${reg.id}: ${c.region_error.message || 'region error'}`);
    if (c.error) throw new Error(`KvCheckSecondaryLocks of txn ${l.ts}: ${JSON.stringify(c.error)}`);
    if (c.commit_ts > 0n) return { commitTs: c.commit_ts, keys: [Buffer.from(primary.key ?? l.primary), ...secondaries] };
    if (c.locks.length < mine.length) return { commitTs: 0n, keys: [Buffer.from(l.primary), ...secondaries] };
    for (const s of c.locks) {
      if (!s.use_async_commit) return decide(pd, kv, l, true);
      if (s.min_commit_ts > commitTs) commitTs = s.min_commit_ts;
    }
  }
  return { commitTs, keys: [Buffer.from(l.primary), ...secondaries] };
}
