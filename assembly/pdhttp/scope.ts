// Per-tenant scopes for the names PD keeps in one cluster-wide namespace: region label rule
// ids, placement rule group ids and placement rule ids. TiDB derives them from schema names
// and table ids (schema/<db>/<table>, TiDB_DDL_<table id>, table-<table id>-r), which start
// at the same values in every tenant, so without a scope one tenant's RENAME, DROP or GC would
// delete another tenant's rules (../shared/reference/tidb-pd-traffic.md §1.3).
import { Keyspace, MODE_API_V2 } from "../keyspace/keyspace";

/** The tenant's part of a scope: the keyspace id, or "p" + hex of the prefix in prefix mode. */
function tenantTag(ks: Keyspace): string {
  if (ks.mode == MODE_API_V2) return ks.id.toString();
  let s = "p";
  const hex = "0123456789abcdef";
  for (let i: usize = 0; i < ks.txn.len; i++) {
    const b = <i32>load<u8>(ks.txn.ptr + i);
    s += hex.charAt(b >> 4) + hex.charAt(b & 15);
  }
  return s;
}

/**
 * Label rule ids: "tidb-mesh/<keyspace id>/" + id. The terminating '/' keeps keyspace 1 away
 * from 10. PD addresses a single label rule by an escaped path segment
 * (server/api/router.go escapeRouter + url.PathUnescape), so '/' in an id is fine there.
 */
export function labelScope(ks: Keyspace): string {
  return "tidb-mesh/" + tenantTag(ks) + "/";
}

/** `labelScope` as it appears inside an escaped path segment. */
export function labelScopeEscaped(ks: Keyspace): string {
  return "tidb-mesh%2F" + tenantTag(ks) + "%2F";
}

/**
 * Placement group ids and rule ids: "tidb-mesh-<keyspace id>-" + id. No '/': PD matches them
 * as plain path segments (/config/placement-rule/{group}, /config/rule/{group}/{id}) and does
 * not unescape them on GET (server/api/rule.go GetPlacementRuleByGroup).
 */
export function placementScope(ks: Keyspace): string {
  return "tidb-mesh-" + tenantTag(ks) + "-";
}

/**
 * The placement group every tenant shares unscoped: TiDB puts its TiFlash replica rules in
 * group "tiflash" (index 120, created once by the operator), so there only the rule ids are
 * scoped.
 */
export const SHARED_GROUP = "tiflash";
