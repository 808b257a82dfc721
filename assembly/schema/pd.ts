// Key-field tables for pdpb.PD and keyspacepb.Keyspace: region keys (memcomparable,
// keyfields.md §1.4 and §4) and keyspace ids (GC scope, keyspace metadata). Field numbers were
// checked against pingcap/kvproto proto/{pdpb,metapb,keyspacepb}.proto at b6cdca197b3c; npm
// test checks them against the pinned kvproto versions and the field classification
// (schema/upstream-protos.js, schema/fields/, docs/schema-completeness.md).
// Which PD method gets which treatment is in schema/methods.ts (pd()) and docs/pd-etcd.md.
import { MessageDesc, RANGE_REGION, KIND_TXN } from "./types";
import { Region } from "./tikv";

function m(name: string): MessageDesc { return new MessageDesc(name).withKind(KIND_TXN); }

// ---- region routing: requests ---------------------------------------------------------------

/** GetRegionRequest (GetRegion, GetPrevRegion): region_key(2) is E(k); sent as E(P‖k). */
export const GetRegionRequest = m("pdpb.GetRegionRequest").regionKey(2);
/** QueryRegionRequest (a bidi stream): keys(4)[] and prev_keys(5)[] are region keys; ids(3) are not. */
export const QueryRegionRequest = m("pdpb.QueryRegionRequest").regionKey(4).regionKey(5);
/** ScanRegionsRequest: start_key(2), end_key(4) (empty end = +inf, mapped to E(N)). */
export const ScanRegionsRequest = m("pdpb.ScanRegionsRequest").range(RANGE_REGION, 2, 4);
const KeyRangeReq = m("pdpb.KeyRange").range(RANGE_REGION, 1, 2);
/** BatchScanRegionsRequest: ranges(3)[] (pdpb.KeyRange start_key(1), end_key(2)). */
export const BatchScanRegionsRequest = m("pdpb.BatchScanRegionsRequest").msg(3, KeyRangeReq);
/** SplitRegionsRequest and SplitAndScatterRegionsRequest: split_keys(2)[] are region keys. */
export const SplitKeysRequest = m("pdpb.SplitRegionsRequest").regionKey(2);
/**
 * ScatterRegionRequest: region(3) is a metapb.Region with region keys. The region ids
 * (region_id(2), regions_id(6)) cannot be checked against a keyspace here: scattering moves
 * replicas, it never exposes or changes data (see docs/pd-etcd.md, limits).
 */
export const ScatterRegionRequest = m("pdpb.ScatterRegionRequest").msg(3, Region);

// ---- region routing: responses --------------------------------------------------------------

/** metapb.Buckets: keys(3)[] are region keys, decoded as client-go DecodeBucketKeys. */
const Buckets = m("metapb.Buckets").buckets(3);
/**
 * GetStoreResponse: stats(3).dfs(31)[] are DFS upload statistics per keyspace (newer kvproto,
 * pdpb.DfsStatItem.scope(1).keyspace_id(2)): entries of other keyspaces, and global ones
 * (which have no keyspace id), are dropped. The store itself (topology) passes.
 */
const DfsStatScope = m("pdpb.DfsStatScope").keyspaceIdFilter(2);
const DfsStatItem = m("pdpb.DfsStatItem").msg(1, DfsStatScope);
const StoreStats = m("pdpb.StoreStats").msgFiltered(31, DfsStatItem);
export const GetStoreResponse = m("pdpb.GetStoreResponse").msg(3, StoreStats);
/** GetRegionResponse: region(2) (outside the keyspace: the call fails), buckets(7). */
export const GetRegionResponse = m("pdpb.GetRegionResponse").msg(2, Region).msg(7, Buckets);
/** pdpb.Region and pdpb.RegionResponse share one shape: region(1), buckets(5). */
const RegionWithBuckets = m("pdpb.Region").msg(1, Region).msg(5, Buckets);
/**
 * ScanRegionsResponse: region_metas(2)[] and regions(4)[] drop regions entirely outside the
 * keyspace. leaders(3)[] is positional to region_metas and is left as sent; when PD fills
 * regions(4), the PD client ignores both legacy lists (docs/pd-etcd.md, limits).
 */
export const ScanRegionsResponse = m("pdpb.ScanRegionsResponse").msgFiltered(2, Region).msgFiltered(4, RegionWithBuckets);
export const BatchScanRegionsResponse = m("pdpb.BatchScanRegionsResponse").msgFiltered(2, RegionWithBuckets);
/**
 * QueryRegionResponse.regions_by_id(4) is map<uint64, RegionResponse>: on the wire repeated
 * entries {key(1), value(2)}. An entry whose region lies outside the keyspace is dropped; the
 * key_id_map(2)/prev_key_id_map(3) ids that point to it then find nothing, which the PD
 * client reports as "region not found" for that key (never another keyspace's region).
 */
const RegionsByIdEntry = m("pdpb.QueryRegionResponse.RegionsByIdEntry").msg(2, RegionWithBuckets);
export const QueryRegionResponse = m("pdpb.QueryRegionResponse").msgFiltered(4, RegionsByIdEntry);

// ---- GC and keyspace scope ------------------------------------------------------------------

/**
 * KeyspaceScope: keyspace_id(1) is forced to the tenant's id (a v1 TiDB sends 0xFFFFFFFF, the
 * null keyspace, i.e. the global GC state). keyspace_identity(2) (API v3) is refused, and a
 * scope without keyspace_id (which PD reads as the null keyspace) is refused.
 */
const KeyspaceScope = m("pdpb.KeyspaceScope").keyspaceId(1).deny(2).require(1);
/**
 * AdvanceGCSafePoint, AdvanceTxnSafePoint, SetGCBarrier, DeleteGCBarrier, GetGCState:
 * keyspace_scope(2) is required (absent = the null keyspace = everybody's GC).
 */
export const ScopedRequest = m("pdpb.(keyspace_scope=2)").msg(2, KeyspaceScope).require(2);
/** GetGCSafePointV2Request: oneof keyspace_id(2) / keyspace_identity(3). */
export const GetGCSafePointV2Request = m("pdpb.GetGCSafePointV2Request").keyspaceId(2).deny(3).require(2);
/** UpdateGCSafePointV2Request: oneof keyspace_id(2) / keyspace_identity(4). */
export const UpdateGCSafePointV2Request = m("pdpb.UpdateGCSafePointV2Request").keyspaceId(2).deny(4).require(2);
/** UpdateServiceSafePointV2Request: oneof keyspace_id(2) / keyspace_identity(6). */
export const UpdateServiceSafePointV2Request = m("pdpb.UpdateServiceSafePointV2Request").keyspaceId(2).deny(6).require(2);

/** GCSafePointV2 / SafePointEvent: keyspace_id(1); entries of other keyspaces are dropped. */
const SafePointOfKeyspace = m("pdpb.GCSafePointV2").keyspaceIdFilter(1);
export const GetAllGCSafePointV2Response = m("pdpb.GetAllGCSafePointV2Response").msgFiltered(2, SafePointOfKeyspace);
export const WatchGCSafePointV2Response = m("pdpb.WatchGCSafePointV2Response").msgFiltered(2, SafePointOfKeyspace);
/** GCState.keyspace_scope(1).keyspace_id(1): states of other keyspaces (and the null keyspace) are dropped. */
const ScopeOfKeyspace = m("pdpb.KeyspaceScope").keyspaceIdFilter(1);
const GCStateOfKeyspace = m("pdpb.GCState").msg(1, ScopeOfKeyspace);
/** GetAllKeyspacesGCStates: gc_states(2)[] filtered to the tenant; global_gc_barriers(3) are read-only and pass. */
export const GetAllKeyspacesGCStatesResponse = m("pdpb.GetAllKeyspacesGCStatesResponse").msgFiltered(2, GCStateOfKeyspace);

// ---- keyspacepb.Keyspace --------------------------------------------------------------------

/** KeyspaceMeta: oneof id(1) / keyspace_identity(8); only the tenant's own keyspace is shown. */
const KeyspaceMetaOfTenant = m("keyspacepb.KeyspaceMeta").keyspaceIdFilter(1);
/** LoadKeyspace: keyspace(2); another keyspace's meta fails the call. */
export const LoadKeyspaceResponse = m("keyspacepb.LoadKeyspaceResponse").msg(2, KeyspaceMetaOfTenant);
/** GetAllKeyspaces / WatchKeyspaces: keyspaces(2)[] filtered to the tenant. */
export const KeyspacesResponse = m("keyspacepb.(keyspaces=2)").msgFiltered(2, KeyspaceMetaOfTenant);
/** Requests whose fields need no rewriting (the response carries the check). */
export const PlainRequest = m("pdpb.(no keys)");
