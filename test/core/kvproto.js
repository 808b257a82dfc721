'use strict';
// The test side's own reading of the key-bearing kvproto messages, written from
// shared/reference/keyfields.md §2, §3, §5, §7 (not from the filter's tables in
// assembly/schema/tikv.ts, so the two can disagree and a test catches it).
//
// Annotations (protobufjs keeps custom options on the reflection objects):
//   field [(k) = "key"]        a data key: requests get P‖k, responses lose P (foreign -> error)
//   field [(k) = "key_ne"]     like key, but an empty request key stays empty (primary_key of Commit/Flush)
//   field [(k) = "start"/"end"] the bounds of the message's range (message option (tm) names the kind)
//   field [(k) = "filter"]     a repeated message whose foreign elements are dropped from responses
//   field [(k) = "bucket"]     bucket boundaries (memcomparable, DecodeBucketKeys)
//   message option (tm) = "range:raw[:reverse=<n>]" | "range:region"
// Enums are declared as int32 (same wire encoding) to keep the file short.
const protobuf = require('protobufjs');

const METAPB = `
syntax = "proto3";
package metapb;
message RegionEpoch { uint64 conf_ver = 1; uint64 version = 2; }
message Peer { uint64 id = 1; uint64 store_id = 2; int32 role = 3; }
message Region {
  option (tm) = "range:region";
  uint64 id = 1;
  bytes start_key = 2 [(k) = "start"];   // memcomparable E(P‖k)
  bytes end_key = 3 [(k) = "end"];
  RegionEpoch region_epoch = 4;
  repeated Peer peers = 5;
}
`;

const ERRORPB = `
syntax = "proto3";
package errorpb;
import "metapb.proto";
message NotLeader { uint64 region_id = 1; metapb.Peer leader = 2; }
message KeyNotInRegion {
  option (tm) = "range:region";
  bytes key = 1 [(k) = "key"];            // raw DecodeKey (keyfields §7.4)
  uint64 region_id = 2;
  bytes start_key = 3 [(k) = "start"];
  bytes end_key = 4 [(k) = "end"];
}
message EpochNotMatch { repeated metapb.Region current_regions = 1 [(k) = "filter"]; }
message ServerIsBusy { string reason = 1; uint64 backoff_ms = 2; }
message BucketVersionNotMatch { uint64 version = 1; repeated bytes keys = 2 [(k) = "bucket"]; }
message Error {
  string message = 1;
  NotLeader not_leader = 2;
  KeyNotInRegion key_not_in_region = 4;
  EpochNotMatch epoch_not_match = 5;
  ServerIsBusy server_is_busy = 6;
  BucketVersionNotMatch bucket_version_not_match = 21;
}
`;

const DEADLOCK = `
syntax = "proto3";
package deadlock;
message WaitForEntry {
  uint64 txn = 1; uint64 wait_for_txn = 2; uint64 key_hash = 3;
  bytes key = 4 [(k) = "key"];
  bytes resource_group_tag = 5; uint64 wait_time = 6;
}
`;

const KVRPCPB = `
syntax = "proto3";
package kvrpcpb;
import "metapb.proto";
import "errorpb.proto";
import "deadlock.proto";

message Context {
  uint64 region_id = 1;
  metapb.RegionEpoch region_epoch = 2;
  metapb.Peer peer = 3;
  int32 priority = 4;
  uint64 term = 5;
  int32 api_version = 21;          // replaced: 2
  string keyspace_name = 31;       // dropped
  uint32 keyspace_id = 32;         // replaced: the tenant's id
  bytes keyspace_identity = 38;    // (apipb.KeyspaceIdentity) dropped
}

message LockInfo {
  bytes primary_lock = 1 [(k) = "key"];
  uint64 lock_version = 2;
  bytes key = 3 [(k) = "key"];
  uint64 lock_ttl = 4;
  uint64 txn_size = 5;
  int32 lock_type = 6;
  uint64 lock_for_update_ts = 7;
  bool use_async_commit = 8;
  uint64 min_commit_ts = 9;
  repeated bytes secondaries = 10 [(k) = "key"];
  repeated LockInfo shared_lock_infos = 12;
}
message WriteConflict { uint64 start_ts = 1; uint64 conflict_ts = 2; bytes key = 3 [(k) = "key"]; bytes primary = 4 [(k) = "key"]; uint64 conflict_commit_ts = 5; }
message AlreadyExist { bytes key = 1 [(k) = "key"]; }
message Deadlock { uint64 lock_ts = 1; bytes lock_key = 2 [(k) = "key"]; uint64 deadlock_key_hash = 3; repeated deadlock.WaitForEntry wait_chain = 4; bytes deadlock_key = 5 [(k) = "key"]; }
message CommitTsExpired { uint64 start_ts = 1; uint64 attempted_commit_ts = 2; bytes key = 3 [(k) = "key"]; uint64 min_commit_ts = 4; }
message TxnNotFound { uint64 start_ts = 1; bytes primary_key = 2 [(k) = "key"]; }
message AssertionFailed { uint64 start_ts = 1; bytes key = 2 [(k) = "key"]; int32 assertion = 3; }
message PrimaryMismatch { LockInfo lock_info = 1; }
message TxnLockNotFound { bytes key = 1 [(k) = "key"]; }
message LockUpgradeConflict { bytes key = 1 [(k) = "key"]; }
message SharedLockLost { bytes key = 1 [(k) = "key"]; }
message MvccLock { int32 type = 1; uint64 start_ts = 2; bytes primary = 3 [(k) = "key"]; bytes short_value = 4; repeated bytes secondaries = 9 [(k) = "key"]; }
message MvccWrite { int32 type = 1; uint64 start_ts = 2; uint64 commit_ts = 3; bytes short_value = 4; }
message MvccValue { uint64 start_ts = 1; bytes value = 2; }
message MvccInfo { MvccLock lock = 1; repeated MvccWrite writes = 2; repeated MvccValue values = 3; }
message MvccDebugInfo { bytes key = 1 [(k) = "key"]; MvccInfo mvcc = 2; }
message DebugInfo { repeated MvccDebugInfo mvcc_info = 1; }
message KeyError {
  LockInfo locked = 1;
  string retryable = 2;
  string abort = 3;
  WriteConflict conflict = 4;
  AlreadyExist already_exist = 5;
  Deadlock deadlock = 6;
  CommitTsExpired commit_ts_expired = 7;
  TxnNotFound txn_not_found = 8;
  AssertionFailed assertion_failed = 10;
  PrimaryMismatch primary_mismatch = 11;
  TxnLockNotFound txn_lock_not_found = 12;
  LockUpgradeConflict lock_upgrade_conflict = 13;
  SharedLockLost shared_lock_lost = 14;
  DebugInfo debug_info = 100;
}
message KvPair { KeyError error = 1; bytes key = 2 [(k) = "key"]; bytes value = 3; uint64 commit_ts = 4; }
message Mutation { int32 op = 1; bytes key = 2 [(k) = "key"]; bytes value = 3; int32 assertion = 4; }
message KeyRange { option (tm) = "range:raw"; bytes start_key = 1 [(k) = "start"]; bytes end_key = 2 [(k) = "end"]; }
message TxnInfo { uint64 txn = 1; uint64 status = 2; }

// ---- requests (context = 1 everywhere except StoreSafeTSRequest) ----
message GetRequest { Context context = 1; bytes key = 2 [(k) = "key"]; uint64 version = 3; }
message ScanRequest {
  option (tm) = "range:raw:reverse=6";
  Context context = 1; bytes start_key = 2 [(k) = "start"]; uint32 limit = 3; uint64 version = 4;
  bool key_only = 5; bool reverse = 6; bytes end_key = 7 [(k) = "end"]; uint32 sample_step = 8;
}
message PrewriteRequest {
  Context context = 1; repeated Mutation mutations = 2; bytes primary_lock = 3 [(k) = "key"];
  uint64 start_version = 4; uint64 lock_ttl = 5; bool skip_constraint_check = 6;
  uint64 txn_size = 8; uint64 for_update_ts = 9; uint64 min_commit_ts = 10; bool use_async_commit = 11;
  repeated bytes secondaries = 12 [(k) = "key"];
}
message PessimisticLockRequest {
  Context context = 1; repeated Mutation mutations = 2; bytes primary_lock = 3 [(k) = "key"];
  uint64 start_version = 4; uint64 lock_ttl = 5; uint64 for_update_ts = 6;
}
message PessimisticRollbackRequest { Context context = 1; uint64 start_version = 2; uint64 for_update_ts = 3; repeated bytes keys = 4 [(k) = "key"]; }
message TxnHeartBeatRequest { Context context = 1; bytes primary_lock = 2 [(k) = "key"]; uint64 start_version = 3; uint64 advise_lock_ttl = 4; }
message CheckTxnStatusRequest { Context context = 1; bytes primary_key = 2 [(k) = "key"]; uint64 lock_ts = 3; uint64 caller_start_ts = 4; uint64 current_ts = 5; }
message CheckSecondaryLocksRequest { Context context = 1; repeated bytes keys = 2 [(k) = "key"]; uint64 start_version = 3; }
message CommitRequest { Context context = 1; uint64 start_version = 2; repeated bytes keys = 3 [(k) = "key"]; uint64 commit_version = 4; bytes primary_key = 7 [(k) = "key_ne"]; }
message CleanupRequest { Context context = 1; bytes key = 2 [(k) = "key"]; uint64 start_version = 3; uint64 current_ts = 4; }
message BatchGetRequest { Context context = 1; repeated bytes keys = 2 [(k) = "key"]; uint64 version = 3; }
message BatchRollbackRequest { Context context = 1; uint64 start_version = 2; repeated bytes keys = 3 [(k) = "key"]; }
message ScanLockRequest {
  option (tm) = "range:raw";
  Context context = 1; uint64 max_version = 2; bytes start_key = 3 [(k) = "start"]; uint32 limit = 4; bytes end_key = 5 [(k) = "end"];
}
message ResolveLockRequest { Context context = 1; uint64 start_version = 2; uint64 commit_version = 3; repeated TxnInfo txn_infos = 4; repeated bytes keys = 5 [(k) = "key"]; }
message GCRequest { Context context = 1; uint64 safe_point = 2; }
message DeleteRangeRequest { option (tm) = "range:raw"; Context context = 1; bytes start_key = 2 [(k) = "start"]; bytes end_key = 3 [(k) = "end"]; bool notify_only = 4; }
message PrepareFlashbackToVersionRequest { option (tm) = "range:raw"; Context context = 1; bytes start_key = 2 [(k) = "start"]; bytes end_key = 3 [(k) = "end"]; uint64 start_ts = 4; uint64 version = 5; }
message FlashbackToVersionRequest { option (tm) = "range:raw"; Context context = 1; uint64 version = 2; bytes start_key = 3 [(k) = "start"]; bytes end_key = 4 [(k) = "end"]; uint64 start_ts = 5; uint64 commit_ts = 6; }
message FlushRequest { Context context = 1; repeated Mutation mutations = 2; bytes primary_key = 3 [(k) = "key_ne"]; uint64 start_ts = 4; uint64 min_commit_ts = 5; uint64 generation = 6; uint64 lock_ttl = 7; }
message BufferBatchGetRequest { Context context = 1; repeated bytes keys = 2 [(k) = "key"]; uint64 version = 3; }
message RawGetRequest { Context context = 1; bytes key = 2 [(k) = "key"]; string cf = 3; }
message RawBatchGetRequest { Context context = 1; repeated bytes keys = 2 [(k) = "key"]; string cf = 3; }
message RawPutRequest { Context context = 1; bytes key = 2 [(k) = "key"]; bytes value = 3; string cf = 4; uint64 ttl = 5; bool for_cas = 6; }
message RawBatchPutRequest { Context context = 1; repeated KvPair pairs = 2; string cf = 3; bool for_cas = 5; repeated uint64 ttls = 6; }
message RawDeleteRequest { Context context = 1; bytes key = 2 [(k) = "key"]; string cf = 3; bool for_cas = 4; }
message RawBatchDeleteRequest { Context context = 1; repeated bytes keys = 2 [(k) = "key"]; string cf = 3; bool for_cas = 4; }
message RawScanRequest {
  option (tm) = "range:raw:reverse=6";
  Context context = 1; bytes start_key = 2 [(k) = "start"]; uint32 limit = 3; bool key_only = 4; string cf = 5; bool reverse = 6; bytes end_key = 7 [(k) = "end"];
}
message RawDeleteRangeRequest { option (tm) = "range:raw"; Context context = 1; bytes start_key = 2 [(k) = "start"]; bytes end_key = 3 [(k) = "end"]; string cf = 4; }
message RawGetKeyTTLRequest { Context context = 1; bytes key = 2 [(k) = "key"]; string cf = 3; }
message RawCASRequest { Context context = 1; bytes key = 2 [(k) = "key"]; bytes value = 3; bool previous_not_exist = 4; bytes previous_value = 5; string cf = 6; uint64 ttl = 7; }
message RawChecksumRequest { Context context = 1; int32 algorithm = 2; repeated KeyRange ranges = 3; }
message UnsafeDestroyRangeRequest { option (tm) = "range:raw"; Context context = 1; bytes start_key = 2 [(k) = "start"]; bytes end_key = 3 [(k) = "end"]; }
message CheckLockObserverRequest { Context context = 1; uint64 max_ts = 2; }
message PhysicalScanLockRequest { Context context = 1; uint64 max_ts = 2; bytes start_key = 3 [(k) = "key"]; uint32 limit = 4; }
message SplitRegionRequest { Context context = 1; bytes split_key = 2 [(k) = "key"]; repeated bytes split_keys = 3 [(k) = "key"]; bool is_raw_kv = 4; }
message MvccGetByKeyRequest { Context context = 1; bytes key = 2 [(k) = "key"]; }
message MvccGetByStartTsRequest { Context context = 1; uint64 start_ts = 2; }
message StoreSafeTSRequest { KeyRange key_range = 1; }
message GetLockWaitInfoRequest { Context context = 1; }
message GetLockWaitHistoryRequest { Context context = 1; }
message GetHealthFeedbackRequest { Context context = 1; }
message HealthFeedback { uint64 store_id = 1; uint64 feedback_seq_no = 2; int32 slow_score = 3; }
message GetHealthFeedbackResponse { errorpb.Error region_error = 1; HealthFeedback health_feedback = 2; }
message BroadcastTxnStatusRequest { Context context = 1; repeated TxnInfo txn_status = 2; }

// ---- responses ----
message RegionErrorResponse { errorpb.Error region_error = 1; string error = 2; }            // Raw*, DeleteRange, Flashback
message RegionKeyErrorResponse { errorpb.Error region_error = 1; KeyError error = 2; }        // Get, Commit, Cleanup, ...
message RegionKeyErrorsResponse { errorpb.Error region_error = 1; repeated KeyError errors = 2; } // Prewrite, PessimisticLock, Flush
message GetResponse { errorpb.Error region_error = 1; KeyError error = 2; bytes value = 3; bool not_found = 4; }
message ScanResponse { errorpb.Error region_error = 1; repeated KvPair pairs = 2; KeyError error = 3; }
message CheckTxnStatusResponse { errorpb.Error region_error = 1; KeyError error = 2; uint64 lock_ttl = 3; uint64 commit_version = 4; int32 action = 5; LockInfo lock_info = 6; }
message LocksResponse { errorpb.Error region_error = 1; KeyError error = 2; repeated LockInfo locks = 3; uint64 commit_ts = 4; } // ScanLock, CheckSecondaryLocks
message BatchGetResponse { errorpb.Error region_error = 1; repeated KvPair pairs = 2; KeyError error = 5; }
message BufferBatchGetResponse { errorpb.Error region_error = 1; KeyError error = 2; repeated KvPair pairs = 3; }
message RawPairsResponse { errorpb.Error region_error = 1; repeated KvPair pairs = 2; }       // RawBatchGet.pairs, RawScan.kvs
message MvccGetByKeyResponse { errorpb.Error region_error = 1; string error = 2; MvccInfo info = 3; }
message MvccGetByStartTsResponse { errorpb.Error region_error = 1; string error = 2; bytes key = 3 [(k) = "key"]; MvccInfo info = 4; }
message SplitRegionResponse { errorpb.Error region_error = 1; metapb.Region left = 2; metapb.Region right = 3; repeated metapb.Region regions = 4; repeated KeyError errors = 100; }
message CheckLockObserverResponse { string error = 1; bool is_clean = 2; repeated LockInfo locks = 3 [(k) = "filter"]; }
message PhysicalScanLockResponse { string error = 1; repeated LockInfo locks = 2 [(k) = "filter"]; }
message GetLockWaitInfoResponse { errorpb.Error region_error = 1; string error = 2; repeated deadlock.WaitForEntry entries = 3 [(k) = "filter"]; }
message StoreSafeTSResponse { uint64 safe_ts = 1; }
`;

const COPROCESSOR = `
syntax = "proto3";
package coprocessor;
import "kvrpcpb.proto";
import "metapb.proto";
import "errorpb.proto";
message KeyRange { option (tm) = "range:raw"; bytes start = 1 [(k) = "start"]; bytes end = 2 [(k) = "end"]; }
message VersionedKeyRange { KeyRange range = 1; uint64 read_ts = 2; }
message StoreBatchTask { uint64 region_id = 1; metapb.RegionEpoch region_epoch = 2; metapb.Peer peer = 3; repeated KeyRange ranges = 4; uint64 task_id = 5; repeated VersionedKeyRange versioned_ranges = 6; }
message Request {
  kvrpcpb.Context context = 1; int64 tp = 2; bytes data = 3; repeated KeyRange ranges = 4;
  bool is_cache_enabled = 5; uint64 start_ts = 7; uint64 paging_size = 10;
  repeated StoreBatchTask tasks = 11; repeated VersionedKeyRange versioned_ranges = 15;
}
message RegionInfo { uint64 region_id = 1; metapb.RegionEpoch region_epoch = 2; repeated KeyRange ranges = 3; }
message TableRegions { int64 physical_table_id = 1; repeated RegionInfo regions = 2; }
message BatchRequest { kvrpcpb.Context context = 1; int64 tp = 2; bytes data = 3; repeated RegionInfo regions = 4; uint64 start_ts = 5; int64 schema_ver = 6; repeated TableRegions table_regions = 7; }
message StoreBatchTaskResponse { bytes data = 1; errorpb.Error region_error = 2; kvrpcpb.LockInfo locked = 3; string other_error = 4; uint64 task_id = 5; }
message Response {
  bytes data = 1; errorpb.Error region_error = 2; kvrpcpb.LockInfo locked = 3; string other_error = 4;
  KeyRange range = 5; bool is_cache_hit = 7; repeated StoreBatchTaskResponse batch_responses = 13;
}
message BatchResponse { bytes data = 1; string other_error = 2; repeated metapb.Region retry_regions = 4; }
`;

// BatchCommands: every oneof member (keyfields §3), request and response type per tag.
// Tags 5 (Import), 11 (GC), 21 (RawBatchScan), 34 (RawCoprocessor) are denied by the filter.
const BATCH_CMDS = [
  // tag, name, request type, response type
  [1, 'Get', 'kvrpcpb.GetRequest', 'kvrpcpb.GetResponse'],
  [2, 'Scan', 'kvrpcpb.ScanRequest', 'kvrpcpb.ScanResponse'],
  [3, 'Prewrite', 'kvrpcpb.PrewriteRequest', 'kvrpcpb.RegionKeyErrorsResponse'],
  [4, 'Commit', 'kvrpcpb.CommitRequest', 'kvrpcpb.RegionKeyErrorResponse'],
  [6, 'Cleanup', 'kvrpcpb.CleanupRequest', 'kvrpcpb.RegionKeyErrorResponse'],
  [7, 'BatchGet', 'kvrpcpb.BatchGetRequest', 'kvrpcpb.BatchGetResponse'],
  [8, 'BatchRollback', 'kvrpcpb.BatchRollbackRequest', 'kvrpcpb.RegionKeyErrorResponse'],
  [9, 'ScanLock', 'kvrpcpb.ScanLockRequest', 'kvrpcpb.LocksResponse'],
  [10, 'ResolveLock', 'kvrpcpb.ResolveLockRequest', 'kvrpcpb.RegionKeyErrorResponse'],
  [12, 'DeleteRange', 'kvrpcpb.DeleteRangeRequest', 'kvrpcpb.RegionErrorResponse'],
  [13, 'RawGet', 'kvrpcpb.RawGetRequest', 'kvrpcpb.RegionErrorResponse'],
  [14, 'RawBatchGet', 'kvrpcpb.RawBatchGetRequest', 'kvrpcpb.RawPairsResponse'],
  [15, 'RawPut', 'kvrpcpb.RawPutRequest', 'kvrpcpb.RegionErrorResponse'],
  [16, 'RawBatchPut', 'kvrpcpb.RawBatchPutRequest', 'kvrpcpb.RegionErrorResponse'],
  [17, 'RawDelete', 'kvrpcpb.RawDeleteRequest', 'kvrpcpb.RegionErrorResponse'],
  [18, 'RawBatchDelete', 'kvrpcpb.RawBatchDeleteRequest', 'kvrpcpb.RegionErrorResponse'],
  [19, 'RawScan', 'kvrpcpb.RawScanRequest', 'kvrpcpb.RawPairsResponse'],
  [20, 'RawDeleteRange', 'kvrpcpb.RawDeleteRangeRequest', 'kvrpcpb.RegionErrorResponse'],
  [22, 'Coprocessor', 'coprocessor.Request', 'coprocessor.Response'],
  [23, 'PessimisticLock', 'kvrpcpb.PessimisticLockRequest', 'kvrpcpb.RegionKeyErrorsResponse'],
  [24, 'PessimisticRollback', 'kvrpcpb.PessimisticRollbackRequest', 'kvrpcpb.RegionKeyErrorsResponse'],
  [25, 'CheckTxnStatus', 'kvrpcpb.CheckTxnStatusRequest', 'kvrpcpb.CheckTxnStatusResponse'],
  [26, 'TxnHeartBeat', 'kvrpcpb.TxnHeartBeatRequest', 'kvrpcpb.RegionKeyErrorResponse'],
  [33, 'CheckSecondaryLocks', 'kvrpcpb.CheckSecondaryLocksRequest', 'kvrpcpb.LocksResponse'],
  [35, 'FlashbackToVersion', 'kvrpcpb.FlashbackToVersionRequest', 'kvrpcpb.RegionErrorResponse'],
  [36, 'PrepareFlashbackToVersion', 'kvrpcpb.PrepareFlashbackToVersionRequest', 'kvrpcpb.RegionErrorResponse'],
  [37, 'Flush', 'kvrpcpb.FlushRequest', 'kvrpcpb.RegionKeyErrorsResponse'],
  [38, 'BufferBatchGet', 'kvrpcpb.BufferBatchGetRequest', 'kvrpcpb.BufferBatchGetResponse'],
  [39, 'GetHealthFeedback', 'kvrpcpb.GetHealthFeedbackRequest', 'kvrpcpb.GetHealthFeedbackResponse'],
  [40, 'BroadcastTxnStatus', 'kvrpcpb.BroadcastTxnStatusRequest', 'tikvpb.BatchCommandsEmptyResponse'],
  [255, 'Empty', 'tikvpb.BatchCommandsEmptyRequest', 'tikvpb.BatchCommandsEmptyResponse'],
];
const DENIED_BATCH_CMDS = [[5, 'Import'], [11, 'GC'], [21, 'RawBatchScan'], [34, 'RawCoprocessor']];

function tikvpbSource() {
  const req = BATCH_CMDS.map(([t, n, rq]) => `      ${rq} ${n} = ${t};`).join('\n');
  const resp = BATCH_CMDS.map(([t, n, , rs]) => `      ${rs} ${n} = ${t};`).join('\n');
  return `
syntax = "proto3";
package tikvpb;
import "kvrpcpb.proto";
import "coprocessor.proto";
message BatchCommandsEmptyRequest { uint64 test_id = 1; uint64 delay_time = 2; }
message BatchCommandsEmptyResponse { uint64 test_id = 1; }
message BatchCommandsRequest {
  message Request {
    oneof cmd {
${req}
      kvrpcpb.GCRequest GC = 11;
    }
  }
  repeated Request requests = 1;
  repeated uint64 request_ids = 2;
  uint64 client_send_time_ns = 3;
}
message BatchCommandsResponse {
  message Response {
    oneof cmd {
${resp}
    }
  }
  repeated Response responses = 1;
  repeated uint64 request_ids = 2;
  uint64 transport_layer_load = 3;
}
`;
}

// Every rewritten unary/streaming method: path -> [request type, response type, kind].
// kind 'raw' = keys use the 'r' prefix, otherwise 'x'.
const METHODS = {
  KvGet: ['kvrpcpb.GetRequest', 'kvrpcpb.GetResponse'],
  KvScan: ['kvrpcpb.ScanRequest', 'kvrpcpb.ScanResponse'],
  KvPrewrite: ['kvrpcpb.PrewriteRequest', 'kvrpcpb.RegionKeyErrorsResponse'],
  KvPessimisticLock: ['kvrpcpb.PessimisticLockRequest', 'kvrpcpb.RegionKeyErrorsResponse'],
  KVPessimisticRollback: ['kvrpcpb.PessimisticRollbackRequest', 'kvrpcpb.RegionKeyErrorsResponse'],
  KvTxnHeartBeat: ['kvrpcpb.TxnHeartBeatRequest', 'kvrpcpb.RegionKeyErrorResponse'],
  KvCheckTxnStatus: ['kvrpcpb.CheckTxnStatusRequest', 'kvrpcpb.CheckTxnStatusResponse'],
  KvCheckSecondaryLocks: ['kvrpcpb.CheckSecondaryLocksRequest', 'kvrpcpb.LocksResponse'],
  KvCommit: ['kvrpcpb.CommitRequest', 'kvrpcpb.RegionKeyErrorResponse'],
  KvCleanup: ['kvrpcpb.CleanupRequest', 'kvrpcpb.RegionKeyErrorResponse'],
  KvBatchGet: ['kvrpcpb.BatchGetRequest', 'kvrpcpb.BatchGetResponse'],
  KvBatchRollback: ['kvrpcpb.BatchRollbackRequest', 'kvrpcpb.RegionKeyErrorResponse'],
  KvScanLock: ['kvrpcpb.ScanLockRequest', 'kvrpcpb.LocksResponse'],
  KvResolveLock: ['kvrpcpb.ResolveLockRequest', 'kvrpcpb.RegionKeyErrorResponse'],
  KvDeleteRange: ['kvrpcpb.DeleteRangeRequest', 'kvrpcpb.RegionErrorResponse'],
  KvPrepareFlashbackToVersion: ['kvrpcpb.PrepareFlashbackToVersionRequest', 'kvrpcpb.RegionErrorResponse'],
  KvFlashbackToVersion: ['kvrpcpb.FlashbackToVersionRequest', 'kvrpcpb.RegionErrorResponse'],
  KvFlush: ['kvrpcpb.FlushRequest', 'kvrpcpb.RegionKeyErrorsResponse'],
  KvBufferBatchGet: ['kvrpcpb.BufferBatchGetRequest', 'kvrpcpb.BufferBatchGetResponse'],
  RawGet: ['kvrpcpb.RawGetRequest', 'kvrpcpb.RegionErrorResponse', 'raw'],
  RawBatchGet: ['kvrpcpb.RawBatchGetRequest', 'kvrpcpb.RawPairsResponse', 'raw'],
  RawPut: ['kvrpcpb.RawPutRequest', 'kvrpcpb.RegionErrorResponse', 'raw'],
  RawBatchPut: ['kvrpcpb.RawBatchPutRequest', 'kvrpcpb.RegionErrorResponse', 'raw'],
  RawDelete: ['kvrpcpb.RawDeleteRequest', 'kvrpcpb.RegionErrorResponse', 'raw'],
  RawBatchDelete: ['kvrpcpb.RawBatchDeleteRequest', 'kvrpcpb.RegionErrorResponse', 'raw'],
  RawScan: ['kvrpcpb.RawScanRequest', 'kvrpcpb.RawPairsResponse', 'raw'],
  RawDeleteRange: ['kvrpcpb.RawDeleteRangeRequest', 'kvrpcpb.RegionErrorResponse', 'raw'],
  RawGetKeyTTL: ['kvrpcpb.RawGetKeyTTLRequest', 'kvrpcpb.RegionErrorResponse', 'raw'],
  RawCompareAndSwap: ['kvrpcpb.RawCASRequest', 'kvrpcpb.RegionErrorResponse', 'raw'],
  RawChecksum: ['kvrpcpb.RawChecksumRequest', 'kvrpcpb.RegionErrorResponse', 'raw'],
  UnsafeDestroyRange: ['kvrpcpb.UnsafeDestroyRangeRequest', 'kvrpcpb.RegionErrorResponse'],
  CheckLockObserver: ['kvrpcpb.CheckLockObserverRequest', 'kvrpcpb.CheckLockObserverResponse'],
  PhysicalScanLock: ['kvrpcpb.PhysicalScanLockRequest', 'kvrpcpb.PhysicalScanLockResponse'],
  Coprocessor: ['coprocessor.Request', 'coprocessor.Response'],
  CoprocessorStream: ['coprocessor.Request', 'coprocessor.Response'],
  BatchCoprocessor: ['coprocessor.BatchRequest', 'coprocessor.BatchResponse'],
  SplitRegion: ['kvrpcpb.SplitRegionRequest', 'kvrpcpb.SplitRegionResponse'],
  MvccGetByKey: ['kvrpcpb.MvccGetByKeyRequest', 'kvrpcpb.MvccGetByKeyResponse'],
  MvccGetByStartTs: ['kvrpcpb.MvccGetByStartTsRequest', 'kvrpcpb.MvccGetByStartTsResponse'],
  BatchCommands: ['tikvpb.BatchCommandsRequest', 'tikvpb.BatchCommandsResponse'],
  GetStoreSafeTS: ['kvrpcpb.StoreSafeTSRequest', 'kvrpcpb.StoreSafeTSResponse'],
  GetLockWaitInfo: ['kvrpcpb.GetLockWaitInfoRequest', 'kvrpcpb.GetLockWaitInfoResponse'],
  GetLockWaitHistory: ['kvrpcpb.GetLockWaitHistoryRequest', 'kvrpcpb.GetLockWaitInfoResponse'],
  GetHealthFeedback: ['kvrpcpb.GetHealthFeedbackRequest', 'kvrpcpb.GetHealthFeedbackResponse'],
  BroadcastTxnStatus: ['kvrpcpb.BroadcastTxnStatusRequest', 'tikvpb.BatchCommandsEmptyResponse'],
};
const DENIED_METHODS = [
  'KvGC', 'KvImport', 'RawBatchScan', 'RawCoprocessor', 'RegisterLockObserver', 'RemoveLockObserver',
  'DelegateCoprocessor', 'Raft', 'BatchRaft', 'Snapshot', 'TabletSnapshot', 'ReadIndex', 'CheckLeader',
  'Compact', 'DispatchMPPTask', 'CancelMPPTask', 'EstablishMPPConnection', 'IsAlive', 'ReportMPPTaskStatus',
];

let cached;
/** The protobufjs Root with every message above (keepCase field names). */
function kvRoot() {
  if (cached) return cached;
  const root = new protobuf.Root();
  const files = {
    'metapb.proto': METAPB, 'errorpb.proto': ERRORPB, 'deadlock.proto': DEADLOCK,
    'kvrpcpb.proto': KVRPCPB, 'coprocessor.proto': COPROCESSOR, 'tikvpb.proto': tikvpbSource(),
  };
  for (const name of Object.keys(files)) protobuf.parse(files[name], root, { keepCase: true, alternateCommentMode: true });
  root.resolveAll();
  cached = root;
  return root;
}

/** Lookup a message type by full name. */
function type(name) { return kvRoot().lookupType(name); }

/** Annotation of a field ((k) option) or null. */
function fieldRole(field) { return (field.options && field.options['(k)']) || null; }

/** Range annotation of a message: null or { kind: 'raw'|'region', reverse: fieldNumber|0 }. */
function rangeOf(t) {
  const o = t.options && t.options['(tm)'];
  if (!o) return null;
  const parts = o.split(':');
  const r = { kind: parts[1], reverse: 0 };
  for (const p of parts.slice(2)) if (p.startsWith('reverse=')) r.reverse = Number(p.slice(8));
  return r;
}

/** True when the message type (or anything it contains) carries keys; used by generators. */
function isRawMethod(name) { return METHODS[name] && METHODS[name][2] === 'raw'; }
function isRawRequestType(fullName) { return /\.Raw[A-Za-z]*Request$/.test(fullName) || fullName === 'kvrpcpb.RawCASRequest'; }

module.exports = {
  kvRoot, type, fieldRole, rangeOf, METHODS, DENIED_METHODS, BATCH_CMDS, DENIED_BATCH_CMDS,
  isRawMethod, isRawRequestType,
};
