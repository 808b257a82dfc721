'use strict';
// Field classification for PD's gRPC services: pdpb.PD, routerpb.Router, keyspacepb.Keyspace,
// meta_storagepb.MetaStorage, resource_manager.ResourceManager (pingcap/kvproto; versions in
// schema/upstream-protos.js; vocabulary: vocabulary.js). Region keys are memcomparable
// encodings of TiDB's v1 keys (client-go encodes them before PD sees them).
const {
  start, end, regionKey, under, endUnder, keyspace, scopedId, carried, clampCarried, value, opaque, filtered, refuse,
} = require('./vocabulary');

const PD_TEXT = opaque('human-readable error text from PD');
const TOPOLOGY = opaque('cluster topology (addresses, versions, labels, build info): shared by every tenant, no keys');
const GLOBAL_CONFIG = opaque("PD's global configuration (TiDB reads e.g. the TiFlash replica and resource-control settings): read-only for tenants (StoreGlobalConfig is denied), no keys");
const CALLER = opaque('who is calling (PD client component / id), for PD logs');
const GROUP = opaque('resource groups are cluster-wide and shared by every tenant (schema/resource.ts)');
const RM_KEYSPACE = refuse('resource groups of a keyspace: a TiDB 8.5 never sends it, and on a PD that knows it, it would name another keyspace\'s groups');
const SCOPED_BY_KEYSPACE = (what) => opaque(`${what}, inside a call whose keyspace is forced to the tenant's`);

module.exports = {
  // ---- headers and errors ------------------------------------------------------------------
  'pdpb.RequestHeader.caller_id': CALLER,
  'pdpb.RequestHeader.caller_component': CALLER,
  'pdpb.Error.message': PD_TEXT,

  // ---- region routing ----------------------------------------------------------------------
  'pdpb.GetRegionRequest.region_key': regionKey(),
  'pdpb.QueryRegionRequest.keys': regionKey(),
  'pdpb.QueryRegionRequest.prev_keys': regionKey(),
  'pdpb.ScanRegionsRequest.start_key': start('region'),
  'pdpb.ScanRegionsRequest.end_key': end('region'),
  'pdpb.KeyRange.start_key': start('region'),
  'pdpb.KeyRange.end_key': end('region'),
  'pdpb.SplitRegionsRequest.split_keys': regionKey(),
  'pdpb.SplitAndScatterRegionsRequest.split_keys': regionKey(),
  'pdpb.SplitAndScatterRegionsRequest.group': opaque('scatter group name (PD balances regions per group), no keys'),
  'pdpb.ScatterRegionRequest.group': opaque('scatter group name (PD balances regions per group), no keys'),
  'pdpb.ScanRegionsResponse.region_metas': filtered('regions entirely outside the keyspace are dropped'),
  'pdpb.ScanRegionsResponse.regions': filtered('regions entirely outside the keyspace are dropped'),
  'pdpb.BatchScanRegionsResponse.regions': filtered('regions entirely outside the keyspace are dropped'),
  'pdpb.QueryRegionResponse.regions_by_id': filtered("entries whose region lies outside the keyspace are dropped; the ids that point to them then find nothing (the PD client's \"region not found\")"),
  'metapb.Store.address': TOPOLOGY,
  'metapb.Store.peer_address': TOPOLOGY,
  'metapb.Store.status_address': TOPOLOGY,
  'metapb.Store.version': TOPOLOGY,
  'metapb.Store.git_hash': TOPOLOGY,
  'metapb.Store.deploy_path': TOPOLOGY,
  'metapb.StoreLabel.key': TOPOLOGY,
  'metapb.StoreLabel.value': TOPOLOGY,
  'pdpb.RecordPair.key': opaque('a store statistic name (thread or device), no keys'),
  'pdpb.StoreStats.dfs': filtered('DFS upload statistics per keyspace: entries of other keyspaces (and global ones) are dropped'),
  'pdpb.DfsStatScope.keyspace_id': keyspace('the keyspace a DFS statistic belongs to', { response: 'match' }),
  'pdpb.DfsStatScope.component': opaque('the component reporting a DFS statistic'),
  'pdpb.GetOperatorResponse.desc': opaque("the operator's description (e.g. \"split-region\"), no keys"),
  'pdpb.GetOperatorResponse.kind': opaque('the operator kind, no keys'),

  // ---- members, TSO, global config ---------------------------------------------------------
  'pdpb.Member.name': TOPOLOGY,
  'pdpb.Member.peer_urls': TOPOLOGY,
  'pdpb.Member.client_urls': TOPOLOGY,
  'pdpb.Member.deploy_path': TOPOLOGY,
  'pdpb.Member.binary_version': TOPOLOGY,
  'pdpb.Member.git_hash': TOPOLOGY,
  'pdpb.Member.dc_location': TOPOLOGY,
  'pdpb.GetMembersResponse.TsoAllocatorLeadersEntry.key': TOPOLOGY,
  'pdpb.GetClusterInfoResponse.tso_urls': TOPOLOGY,
  'pdpb.TsoRequest.dc_location': opaque('TSO data-center location, no keys'),
  'pdpb.GlobalConfigItem.name': GLOBAL_CONFIG,
  'pdpb.GlobalConfigItem.value': GLOBAL_CONFIG,
  'pdpb.GlobalConfigItem.payload': GLOBAL_CONFIG,
  'pdpb.LoadGlobalConfigRequest.names': GLOBAL_CONFIG,
  'pdpb.LoadGlobalConfigRequest.config_path': GLOBAL_CONFIG,
  'pdpb.WatchGlobalConfigRequest.config_path': GLOBAL_CONFIG,

  // ---- GC per keyspace ---------------------------------------------------------------------
  'pdpb.KeyspaceScope.keyspace_id': keyspace("the keyspace of a GC call: forced to the tenant's in requests; GC states of other keyspaces are dropped from answers", { response: 'match' }),
  'pdpb.GetGCSafePointV2Request.keyspace_id': keyspace("forced to the tenant's id"),
  'pdpb.UpdateGCSafePointV2Request.keyspace_id': keyspace("forced to the tenant's id"),
  'pdpb.UpdateServiceSafePointV2Request.keyspace_id': keyspace("forced to the tenant's id"),
  'pdpb.UpdateServiceSafePointV2Request.service_id': SCOPED_BY_KEYSPACE('a service safe point name'),
  'pdpb.UpdateServiceSafePointV2Response.service_id': SCOPED_BY_KEYSPACE("the tenant keyspace's oldest service"),
  'pdpb.GCSafePointV2.keyspace_id': keyspace('entries of other keyspaces are dropped', { response: 'match' }),
  'pdpb.SafePointEvent.keyspace_id': keyspace('events of other keyspaces are dropped', { response: 'match' }),
  'pdpb.GetAllGCSafePointV2Response.gc_safe_points': filtered('safe points of other keyspaces are dropped'),
  'pdpb.WatchGCSafePointV2Response.events': filtered('safe point events of other keyspaces are dropped'),
  'pdpb.GetAllKeyspacesGCStatesResponse.gc_states': filtered('GC states of other keyspaces (and the null keyspace) are dropped'),
  'pdpb.GetGCStateResponse.gc_state': opaque("the effective GC state of the tenant's own keyspace (the request's scope is forced): its own, or the null keyspace's when the keyspace is under unified GC, so it is not matched to the tenant (docs/pd-etcd.md)"),
  'pdpb.GCState.is_keyspace_level_gc': opaque('a flag of the (already matched) GC state, not a keyspace id'),
  'pdpb.SetGCBarrierRequest.barrier_id': SCOPED_BY_KEYSPACE('a GC barrier name'),
  'pdpb.DeleteGCBarrierRequest.barrier_id': SCOPED_BY_KEYSPACE('a GC barrier name'),
  'pdpb.GCBarrierInfo.barrier_id': SCOPED_BY_KEYSPACE('a GC barrier name'),
  'pdpb.GlobalGCBarrierInfo.barrier_id': opaque('a global GC barrier set by the platform (global barriers are read-only for tenants: SetGlobalGCBarrier is denied)'),
  'pdpb.AdvanceTxnSafePointResponse.blocker_description': SCOPED_BY_KEYSPACE('what holds the txn safe point back'),

  // ---- the classic GC writes (schema/gc.ts, docs/gc.md) -------------------------------------
  'pdpb.UpdateServiceGCSafePointRequest.service_id': scopedId("a service safe point name: registered under the tenant's scope, so no tenant can move the platform's or another tenant's point"),
  'pdpb.UpdateServiceGCSafePointResponse.service_id': scopedId("the service holding the minimum: the tenant's own ids lose the scope, any other id is replaced by \"\""),
  'pdpb.UpdateGCSafePointRequest.safe_point': carried('a tenant never moves the global GC safe point: sent as 0 (a read), the value answers the response'),
  'pdpb.UpdateGCSafePointResponse.new_safe_point': clampCarried("the global point, or the tenant's own value when the global GC is already past it"),

  // ---- keyspacepb --------------------------------------------------------------------------
  'keyspacepb.LoadKeyspaceRequest.name': opaque("the keyspace to load: the answer's KeyspaceMeta.id must be the tenant's, so naming another keyspace fails the call"),
  'keyspacepb.KeyspaceMeta.id': keyspace('a keyspace meta is shown only for the tenant\'s own keyspace', { response: 'match' }),
  'keyspacepb.KeyspaceMeta.name': opaque("the tenant's own keyspace name (the meta is matched by id)"),
  'keyspacepb.KeyspaceMeta.ConfigEntry.key': opaque("the tenant's own keyspace configuration (the meta is matched by id)"),
  'keyspacepb.KeyspaceMeta.ConfigEntry.value': opaque("the tenant's own keyspace configuration (the meta is matched by id)"),
  'keyspacepb.GetAllKeyspacesResponse.keyspaces': filtered("only the tenant's own keyspace is shown"),
  'keyspacepb.WatchKeyspacesResponse.keyspaces': filtered("only the tenant's own keyspace is shown"),

  // ---- meta storage (PD's etcd, raw keys; schema/metastorage.ts) ----------------------------
  'meta_storagepb.RequestHeader.source': CALLER,
  'meta_storagepb.Error.message': PD_TEXT,
  'meta_storagepb.GetRequest.key': under('resource_group/'),
  'meta_storagepb.GetRequest.range_end': endUnder('resource_group/'),
  'meta_storagepb.WatchRequest.key': under('resource_group/'),
  'meta_storagepb.WatchRequest.range_end': endUnder('resource_group/'),
  'meta_storagepb.KeyValue.key': under('resource_group/'),
  'meta_storagepb.KeyValue.value': value('resource-control settings (cluster-wide)'),

  // ---- resource manager --------------------------------------------------------------------
  'resource_manager.ListResourceGroupsRequest.keyspace_id': RM_KEYSPACE,
  'resource_manager.GetResourceGroupRequest.keyspace_id': RM_KEYSPACE,
  'resource_manager.TokenBucketRequest.keyspace_id': RM_KEYSPACE,
  'resource_manager.GetResourceGroupRequest.resource_group_name': GROUP,
  'resource_manager.TokenBucketRequest.resource_group_name': GROUP,
  'resource_manager.TokenBucketResponse.resource_group_name': GROUP,
  'resource_manager.ResourceGroup.name': GROUP,
  'resource_manager.RunawaySettings.switch_group_name': GROUP,
  'resource_manager.BackgroundSettings.job_types': GROUP,
  'resource_manager.Error.message': PD_TEXT,
};
