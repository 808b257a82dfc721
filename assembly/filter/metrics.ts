// Envoy stats through proxy-wasm counters. Names (docs/identity.md lists every one):
//   tidb_mesh.tenant.<tenant>.<counter>[.<reason>]     a caller that is a tenant
//   tidb_mesh.passthrough.<entry>.<counter>            a passthrough identity (inbound)
//   tidb_mesh.unknown.<counter>.<reason>               a caller not (yet) identified
// Each name segment is free of dots ('.' in a tenant name becomes '_'; tenant names cannot
// contain '_'), so an Envoy stats_tags regex can split tenant and reason into tags.
// Envoy files proxy-wasm metrics under the "wasmcustom." namespace and strips that prefix
// from /stats output. Counters are defined once per name and VM (cached), then incremented.
import { defineCounter, incrementCounter } from "../host";

const ids = new Map<string, u32>();

export const SCOPE_UNKNOWN = "tidb_mesh.unknown";

function segment(name: string): string {
  return name.replaceAll(".", "_");
}

/** The metric scope of a tenant. */
export function tenantScope(name: string): string {
  return "tidb_mesh.tenant." + segment(name);
}

/** The metric scope of a passthrough entry. */
export function passthroughScope(name: string): string {
  return "tidb_mesh.passthrough." + segment(name);
}

/** Adds `by` to counter <scope>.<name>. */
export function count(scope: string, name: string, by: i64 = 1): void {
  if (by == 0) return;
  const full = scope + "." + name;
  let id: u32;
  if (ids.has(full)) id = ids.get(full);
  else {
    id = defineCounter(full);
    ids.set(full, id);
  }
  incrementCounter(id, by);
}
