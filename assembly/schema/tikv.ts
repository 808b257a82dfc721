// Key-field tables for tikvpb.Tikv: which field of which kvrpcpb / coprocessor / errorpb
// message carries a key, with kvproto field numbers (checked against pingcap/kvproto
// proto/{kvrpcpb,tikvpb,coprocessor,errorpb,metapb,deadlock}.proto; see
// shared/reference/keyfields.md §2, §3, §5, §7). Request and response tables are separate:
// requests get prefixes added, responses get them checked and stripped. npm test checks every
// table against the pinned real schemas and the field classification (schema/fields/,
// test/realschema, docs/schema-completeness.md): a key field without a rule fails it.
import { MessageDesc, RANGE_RAW, RANGE_REGION, KIND_TXN, KIND_RAW, KEYLESS_RESOLVE, KEYLESS_PESSIMISTIC } from "./types";

function m(name: string): MessageDesc { return new MessageDesc(name); }

// ---- request side -------------------------------------------------------------------------

/** kvrpcpb.Context: api_version(21), keyspace_name(31), keyspace_id(32), keyspace_identity(38) are replaced. */
export const Context = m("kvrpcpb.Context")
  .keyspaceField(21).keyspaceField(31).keyspaceField(32).keyspaceField(38).keyspaceContext();
const Mutation = m("kvrpcpb.Mutation").key(2);
const KeyRange = m("kvrpcpb.KeyRange").range(RANGE_RAW, 1, 2);
/** A request KvPair (RawBatchPut.pairs): key(2); a KeyError (error(1)) there means nothing to TiKV and is refused. */
const RawKvPairReq = m("kvrpcpb.KvPair").key(2).deny(1);
const CopKeyRange = m("coprocessor.KeyRange").range(RANGE_RAW, 1, 2);
const VersionedKeyRange = m("coprocessor.VersionedKeyRange").msg(1, CopKeyRange);
const StoreBatchTask = m("coprocessor.StoreBatchTask").msg(4, CopKeyRange).msg(6, VersionedKeyRange);
const RegionInfo = m("coprocessor.RegionInfo").msg(3, CopKeyRange);
const TableRegions = m("coprocessor.TableRegions").msg(2, RegionInfo);

function txn(name: string): MessageDesc { return m(name).withKind(KIND_TXN).msg(1, Context).ensureContext(1); }
function raw(name: string): MessageDesc { return m(name).withKind(KIND_RAW).msg(1, Context).ensureContext(1); }

export const GetRequest = txn("kvrpcpb.GetRequest").key(2);
export const ScanRequest = txn("kvrpcpb.ScanRequest").range(RANGE_RAW, 2, 7, 6);
export const PrewriteRequest = txn("kvrpcpb.PrewriteRequest").msg(2, Mutation).key(3).key(12);
export const PessimisticLockRequest = txn("kvrpcpb.PessimisticLockRequest").msg(2, Mutation).key(3);
/** Without keys TiKV rolls back the region's pessimistic locks of start_version: rewritten (proto/keyless.ts). */
export const PessimisticRollbackRequest = txn("kvrpcpb.PessimisticRollbackRequest").key(4).keyless(KEYLESS_PESSIMISTIC);
export const TxnHeartBeatRequest = txn("kvrpcpb.TxnHeartBeatRequest").key(2);
export const CheckTxnStatusRequest = txn("kvrpcpb.CheckTxnStatusRequest").key(2);
export const CheckSecondaryLocksRequest = txn("kvrpcpb.CheckSecondaryLocksRequest").key(2);
export const CommitRequest = txn("kvrpcpb.CommitRequest").key(3).keyNonEmpty(7);
export const CleanupRequest = txn("kvrpcpb.CleanupRequest").key(2);
export const BatchGetRequest = txn("kvrpcpb.BatchGetRequest").key(2);
export const BatchRollbackRequest = txn("kvrpcpb.BatchRollbackRequest").key(3);
export const ScanLockRequest = txn("kvrpcpb.ScanLockRequest").range(RANGE_RAW, 3, 5);
/**
 * Without keys TiKV resolves every lock of start_version (or txn_infos) in the region named by
 * Context, whoever owns it: such a request is rewritten into the keyed form from the tenant's
 * lock ledger, or sent without effect (proto/keyless.ts).
 */
export const ResolveLockRequest = txn("kvrpcpb.ResolveLockRequest").key(5).keyless(KEYLESS_RESOLVE);
export const DeleteRangeRequest = txn("kvrpcpb.DeleteRangeRequest").range(RANGE_RAW, 2, 3);
export const PrepareFlashbackRequest = txn("kvrpcpb.PrepareFlashbackToVersionRequest").range(RANGE_RAW, 2, 3);
export const FlashbackRequest = txn("kvrpcpb.FlashbackToVersionRequest").range(RANGE_RAW, 3, 4);
export const FlushRequest = txn("kvrpcpb.FlushRequest").msg(2, Mutation).keyNonEmpty(3);
export const BufferBatchGetRequest = txn("kvrpcpb.BufferBatchGetRequest").key(2);
export const ContextOnlyRequest = txn("kvrpcpb.(context only)");

export const RawGetRequest = raw("kvrpcpb.RawGetRequest").key(2);
export const RawBatchGetRequest = raw("kvrpcpb.RawBatchGetRequest").key(2);
export const RawPutRequest = raw("kvrpcpb.RawPutRequest").key(2);
export const RawBatchPutRequest = raw("kvrpcpb.RawBatchPutRequest").msg(2, RawKvPairReq);
export const RawDeleteRequest = raw("kvrpcpb.RawDeleteRequest").key(2);
export const RawBatchDeleteRequest = raw("kvrpcpb.RawBatchDeleteRequest").key(2);
export const RawScanRequest = raw("kvrpcpb.RawScanRequest").range(RANGE_RAW, 2, 7, 6);
export const RawDeleteRangeRequest = raw("kvrpcpb.RawDeleteRangeRequest").range(RANGE_RAW, 2, 3);
export const RawGetKeyTTLRequest = raw("kvrpcpb.RawGetKeyTTLRequest").key(2);
export const RawCASRequest = raw("kvrpcpb.RawCASRequest").key(2);
export const RawChecksumRequest = raw("kvrpcpb.RawChecksumRequest").msg(3, KeyRange);

/** TiKV asserts both bounds are non-empty; the range mapping always yields P‖start and N at most. */
export const UnsafeDestroyRangeRequest = txn("kvrpcpb.UnsafeDestroyRangeRequest").range(RANGE_RAW, 2, 3);
/** Store-wide lock scan from start_key(3) (no end): the response is filtered to the tenant. */
export const PhysicalScanLockRequest = txn("kvrpcpb.PhysicalScanLockRequest").key(3);
export const SplitRegionRequest = txn("kvrpcpb.SplitRegionRequest").key(2).key(3);
export const MvccGetByKeyRequest = txn("kvrpcpb.MvccGetByKeyRequest").key(2);
/** StoreSafeTSRequest has no Context; an empty range would span the whole store. */
export const StoreSafeTSRequest = m("kvrpcpb.StoreSafeTSRequest").withKind(KIND_TXN).msg(1, KeyRange);

/** coprocessor.Request: ranges(4), tasks(11).ranges/versioned_ranges, versioned_ranges(15); table_shard_infos(14) has unverified semantics and is refused. */
export const CopRequest = txn("coprocessor.Request")
  .msg(4, CopKeyRange).msg(11, StoreBatchTask).msg(15, VersionedKeyRange).deny(14);
/** coprocessor.BatchRequest (TiFlash): regions(4), table_regions(7); table_shard_infos(11) refused. */
export const BatchCopRequest = txn("coprocessor.BatchRequest").msg(4, RegionInfo).msg(7, TableRegions).deny(11);

const EmptyRequest = m("tikvpb.BatchCommandsEmptyRequest");

/** BatchCommandsRequest.Request: a strict oneof. Unknown tags end the stream; unsafe ones are denied. */
export const BatchRequestCmd = m("tikvpb.BatchCommandsRequest.Request").strictOneof()
  .msg(1, GetRequest).msg(2, ScanRequest).msg(3, PrewriteRequest).msg(4, CommitRequest)
  .deny(5) /* Import: no Context, not used by TiDB */
  .msg(6, CleanupRequest).msg(7, BatchGetRequest).msg(8, BatchRollbackRequest)
  .msg(9, ScanLockRequest).msg(10, ResolveLockRequest)
  .deny(11) /* GC: keyless, store-wide */
  .msg(12, DeleteRangeRequest)
  .msg(13, RawGetRequest).msg(14, RawBatchGetRequest).msg(15, RawPutRequest).msg(16, RawBatchPutRequest)
  .msg(17, RawDeleteRequest).msg(18, RawBatchDeleteRequest).msg(19, RawScanRequest).msg(20, RawDeleteRangeRequest)
  .deny(21) /* RawBatchScan: codecV2 does not encode it */
  .apiV2Only(22, CopRequest)
  .msg(23, PessimisticLockRequest).msg(24, PessimisticRollbackRequest)
  .msg(25, CheckTxnStatusRequest).msg(26, TxnHeartBeatRequest).msg(33, CheckSecondaryLocksRequest)
  .deny(34) /* RawCoprocessor: opaque plugin data */
  .msg(35, FlashbackRequest).msg(36, PrepareFlashbackRequest).msg(37, FlushRequest).msg(38, BufferBatchGetRequest)
  .msg(39, ContextOnlyRequest).msg(40, ContextOnlyRequest)
  .msg(255, EmptyRequest);
export const BatchCommandsRequest = m("tikvpb.BatchCommandsRequest").msg(1, BatchRequestCmd);

// ---- response side ------------------------------------------------------------------------

/** metapb.Region: start_key(2)/end_key(3) are memcomparable; decoded, clamped, re-encoded. */
export const Region = m("metapb.Region").range(RANGE_REGION, 2, 3);
const KeyNotInRegion = m("errorpb.KeyNotInRegion").key(1).range(RANGE_REGION, 3, 4);
/** Regions outside the keyspace are dropped (client-go decodeRegionError). */
const EpochNotMatch = m("errorpb.EpochNotMatch").msgFiltered(1, Region);
const BucketVersionNotMatch = m("errorpb.BucketVersionNotMatch").buckets(2);
export const RegionError = m("errorpb.Error").msg(4, KeyNotInRegion).msg(5, EpochNotMatch).msg(21, BucketVersionNotMatch);

/** LockInfo: primary_lock(1), key(3), secondaries(10); each accepted one is noted in the tenant's lock ledger. */
export const LockInfo = m("kvrpcpb.LockInfo").key(1).key(3).key(10).recordsLocks();
LockInfo.msg(12, LockInfo); // shared_lock_infos
const WriteConflict = m("kvrpcpb.WriteConflict").key(3).key(4);
const SingleKey1 = m("kvrpcpb.(key=1)").key(1);
const SingleKey2 = m("kvrpcpb.(key=2)").key(2);
const SingleKey3 = m("kvrpcpb.(key=3)").key(3);
export const WaitForEntry = m("deadlock.WaitForEntry").key(4);
const Deadlock = m("kvrpcpb.Deadlock").key(2).key(5).msg(4, WaitForEntry);
const PrimaryMismatch = m("kvrpcpb.PrimaryMismatch").msg(1, LockInfo);
const MvccLock = m("kvrpcpb.MvccLock").key(3).key(9);
export const MvccInfo = m("kvrpcpb.MvccInfo").msg(1, MvccLock);
const MvccDebugInfo = m("kvrpcpb.MvccDebugInfo").key(1).msg(2, MvccInfo);
const DebugInfo = m("kvrpcpb.DebugInfo").msg(1, MvccDebugInfo);
export const KeyError = m("kvrpcpb.KeyError")
  .msg(1, LockInfo).msg(4, WriteConflict).msg(5, SingleKey1).msg(6, Deadlock)
  .msg(7, SingleKey3) /* CommitTsExpired.key */
  .msg(8, SingleKey2) /* TxnNotFound.primary_key */
  .msg(10, SingleKey2) /* AssertionFailed.key */
  .msg(11, PrimaryMismatch)
  .msg(12, SingleKey1) /* TxnLockNotFound.key */
  .msg(13, SingleKey1) /* LockUpgradeConflict.key */
  .msg(14, SingleKey1) /* SharedLockLost.key */
  .msg(100, DebugInfo);
export const KvPair = m("kvrpcpb.KvPair").msg(1, KeyError).key(2);

function resp(name: string): MessageDesc { return m(name).msg(1, RegionError); }

export const RegionErrorOnly = resp("(region_error only)");
export const RegionAndKeyError = resp("(region_error, error)").msg(2, KeyError);
export const ScanResponse = resp("kvrpcpb.ScanResponse").msg(2, KvPair).msg(3, KeyError);
export const CheckTxnStatusResponse = resp("kvrpcpb.CheckTxnStatusResponse").msg(2, KeyError).msg(6, LockInfo);
export const LocksResponse = resp("(region_error, error, locks=3)").msg(2, KeyError).msg(3, LockInfo);
export const BatchGetResponse = resp("kvrpcpb.BatchGetResponse").msg(2, KvPair).msg(5, KeyError);
export const BufferBatchGetResponse = resp("kvrpcpb.BufferBatchGetResponse").msg(2, KeyError).msg(3, KvPair);
export const RawPairsResponse = resp("(region_error, pairs=2)").withKind(KIND_RAW).msg(2, KvPair);
export const RawRegionErrorOnly = resp("(raw region_error only)").withKind(KIND_RAW);
export const MvccGetByKeyResponse = resp("kvrpcpb.MvccGetByKeyResponse").msg(3, MvccInfo);
export const MvccGetByStartTsResponse = resp("kvrpcpb.MvccGetByStartTsResponse").key(3).msg(4, MvccInfo);
export const SplitRegionResponse = resp("kvrpcpb.SplitRegionResponse")
  .msg(2, Region).msg(3, Region).msg(4, Region).msg(100, KeyError);
/** Store-wide answers: entries of other keyspaces are dropped, not errors. */
export const CheckLockObserverResponse = m("kvrpcpb.CheckLockObserverResponse").msgFiltered(3, LockInfo);
export const PhysicalScanLockResponse = m("kvrpcpb.PhysicalScanLockResponse").msgFiltered(2, LockInfo);
export const LockWaitResponse = resp("kvrpcpb.GetLockWaitInfoResponse").msgFiltered(3, WaitForEntry);
export const NoKeysResponse = m("(no keys)");

const StoreBatchTaskResponse = m("coprocessor.StoreBatchTaskResponse").msg(2, RegionError).msg(3, LockInfo);
/** coprocessor.Response: region_error(2), locked(3), paging range(5) (raw keys), batch_responses(13). */
export const CopResponse = m("coprocessor.Response").withKind(KIND_TXN)
  .msg(2, RegionError).msg(3, LockInfo).msg(5, CopKeyRange).msg(13, StoreBatchTaskResponse);
/** coprocessor.ShardInfo (TiCI shards): ranges(3). */
const ShardInfo = m("coprocessor.ShardInfo").msg(3, CopKeyRange);
/** coprocessor.BatchResponse: retry_regions(4), retry_shards(5) (newer kvproto; checked and stripped). */
export const BatchCopResponse = m("coprocessor.BatchResponse").withKind(KIND_TXN).msg(4, Region).msg(5, ShardInfo);

const EmptyResponse = m("tikvpb.BatchCommandsEmptyResponse");
export const BatchResponseCmd = m("tikvpb.BatchCommandsResponse.Response").strictOneof()
  .msg(1, RegionAndKeyError).msg(2, ScanResponse).msg(3, RegionAndKeyError).msg(4, RegionAndKeyError)
  .msg(6, RegionAndKeyError).msg(7, BatchGetResponse).msg(8, RegionAndKeyError).msg(9, LocksResponse)
  .msg(10, RegionAndKeyError).msg(12, RegionErrorOnly)
  .msg(13, RawRegionErrorOnly).msg(14, RawPairsResponse).msg(15, RawRegionErrorOnly).msg(16, RawRegionErrorOnly)
  .msg(17, RawRegionErrorOnly).msg(18, RawRegionErrorOnly).msg(19, RawPairsResponse).msg(20, RawRegionErrorOnly)
  .msg(22, CopResponse).msg(23, RegionAndKeyError).msg(24, RegionAndKeyError)
  .msg(25, CheckTxnStatusResponse).msg(26, RegionAndKeyError).msg(33, LocksResponse)
  .msg(35, RegionErrorOnly).msg(36, RegionErrorOnly).msg(37, RegionAndKeyError).msg(38, BufferBatchGetResponse)
  .msg(39, RegionErrorOnly).msg(40, NoKeysResponse)
  .msg(255, EmptyResponse);
export const BatchCommandsResponse = m("tikvpb.BatchCommandsResponse").msg(1, BatchResponseCmd);
