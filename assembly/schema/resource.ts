// Tables for PD's resource manager (resource_manager.ResourceManager). Release-8.5 kvproto
// has no keyspace in these messages: resource groups are cluster-wide, and a tenant TiDB
// (tidb_enable_resource_control is ON by default) reads them and reports its consumption to
// them through client-go's interceptor (client-go internal/client/client_interceptor.go;
// an error there fails the statement). So the reads and the token stream pass with their
// bytes untouched; only the KeyspaceIDValue fields that newer kvproto added (1907922fbd18,
// 2025-11: ListResourceGroupsRequest.keyspace_id(2), GetResourceGroupRequest.keyspace_id(3),
// TokenBucketRequest.keyspace_id(7)) are refused: on a PD that knows them they would name
// another keyspace's groups, and a TiDB 8.5 never sends them. Writes are denied in
// schema/methods.ts. Field numbers: pingcap/kvproto proto/resource_manager.proto at
// 1907922fbd18 (the 8.5-era b6a98c6bf02d has the same fields minus the keyspace ids).
import { MessageDesc } from "./types";

/** ListResourceGroupsRequest: with_ru_stats(1), keyspace_id(2) refused. */
export const ListResourceGroupsRequest = new MessageDesc("resource_manager.ListResourceGroupsRequest").deny(2);
/** GetResourceGroupRequest: resource_group_name(1), with_ru_stats(2), keyspace_id(3) refused. */
export const GetResourceGroupRequest = new MessageDesc("resource_manager.GetResourceGroupRequest").deny(3);
/** TokenBucketRequest: resource_group_name(1), ru_items(2), raw_resource_items(3), consumption(4), is_background(5), is_tiflash(6), keyspace_id(7) refused. */
const TokenBucketRequest = new MessageDesc("resource_manager.TokenBucketRequest").deny(7);
/** TokenBucketsRequest: requests(1)[], target_request_period_ms(2), client_unique_id(3). */
export const TokenBucketsRequest = new MessageDesc("resource_manager.TokenBucketsRequest").msg(1, TokenBucketRequest);
/** Responses carry group settings and token grants, no keys: copied as they are. */
export const Untouched = new MessageDesc("resource_manager.(response)");
