// The subset of kvproto the storage-side commands (`tidb-mesh gc`, `tenants retire
// --destroy-data`) send to PD and TiKV, as protobufjs types. Field numbers and names checked
// against pingcap/kvproto proto/{pdpb,kvrpcpb,metapb,errorpb}.proto @ b6a98c6bf02d (the kvproto
// of the tidb-server the real-stack tests run). Messages list only the fields used; everything
// else a server sends is skipped by the decoder. Enums are int32 on the wire.
import * as protobuf from 'protobufjs';

const TEXT = `
syntax = "proto3";
package metapb;
message RegionEpoch { uint64 conf_ver = 1; uint64 version = 2; }
message Peer { uint64 id = 1; uint64 store_id = 2; }

package errorpb;
message Error { string message = 1; }

package pdpb;
message ErrorP { int32 type = 1; string message = 2; }
message RequestHeader { uint64 cluster_id = 1; uint64 sender_id = 2; }
message ResponseHeader { uint64 cluster_id = 1; ErrorP error = 2; }
message GetMembersRequest { RequestHeader header = 1; }
message GetMembersResponse { ResponseHeader header = 1; }
message TsoRequest { RequestHeader header = 1; uint32 count = 2; string dc_location = 3; }
message Timestamp { int64 physical = 1; int64 logical = 2; uint32 suffix_bits = 3; }
message TsoResponse { ResponseHeader header = 1; uint32 count = 2; Timestamp timestamp = 3; }
message GetGCSafePointRequest { RequestHeader header = 1; }
message GetGCSafePointResponse { ResponseHeader header = 1; uint64 safe_point = 2; }
message UpdateGCSafePointRequest { RequestHeader header = 1; uint64 safe_point = 2; }
message UpdateGCSafePointResponse { ResponseHeader header = 1; uint64 new_safe_point = 2; }
message UpdateServiceGCSafePointRequest { RequestHeader header = 1; bytes service_id = 2; int64 TTL = 3; uint64 safe_point = 4; }
message UpdateServiceGCSafePointResponse { ResponseHeader header = 1; bytes service_id = 2; int64 TTL = 3; uint64 min_safe_point = 4; }

package kvrpcpb;
message Context {
  uint64 region_id = 1; metapb.RegionEpoch region_epoch = 2; metapb.Peer peer = 3;
  int32 api_version = 21; uint32 keyspace_id = 32;
}
message LockInfo {
  bytes primary_lock = 1; uint64 lock_version = 2; bytes key = 3; uint64 lock_ttl = 4; uint64 txn_size = 5;
  int32 lock_type = 6; uint64 lock_for_update_ts = 7; bool use_async_commit = 8; uint64 min_commit_ts = 9;
  repeated bytes secondaries = 10;
}
message TxnNotFound { uint64 start_ts = 1; bytes primary_key = 2; }
message KeyError { LockInfo locked = 1; string retryable = 2; string abort = 3; TxnNotFound txn_not_found = 8; }
message ScanLockRequest { Context context = 1; uint64 max_version = 2; bytes start_key = 3; uint32 limit = 4; bytes end_key = 5; }
message ScanLockResponse { errorpb.Error region_error = 1; KeyError error = 2; repeated LockInfo locks = 3; }
message CheckTxnStatusRequest {
  Context context = 1; bytes primary_key = 2; uint64 lock_ts = 3; uint64 caller_start_ts = 4; uint64 current_ts = 5;
  bool rollback_if_not_exist = 6; bool force_sync_commit = 7; bool resolving_pessimistic_lock = 8;
}
message CheckTxnStatusResponse {
  errorpb.Error region_error = 1; KeyError error = 2; uint64 lock_ttl = 3; uint64 commit_version = 4; int32 action = 5; LockInfo lock_info = 6;
}
message CheckSecondaryLocksRequest { Context context = 1; repeated bytes keys = 2; uint64 start_version = 3; }
message CheckSecondaryLocksResponse { errorpb.Error region_error = 1; KeyError error = 2; repeated LockInfo locks = 3; uint64 commit_ts = 4; }
message ResolveLockRequest { Context context = 1; uint64 start_version = 2; uint64 commit_version = 3; repeated bytes keys = 5; }
message ResolveLockResponse { errorpb.Error region_error = 1; KeyError error = 2; }
message PessimisticRollbackRequest { Context context = 1; uint64 start_version = 2; uint64 for_update_ts = 3; repeated bytes keys = 4; }
message PessimisticRollbackResponse { errorpb.Error region_error = 1; repeated KeyError errors = 2; }
message UnsafeDestroyRangeRequest { Context context = 1; bytes start_key = 2; bytes end_key = 3; }
message UnsafeDestroyRangeResponse { errorpb.Error region_error = 1; string error = 2; }
`;

let root: protobuf.Root | undefined;

/** The protobufjs type `name` (e.g. "kvrpcpb.ScanLockRequest"; pdpb.Error is pdpb.ErrorP here). */
export function type(name: string): protobuf.Type {
  if (!root) {
    // Several packages in one text: protobufjs.parse takes the last `package` for what
    // follows it, so each block lands in its own namespace.
    root = new protobuf.Root();
    for (const block of TEXT.split(/\n(?=package )/)) {
      const body = block.startsWith('syntax') ? block : `syntax = "proto3";\n${block}`;
      protobuf.parse(body, root, { keepCase: true });
    }
    root.resolveAll();
  }
  return root.lookupType(name);
}

/** Encodes `obj` (64-bit integers as bigint or decimal strings) as message `name`. */
export function encode(name: string, obj: Record<string, unknown>): Buffer {
  const t = type(name);
  return Buffer.from(t.encode(t.fromObject(longsToStrings(obj) as Record<string, unknown>)).finish());
}

/** Decodes message `name` into a plain object: 64-bit integers as bigint, bytes as Buffer. */
export function decode<T = any>(name: string, buf: Buffer): T {
  const t = type(name);
  return withBigints(t, t.toObject(t.decode(buf), { longs: String, bytes: Buffer, defaults: true, arrays: true })) as T;
}

const LONG = new Set(['uint64', 'int64', 'sint64', 'fixed64', 'sfixed64']);

/** With { longs: String } protobufjs gives 64-bit integers as decimal strings: bigint them, by field type. */
function withBigints(t: protobuf.Type, o: Record<string, any>): Record<string, any> {
  for (const f of t.fieldsArray) {
    const v = o[f.name];
    if (v === undefined || v === null) continue;
    if (LONG.has(f.type)) o[f.name] = Array.isArray(v) ? v.map((x: string) => BigInt(x)) : BigInt(v);
    else if (f.resolvedType instanceof protobuf.Type) {
      const rt = f.resolvedType;
      o[f.name] = Array.isArray(v) ? v.map((x: any) => withBigints(rt, x)) : withBigints(rt, v);
    }
  }
  return o;
}

function longsToStrings(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (Buffer.isBuffer(v)) return v;
  if (Array.isArray(v)) return v.map(longsToStrings);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, longsToStrings(x)]));
  return v;
}
