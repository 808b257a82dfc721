// Key-field tables for etcd (etcdserverpb.KV, Watch, Lease), with the semantics of etcd's own
// client/v3/namespace (keyfields.md §6): every request key gets the tenant's namespace (e.g.
// "/keyspaces/tidb/1"), an empty range_end is a single key, a range_end of "\x00" ("every key
// from here on") stops at the end of the tenant's key space, and an empty key with an empty
// range_end is refused. Without a trailing slash on the namespace, a key rule (no key starts
// with a digit under the default "/keyspaces/tidb/{id}"; every key starts with "/" otherwise)
// and range clamping keep keyspace 1 away from "/keyspaces/tidb/10…" (keyspace/etcd.ts).
// Unlike the namespace wrapper, responses are CHECKED before the namespace is stripped: a key
// outside the tenant's key space fails the call (only LeaseTimeToLive keys are filtered, as
// the wrapper does). Field numbers: etcd api/etcdserverpb/rpc.proto, api/mvccpb/kv.proto.
import { MessageDesc, RANGE_ETCD, KIND_ETCD } from "./types";

function m(name: string): MessageDesc { return new MessageDesc(name).withKind(KIND_ETCD); }

// ---- requests -------------------------------------------------------------------------------

/**
 * RangeRequest: key(1), range_end(2). A single-key read of client-go's GC saved safe point
 * reads the platform's key (keyspace/etcd.ts isSharedReadKey).
 */
export const RangeRequest = m("etcdserverpb.RangeRequest").range(RANGE_ETCD, 1, 2).sharedRead();
/** PutRequest: key(1); an empty key is refused. */
export const PutRequest = m("etcdserverpb.PutRequest").key(1);
/** DeleteRangeRequest: key(1), range_end(2). */
export const DeleteRangeRequest = m("etcdserverpb.DeleteRangeRequest").range(RANGE_ETCD, 1, 2);
/** Compare: key(3), range_end(64) (rewritten only when non-empty, as the wrapper does). */
const Compare = m("etcdserverpb.Compare").range(RANGE_ETCD, 3, 64);
/** RequestOp: oneof request_range(1), request_put(2), request_delete_range(3), request_txn(4). */
const RequestOp = m("etcdserverpb.RequestOp").strictOneof()
  .msg(1, RangeRequest).msg(2, PutRequest).msg(3, DeleteRangeRequest);
/** TxnRequest: compare(1)[], success(2)[], failure(3)[]; nested transactions recurse. */
export const TxnRequest = m("etcdserverpb.TxnRequest").msg(1, Compare).msg(2, RequestOp).msg(3, RequestOp);
RequestOp.msg(4, TxnRequest);
/** WatchCreateRequest: key(1), range_end(2). */
const WatchCreateRequest = m("etcdserverpb.WatchCreateRequest").range(RANGE_ETCD, 1, 2);
/** WatchRequest: oneof create_request(1), cancel_request(2), progress_request(3) (no keys in the last two). */
export const WatchRequest = m("etcdserverpb.WatchRequest").msg(1, WatchCreateRequest);
/** Requests without keys (LeaseTimeToLiveRequest). */
export const NoKeysRequest = m("etcdserverpb.(no keys)");

// ---- responses ------------------------------------------------------------------------------

/** mvccpb.KeyValue: key(1) must lie in the tenant's key space (keyspace/etcd.ts etcdOwns); the namespace is stripped. */
const KeyValue = m("mvccpb.KeyValue").key(1);
/** RangeResponse: kvs(2)[]. */
export const RangeResponse = m("etcdserverpb.RangeResponse").msg(2, KeyValue);
/** PutResponse: prev_kv(2). */
export const PutResponse = m("etcdserverpb.PutResponse").msg(2, KeyValue);
/** DeleteRangeResponse: prev_kvs(3)[]. */
export const DeleteRangeResponse = m("etcdserverpb.DeleteRangeResponse").msg(3, KeyValue);
/** ResponseOp: oneof response_range(1), response_put(2), response_delete_range(3), response_txn(4). */
const ResponseOp = m("etcdserverpb.ResponseOp").strictOneof()
  .msg(1, RangeResponse).msg(2, PutResponse).msg(3, DeleteRangeResponse);
/** TxnResponse: responses(3)[]. */
export const TxnResponse = m("etcdserverpb.TxnResponse").msg(3, ResponseOp);
ResponseOp.msg(4, TxnResponse);
/** mvccpb.Event: kv(2), prev_kv(3). */
const Event = m("mvccpb.Event").msg(2, KeyValue).msg(3, KeyValue);
/** WatchResponse: events(11)[]. A foreign key resets the watch stream. */
export const WatchResponse = m("etcdserverpb.WatchResponse").msg(11, Event);
/** LeaseTimeToLiveResponse: keys(5)[] attached to the lease; keys of other namespaces are dropped. */
export const LeaseTimeToLiveResponse = m("etcdserverpb.LeaseTimeToLiveResponse").keyFiltered(5);
