// The allowlist: every gRPC method the filter lets through, and how. A :path that is not in
// this table is refused with UNIMPLEMENTED before any byte reaches the upstream.
import { MessageDesc } from "./types";
import * as T from "./tikv";

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
  rewrite(p + "GetHealthFeedback", T.ContextOnlyRequest, T.NoKeysResponse);
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
