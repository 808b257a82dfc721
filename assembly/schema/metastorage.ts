// Key-field tables for PD's meta storage service (meta_storagepb.MetaStorage). PD serves it
// from its own etcd with the key exactly as sent (PD pkg/mcs/metastorage/server/
// grpc_service.go: Get and Watch call the etcd client with req.key and, when set,
// WithRange(req.range_end)), so a tenant could read any etcd key there, including other
// tenants' "/keyspaces/tidb/<id>/…". TiDB 8.5 needs it for resource control only: it reads
// "resource_group/controller" at start, fatally if refused (pd client resource_group/
// controller/controller.go loadServerConfig), and watches "resource_group/settings" and
// "resource_group/controller" (with a prefix range end). So Get and Watch are allowed inside
// "resource_group/" (cluster-wide resource-control configuration, read-only here) and nothing
// else; Put and Delete are denied in schema/methods.ts. Keys are not namespaced: resource
// groups are shared by every tenant (docs/pd-etcd.md). Responses are checked to stay inside
// the prefix. Field numbers: pingcap/kvproto proto/meta_storagepb.proto (identical at
// b6a98c6bf02d, 2025-02, and 1907922fbd18, 2025-11).
import { MessageDesc } from "./types";

/** The only subtree a tenant may read through meta storage. */
export const RESOURCE_GROUP_PREFIX = "resource_group/";
const P = RESOURCE_GROUP_PREFIX;

/** KeyValue: key(1) must lie under the prefix. */
const KeyValue = new MessageDesc("meta_storagepb.KeyValue").keyUnder(1, P);
/** Event: kv(2), prev_kv(3). */
const Event = new MessageDesc("meta_storagepb.Event").msg(2, KeyValue).msg(3, KeyValue);

/** GetRequest: header(1), key(2), range_end(3), limit(4), revision(5). */
export const GetRequest = new MessageDesc("meta_storagepb.GetRequest").keyUnder(2, P).endUnder(3, P);
/** GetResponse: header(1), kvs(2)[], more(3), count(4). */
export const GetResponse = new MessageDesc("meta_storagepb.GetResponse").msg(2, KeyValue);
/** WatchRequest: header(1), key(2), range_end(3), start_revision(4), prev_kv(5). */
export const WatchRequest = new MessageDesc("meta_storagepb.WatchRequest").keyUnder(2, P).endUnder(3, P);
/** WatchResponse: header(1), compact_revision(2), events(3)[]. */
export const WatchResponse = new MessageDesc("meta_storagepb.WatchResponse").msg(3, Event);
