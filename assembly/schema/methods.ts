// The allowlist: every gRPC method the filter lets through, and how. A :path that is not in
// this table is refused with UNIMPLEMENTED before any byte reaches the upstream.
import { MessageDesc } from "./types";
import * as T from "./tikv";
import * as PD from "./pd";
import * as E from "./etcd";
import * as MS from "./metastorage";
import * as RM from "./resource";
import * as GC from "./gc";

/** Both directions are walked with the method's tables. */
export const POLICY_REWRITE: i32 = 0;
/** Known to carry no keys in either direction: bytes pass untouched. */
export const POLICY_PASS: i32 = 1;
/** Known and refused for tenants with PERMISSION_DENIED (cannot be scoped to one keyspace). */
export const POLICY_DENY: i32 = 2;

export class Method {
  path: string;
  policy: i32;
  request: MessageDesc | null;
  response: MessageDesc | null;
  /** Refused in prefix mode (the coprocessor needs API v2 to strip prefixes inside TiKV). */
  apiV2Only: bool;
  /** Why a denied method is denied (grpc-message). */
  reason: string;
  /** The server sends a stream of messages (its trailers may never come). */
  streamingResponse: bool = false;
  constructor(path: string, policy: i32, request: MessageDesc | null, response: MessageDesc | null, apiV2Only: bool, reason: string) {
    this.path = path;
    this.policy = policy;
    this.request = request;
    this.response = response;
    this.apiV2Only = apiV2Only;
    this.reason = reason;
  }
}

const table = new Map<string, Method>();

/** Registers a rewritten method. */
export function rewrite(path: string, request: MessageDesc, response: MessageDesc, apiV2Only: bool = false): void {
  table.set(path, new Method(path, POLICY_REWRITE, request, response, apiV2Only, ""));
}
/** Registers a rewritten method whose response is a stream (server-streaming or bidi). */
export function rewriteStream(path: string, request: MessageDesc, response: MessageDesc, apiV2Only: bool = false): void {
  const m = new Method(path, POLICY_REWRITE, request, response, apiV2Only, "");
  m.streamingResponse = true;
  table.set(path, m);
}
/** Registers a keyless method whose bytes pass untouched. */
export function pass(path: string): void {
  table.set(path, new Method(path, POLICY_PASS, null, null, false, ""));
}
/** Registers a method refused with PERMISSION_DENIED and a reason. */
export function deny(path: string, reason: string): void {
  table.set(path, new Method(path, POLICY_DENY, null, null, false, reason));
}

/** The method for a :path, or null (then the call is UNIMPLEMENTED). */
export function lookupMethod(path: string): Method | null {
  if (!table.has(path)) return null;
  return table.get(path);
}

/** Number of registered methods (for tests and the startup log). */
export function methodCount(): i32 { return table.size; }

/** Every registered :path, in no particular order (the schema completeness check lists them). */
export function methodPaths(): Array<string> { return table.keys(); }

function tikv(): void {
  const p = "/tikvpb.Tikv/";
  rewrite(p + "KvGet", T.GetRequest, T.RegionAndKeyError);
  rewrite(p + "KvScan", T.ScanRequest, T.ScanResponse);
  rewrite(p + "KvPrewrite", T.PrewriteRequest, T.RegionAndKeyError);
  rewrite(p + "KvPessimisticLock", T.PessimisticLockRequest, T.RegionAndKeyError);
  rewrite(p + "KVPessimisticRollback", T.PessimisticRollbackRequest, T.RegionAndKeyError);
  rewrite(p + "KvTxnHeartBeat", T.TxnHeartBeatRequest, T.RegionAndKeyError);
  rewrite(p + "KvCheckTxnStatus", T.CheckTxnStatusRequest, T.CheckTxnStatusResponse);
  rewrite(p + "KvCheckSecondaryLocks", T.CheckSecondaryLocksRequest, T.LocksResponse);
  rewrite(p + "KvCommit", T.CommitRequest, T.RegionAndKeyError);
  rewrite(p + "KvCleanup", T.CleanupRequest, T.RegionAndKeyError);
  rewrite(p + "KvBatchGet", T.BatchGetRequest, T.BatchGetResponse);
  rewrite(p + "KvBatchRollback", T.BatchRollbackRequest, T.RegionAndKeyError);
  rewrite(p + "KvScanLock", T.ScanLockRequest, T.LocksResponse);
  rewrite(p + "KvResolveLock", T.ResolveLockRequest, T.RegionAndKeyError);
  rewrite(p + "KvDeleteRange", T.DeleteRangeRequest, T.RegionErrorOnly);
  rewrite(p + "KvPrepareFlashbackToVersion", T.PrepareFlashbackRequest, T.RegionErrorOnly);
  rewrite(p + "KvFlashbackToVersion", T.FlashbackRequest, T.RegionErrorOnly);
  rewrite(p + "KvFlush", T.FlushRequest, T.RegionAndKeyError);
  rewrite(p + "KvBufferBatchGet", T.BufferBatchGetRequest, T.BufferBatchGetResponse);

  rewrite(p + "RawGet", T.RawGetRequest, T.RawRegionErrorOnly);
  rewrite(p + "RawBatchGet", T.RawBatchGetRequest, T.RawPairsResponse);
  rewrite(p + "RawPut", T.RawPutRequest, T.RawRegionErrorOnly);
  rewrite(p + "RawBatchPut", T.RawBatchPutRequest, T.RawRegionErrorOnly);
  rewrite(p + "RawDelete", T.RawDeleteRequest, T.RawRegionErrorOnly);
  rewrite(p + "RawBatchDelete", T.RawBatchDeleteRequest, T.RawRegionErrorOnly);
  rewrite(p + "RawScan", T.RawScanRequest, T.RawPairsResponse);
  rewrite(p + "RawDeleteRange", T.RawDeleteRangeRequest, T.RawRegionErrorOnly);
  rewrite(p + "RawGetKeyTTL", T.RawGetKeyTTLRequest, T.RawRegionErrorOnly);
  rewrite(p + "RawCompareAndSwap", T.RawCASRequest, T.RawRegionErrorOnly);
  rewrite(p + "RawChecksum", T.RawChecksumRequest, T.RawRegionErrorOnly);

  rewrite(p + "UnsafeDestroyRange", T.UnsafeDestroyRangeRequest, T.RegionErrorOnly);
  rewrite(p + "CheckLockObserver", T.ContextOnlyRequest, T.CheckLockObserverResponse);
  rewrite(p + "PhysicalScanLock", T.PhysicalScanLockRequest, T.PhysicalScanLockResponse);
  rewrite(p + "Coprocessor", T.CopRequest, T.CopResponse, true);
  rewriteStream(p + "CoprocessorStream", T.CopRequest, T.CopResponse, true);
  rewriteStream(p + "BatchCoprocessor", T.BatchCopRequest, T.BatchCopResponse, true);
  rewrite(p + "SplitRegion", T.SplitRegionRequest, T.SplitRegionResponse);
  rewrite(p + "MvccGetByKey", T.MvccGetByKeyRequest, T.MvccGetByKeyResponse);
  rewrite(p + "MvccGetByStartTs", T.ContextOnlyRequest, T.MvccGetByStartTsResponse);
  rewriteStream(p + "BatchCommands", T.BatchCommandsRequest, T.BatchCommandsResponse);
  rewrite(p + "GetStoreSafeTS", T.StoreSafeTSRequest, T.NoKeysResponse);
  rewrite(p + "GetLockWaitInfo", T.ContextOnlyRequest, T.LockWaitResponse);
  rewrite(p + "GetLockWaitHistory", T.ContextOnlyRequest, T.LockWaitResponse);
  rewrite(p + "GetHealthFeedback", T.ContextOnlyRequest, T.RegionErrorOnly);
  rewrite(p + "BroadcastTxnStatus", T.ContextOnlyRequest, T.NoKeysResponse);

  deny(p + "KvGC", "KvGC is store-wide GC; GC is PD-driven per keyspace");
  deny(p + "KvImport", "KvImport carries no Context and is not used by TiDB");
  deny(p + "RawBatchScan", "RawBatchScan is not supported");
  deny(p + "RawCoprocessor", "RawCoprocessor carries opaque plugin data");
  deny(p + "RegisterLockObserver", "lock observers belong to store-wide GC");
  deny(p + "RemoveLockObserver", "lock observers belong to store-wide GC");
  deny(p + "DelegateCoprocessor", "DelegateCoprocessor is TiKV-internal");
  deny(p + "Raft", "Raft is TiKV peer traffic");
  deny(p + "BatchRaft", "BatchRaft is TiKV peer traffic");
  deny(p + "Snapshot", "Snapshot is TiKV peer traffic");
  deny(p + "TabletSnapshot", "TabletSnapshot is TiKV peer traffic");
  deny(p + "ReadIndex", "ReadIndex is TiFlash-to-TiKV traffic");
  deny(p + "CheckLeader", "CheckLeader is TiKV peer traffic");
  deny(p + "Compact", "Compact takes opaque keys");
  deny(p + "DispatchMPPTask", "TiFlash MPP is not supported yet");
  deny(p + "CancelMPPTask", "TiFlash MPP is not supported yet");
  deny(p + "EstablishMPPConnection", "TiFlash MPP is not supported yet");
  deny(p + "IsAlive", "TiFlash MPP is not supported yet");
  deny(p + "ReportMPPTaskStatus", "TiFlash MPP is not supported yet");
}

tikv();

// PD: region routing is rewritten, GC calls are scoped to the tenant's keyspace, keyless calls
// that TiDB makes pass, and everything else (TiKV/PD-internal, cluster-wide writes) is denied.
// docs/pd-etcd.md has the same table with the reasons.
function regionRouting(p: string): void {
  rewrite(p + "GetRegion", PD.GetRegionRequest, PD.GetRegionResponse);
  rewrite(p + "GetPrevRegion", PD.GetRegionRequest, PD.GetRegionResponse);
  rewrite(p + "GetRegionByID", PD.PlainRequest, PD.GetRegionResponse);
  rewriteStream(p + "QueryRegion", PD.QueryRegionRequest, PD.QueryRegionResponse);
  rewrite(p + "BatchScanRegions", PD.BatchScanRegionsRequest, PD.BatchScanRegionsResponse);
  rewrite(p + "GetStore", PD.PlainRequest, PD.GetStoreResponse);
  pass(p + "GetAllStores");
}

function pd(): void {
  const p = "/pdpb.PD/";
  regionRouting(p);
  rewrite(p + "ScanRegions", PD.ScanRegionsRequest, PD.ScanRegionsResponse);
  rewrite(p + "SplitRegions", PD.SplitKeysRequest, PD.PlainRequest);
  rewrite(p + "SplitAndScatterRegions", PD.SplitKeysRequest, PD.PlainRequest);
  rewrite(p + "ScatterRegion", PD.ScatterRegionRequest, PD.PlainRequest);

  pass(p + "GetClusterInfo");
  pass(p + "GetMembers");
  pass(p + "Tso");
  pass(p + "GetMinTS");
  pass(p + "GetClusterConfig");
  pass(p + "GetOperator");
  pass(p + "GetGCSafePoint");
  pass(p + "LoadGlobalConfig");
  pass(p + "WatchGlobalConfig");
  pass(p + "GetExternalTimestamp");

  // GC: v2 and GC-states calls are forced to the tenant's keyspace; global writes are denied.
  rewrite(p + "GetGCSafePointV2", PD.GetGCSafePointV2Request, PD.PlainRequest, true);
  rewrite(p + "UpdateGCSafePointV2", PD.UpdateGCSafePointV2Request, PD.PlainRequest, true);
  rewrite(p + "UpdateServiceSafePointV2", PD.UpdateServiceSafePointV2Request, PD.PlainRequest, true);
  rewrite(p + "GetAllGCSafePointV2", PD.PlainRequest, PD.GetAllGCSafePointV2Response, true);
  rewriteStream(p + "WatchGCSafePointV2", PD.PlainRequest, PD.WatchGCSafePointV2Response, true);
  rewrite(p + "AdvanceGCSafePoint", PD.ScopedRequest, PD.PlainRequest, true);
  rewrite(p + "AdvanceTxnSafePoint", PD.ScopedRequest, PD.PlainRequest, true);
  rewrite(p + "SetGCBarrier", PD.ScopedRequest, PD.PlainRequest, true);
  rewrite(p + "DeleteGCBarrier", PD.ScopedRequest, PD.PlainRequest, true);
  rewrite(p + "GetGCState", PD.ScopedRequest, PD.PlainRequest, true);
  rewrite(p + "GetAllKeyspacesGCStates", PD.PlainRequest, PD.GetAllKeyspacesGCStatesResponse, true);
  // TiDB's GC worker (8.5 and this master) sends both once per run (tidb
  // pkg/store/gcworker/gc_worker.go setGCWorkerServiceSafePoint, uploadSafePointToPD); BR,
  // Lightning and log backup register service safe points too. The global GC safe point is
  // moved only by the platform's GC controller (`tidb-mesh gc`, docs/gc.md): a tenant's service
  // safe point is registered under its own scope and holds the global point back; its
  // UpdateGCSafePoint is answered from the global point and never moves it (schema/gc.ts).
  rewrite(p + "UpdateServiceGCSafePoint", GC.UpdateServiceGCSafePointRequest, GC.UpdateServiceGCSafePointResponse, true);
  rewrite(p + "UpdateGCSafePoint", GC.UpdateGCSafePointRequest, GC.UpdateGCSafePointResponse, true);
  deny(p + "SetGlobalGCBarrier", "global GC barriers hold GC for every keyspace");
  deny(p + "DeleteGlobalGCBarrier", "global GC barriers belong to the cluster");

  const internal = "is TiKV/PD-internal traffic";
  deny(p + "Bootstrap", "Bootstrap " + internal);
  deny(p + "IsBootstrapped", "IsBootstrapped " + internal);
  deny(p + "AllocID", "AllocID " + internal);
  deny(p + "IsSnapshotRecovering", "IsSnapshotRecovering " + internal);
  deny(p + "PutStore", "PutStore " + internal);
  deny(p + "StoreHeartbeat", "StoreHeartbeat " + internal);
  deny(p + "RegionHeartbeat", "RegionHeartbeat " + internal);
  deny(p + "AskSplit", "AskSplit " + internal);
  deny(p + "ReportSplit", "ReportSplit " + internal);
  deny(p + "AskBatchSplit", "AskBatchSplit " + internal);
  deny(p + "ReportBatchSplit", "ReportBatchSplit " + internal);
  deny(p + "SyncRegions", "SyncRegions " + internal);
  deny(p + "SyncMaxTS", "SyncMaxTS " + internal);
  deny(p + "GetDCLocationInfo", "GetDCLocationInfo " + internal);
  deny(p + "ReportBuckets", "ReportBuckets " + internal);
  deny(p + "ReportMinResolvedTS", "ReportMinResolvedTS " + internal);
  deny(p + "PutClusterConfig", "the cluster configuration is shared by every tenant");
  deny(p + "StoreGlobalConfig", "the global configuration is shared by every tenant");
  deny(p + "SetExternalTimestamp", "the external timestamp is shared by every tenant");

  regionRouting("/routerpb.Router/");

  const k = "/keyspacepb.Keyspace/";
  rewrite(k + "LoadKeyspace", PD.PlainRequest, PD.LoadKeyspaceResponse, true);
  // Not in any pinned kvproto (schema/upstream-protos.js), so their fields cannot be checked.
  const unpinned = " is not in the pinned kvproto schemas: its fields cannot be checked";
  deny(k + "LoadKeyspaceByID", "LoadKeyspaceByID" + unpinned);
  deny(k + "LookupKeyspace", "LookupKeyspace" + unpinned);
  rewrite(k + "GetAllKeyspaces", PD.PlainRequest, PD.KeyspacesResponse, true);
  rewriteStream(k + "WatchKeyspaces", PD.PlainRequest, PD.KeyspacesResponse, true);
  deny(k + "UpdateKeyspaceState", "keyspace state is managed by the operator, not a tenant");
  const ns = "/keyspacepb.Namespace/";
  const nsWhy = "keyspace namespaces are managed by the operator, not a tenant";
  deny(ns + "CreateNamespace", nsWhy);
  deny(ns + "LoadNamespace", nsWhy);
  deny(ns + "GetAllNamespaces", nsWhy);
  deny(ns + "UpdateNamespaceState", nsWhy);

  // PD meta storage reads PD's etcd with raw keys: reads inside "resource_group/" only
  // (schema/metastorage.ts), writes never.
  const ms = "/meta_storagepb.MetaStorage/";
  rewrite(ms + "Get", MS.GetRequest, MS.GetResponse);
  rewriteStream(ms + "Watch", MS.WatchRequest, MS.WatchResponse);
  const msWhy = "PD meta storage is shared by every tenant and read-only for tenants";
  deny(ms + "Put", msWhy);
  deny(ms + "Delete", msWhy);

  // Resource groups are cluster-wide (schema/resource.ts): a tenant uses them (normally
  // "default") and reports its consumption to them, but never changes them.
  const rm = "/resource_manager.ResourceManager/";
  rewrite(rm + "ListResourceGroups", RM.ListResourceGroupsRequest, RM.Untouched);
  rewrite(rm + "GetResourceGroup", RM.GetResourceGroupRequest, RM.Untouched);
  rewriteStream(rm + "AcquireTokenBuckets", RM.TokenBucketsRequest, RM.Untouched);
  const rmWhy = "resource groups are shared by every tenant; create them on the platform";
  deny(rm + "AddResourceGroup", rmWhy);
  deny(rm + "ModifyResourceGroup", rmWhy);
  deny(rm + "DeleteResourceGroup", rmWhy);

  const gc = "/gcpb.GC/";
  const gcWhy = "the gcpb GC service is cluster-wide";
  deny(gc + "ListKeySpaces", gcWhy);
  deny(gc + "GetMinServiceSafePoint", gcWhy);
  deny(gc + "UpdateGCSafePoint", gcWhy);
  deny(gc + "UpdateServiceSafePoint", gcWhy);
}

// etcd (PD's embedded etcd arrives on the PD port): KV, Watch and Lease keys are namespaced
// (schema/etcd.ts); keyless calls TiDB's etcd client makes pass; cluster-wide or
// un-namespaceable calls are denied.
function etcd(): void {
  const kv = "/etcdserverpb.KV/";
  rewrite(kv + "Range", E.RangeRequest, E.RangeResponse);
  rewrite(kv + "Put", E.PutRequest, E.PutResponse);
  rewrite(kv + "DeleteRange", E.DeleteRangeRequest, E.DeleteRangeResponse);
  rewrite(kv + "Txn", E.TxnRequest, E.TxnResponse);
  deny(kv + "Compact", "Compact drops the revision history of every tenant");
  rewriteStream("/etcdserverpb.Watch/Watch", E.WatchRequest, E.WatchResponse);

  const l = "/etcdserverpb.Lease/";
  pass(l + "LeaseGrant");
  pass(l + "LeaseRevoke");
  pass(l + "LeaseKeepAlive");
  rewrite(l + "LeaseTimeToLive", E.NoKeysRequest, E.LeaseTimeToLiveResponse);
  deny(l + "LeaseLeases", "LeaseLeases lists the leases of every tenant");

  const c = "/etcdserverpb.Cluster/";
  pass(c + "MemberList");
  const cWhy = "etcd membership belongs to PD";
  deny(c + "MemberAdd", cWhy);
  deny(c + "MemberRemove", cWhy);
  deny(c + "MemberUpdate", cWhy);
  deny(c + "MemberPromote", cWhy);

  const mt = "/etcdserverpb.Maintenance/";
  pass(mt + "Status");
  const mWhy = "etcd maintenance is cluster-wide";
  deny(mt + "Alarm", mWhy);
  deny(mt + "Defragment", mWhy);
  deny(mt + "Hash", mWhy);
  deny(mt + "HashKV", mWhy);
  deny(mt + "Snapshot", "Snapshot streams the whole etcd database");
  deny(mt + "MoveLeader", mWhy);
  deny(mt + "Downgrade", mWhy);

  const a = "/etcdserverpb.Auth/";
  const aWhy = "etcd auth is cluster-wide";
  const auth = ["AuthEnable", "AuthDisable", "AuthStatus", "Authenticate", "UserAdd", "UserGet", "UserList",
    "UserDelete", "UserChangePassword", "UserGrantRole", "UserRevokeRole", "RoleAdd", "RoleGet", "RoleList",
    "RoleDelete", "RoleGrantPermission", "RoleRevokePermission"];
  for (let i = 0; i < auth.length; i++) deny(a + auth[i], aWhy);

  const el = "/v3electionpb.Election/";
  const elWhy = "the etcd Election service is not namespaced; TiDB elects owners through KV and Watch";
  deny(el + "Campaign", elWhy);
  deny(el + "Proclaim", elWhy);
  deny(el + "Leader", elWhy);
  deny(el + "Observe", elWhy);
  deny(el + "Resign", elWhy);
  const lk = "/v3lockpb.Lock/";
  const lkWhy = "the etcd Lock service is not namespaced; TiDB locks through KV";
  deny(lk + "Lock", lkWhy);
  deny(lk + "Unlock", lkWhy);
}

// gRPC health checking (grpc/grpc-proto grpc/health/v1/health.proto): client-go probes a store
// after send failures (internal/locate/store_cache.go invokeKVStatusAPI), the PD client probes
// PD members (servicediscovery/service_discovery.go). A service name in, a status out: no keys,
// on either port.
function health(): void {
  const h = "/grpc.health.v1.Health/";
  pass(h + "Check");
  pass(h + "Watch");
}

pd();
etcd();
health();
