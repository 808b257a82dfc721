// Why the mesh run differs from TiDB's own keyspace mode, difference by difference. compare.js
// marks a difference that matches no rule here as **unexplained**; the real-TiDB suite fails
// on those (test/tidb/real-tidb.test.js). Paths are TiDB 8.5 (the tidb-server built by
// realstack/build.sh) unless said otherwise.
'use strict';

const LOCK_RESOLUTION = ['KvCheckTxnStatus', 'KvResolveLock', 'KvCheckSecondaryLocks', 'KVPessimisticRollback', 'KvTxnHeartBeat', 'KvCleanup', 'KvScanLock'];

const rules = [
  {
    why: 'intended: Context fields other than api_version/keyspace_id are TiDB\'s own and depend on the code path (is_retry_request after a retry, source_stmt on statement-driven rollbacks); the filter sets only api_version and keyspace_id',
    match: (r) => r.area === 'TiKV Context fields' && !/ApiVersion|KeyspaceId/.test(r.mesh + r.keyspace),
  },
  {
    why: 'timing: lock resolution runs only when a reader or writer meets a lock, which depends on which session gets there first',
    match: (r) => r.area === 'TiKV method' && LOCK_RESOLUTION.includes(r.item),
  },
  {
    why: 'timing: client-go asks PD for several key ranges at once (BatchLocateKeyRanges, BatchScanRegions) only when they miss its region cache together; the pd-server here answers UNIMPLEMENTED (grpc 12) and client-go falls back to ScanRegions (locate/region_cache.go batchScanRegionsFallback)',
    match: (r) => r.item === 'POST /pdpb.PD/BatchScanRegions' && [r.mesh, r.keyspace].every((v) => v === 'not called' || /^\d+× grpc 12$/.test(v)),
  },
  {
    why: 'intended (emulated): the mesh answers GET rule_group/tiflash itself, so no tenant sends the cluster-global POST rule_group; keyspace-mode TiDB creates the group in PD (404, then POST, then the etcd key)',
    match: (r) => r.item.includes('rule_group'),
  },
  {
    why: 'intended: only keyspace-mode TiDB loads its keyspace from PD; an unmodified TiDB does not know it has one, the filter knows the id from its configuration',
    match: (r) => r.item.startsWith('POST /keyspacepb.Keyspace/LoadKeyspace'),
  },
  {
    why: 'intended (docs/gc.md): keyspace-mode 8.5 only reads the global GC safe point (UpdateGCSafePoint(0)); an unmodified TiDB\'s GC worker sends UpdateServiceGCSafePoint("gc_worker", s) and UpdateGCSafePoint(s) (store/gcworker/gc_worker.go); the filter registers the first as the tenant\'s own service safe point tidb-mesh-<id>-gc_worker and sends the second as a read, so only the platform\'s GC controller moves the global point',
    match: (r) => /UpdateGCSafePoint|UpdateServiceGCSafePoint/.test(r.item),
  },
  {
    why: 'intended (docs/gc.md): the tenant\'s GC worker states its safe point as its own service safe point tidb-mesh-<id>-gc_worker (the filter scopes the service id), which the platform\'s GC controller accounts for',
    match: (r) => r.area === 'etcd key' && /^\/pd\/<cluster>\/gc\/safe_point\/service\/tidb-mesh-\d+-gc_worker$/.test(r.item),
  },
  {
    why: 'PD\'s own: the first UpdateServiceGCSafePoint creates the entry of service "gc_worker" (safe point 0 or the minimum, no expiry: pd pkg/storage/endpoint/gc_safe_point.go LoadMinServiceGCSafePoint); keyspace-mode TiDB uses keyspace-level GC and sends none. The tenants cannot write it (their ids are scoped); the platform\'s GC controller sets it to the global point',
    match: (r) => r.area === 'etcd key' && r.item === '/pd/<cluster>/gc/safe_point/service/gc_worker',
  },
  {
    why: 'intended: the mesh concatenates every etcd key onto the namespace byte for byte, so the autoid service and its clients agree; keyspace mode registers the leader under ns + "/" + key (meta/autoid/autoid_service.go) while its clients look under ns + key (meta/autoid/autoid.go), one "/" apart',
    match: (r) => r.area === 'etcd key' && /\/keyspaces\/tidb\/\d+\/?tidb\/autoid\/leader/.test(r.item),
  },
  {
    why: 'intended (docs/gc.md): keyspace-mode TiDB publishes its min start ts globally through an unprefixed etcd client (domain/infosync/info.go storeMinStartTS) so the platform\'s GC sees tenant transactions; through the mesh that write is namespaced like every other key, and the platform\'s GC controller (tidb-mesh gc) reads it in every tenant\'s namespace',
    match: (r) => r.area === 'etcd key' && r.item.startsWith('/tidb/server/minstartts/'),
  },
];

/** The reason for a difference row, or '' when none applies. */
function explain(row) {
  for (const r of rules) if (r.match(row)) return r.why;
  return '';
}

module.exports = { explain, rules };
