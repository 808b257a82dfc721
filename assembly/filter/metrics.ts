// Envoy stats through proxy-wasm counters, named tidb_mesh.<tenant>.<what>[.<reason>].
// Counters are defined once per name and VM (cached), then only incremented.
import { defineCounter, incrementCounter } from "../host";

const ids = new Map<string, u32>();

/** Adds `by` to counter tidb_mesh.<tenant>.<name>. */
export function count(tenant: string, name: string, by: i64 = 1): void {
  if (by == 0) return;
  // No ?: over managed values: AssemblyScript 0.14 over-releases a managed ?: operand.
  let who = "unknown";
  if (tenant.length > 0) who = tenant;
  const full = "tidb_mesh." + who + "." + name;
  let id: u32;
  if (ids.has(full)) id = ids.get(full);
  else {
    id = defineCounter(full);
    ids.set(full, id);
  }
  incrementCounter(id, by);
}
