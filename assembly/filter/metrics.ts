// Envoy stats through proxy-wasm counters. Names (docs/identity.md lists every one):
//   tidb_mesh.tenant.<tenant>.<counter>[.<reason>]     a caller that is a tenant
//   tidb_mesh.passthrough.<entry>.<counter>            a passthrough identity (inbound)
//   tidb_mesh.unknown.<counter>.<reason>               a caller not (yet) identified
// Each name segment is free of dots ('.' in a tenant name becomes '_'; tenant names cannot
// contain '_'), so an Envoy stats_tags regex can split tenant and reason into tags.
// Envoy files proxy-wasm metrics under the "wasmcustom." namespace and strips that prefix
// from /stats output. Counters are defined once per name and VM (cached), then incremented.
//
// Why Counters: accepted calls count on every call and body chunk, so a stream holds its
// scope's Counters (made when the configuration loads, root.ts) and increments by id; the
// name string is built once, when a counter is first used (a counter is defined on first
// use, as before, so /stats lists only counters that were incremented). Refusal counters
// (calls_denied.<reason>, frames_rejected.<reason>) still go through count() by name.
import { defineCounter, incrementCounter } from "../host";

const ids = new Map<string, u32>();

export const SCOPE_UNKNOWN = "tidb_mesh.unknown";

export const CALLS_REWRITTEN: i32 = 0;
export const CALLS_PASSED: i32 = 1;
export const KEYS_REWRITTEN: i32 = 2;
export const RESPONSES_FILTERED: i32 = 3;

function counterName(which: i32): string {
  if (which == CALLS_REWRITTEN) return "calls_rewritten";
  if (which == CALLS_PASSED) return "calls_passed";
  if (which == KEYS_REWRITTEN) return "keys_rewritten";
  return "responses_filtered";
}

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

function counterId(full: string): u32 {
  if (ids.has(full)) return ids.get(full);
  const id = defineCounter(full);
  ids.set(full, id);
  return id;
}

/** Adds `by` to counter <scope>.<name>. */
export function count(scope: string, name: string, by: i64 = 1): void {
  if (by == 0) return;
  incrementCounter(counterId(scope + "." + name), by);
}

/** The per-call counters of one scope, by id once first used. */
export class Counters {
  scope: string;
  /** Bit `which` set: ids[which] holds the defined id (u32.MAX_VALUE if the host refused). */
  private defined: u32 = 0;
  private ids: Array<u32> = new Array<u32>(4);

  constructor(scope: string) {
    this.scope = scope;
  }

  /** Adds `by` to <scope>.<counter `which`> (CALLS_REWRITTEN etc.). */
  add(which: i32, by: i64 = 1): void {
    if (by == 0) return;
    const bit: u32 = 1 << which;
    if ((this.defined & bit) == 0) {
      this.ids[which] = counterId(this.scope + "." + counterName(which));
      this.defined |= bit;
    }
    incrementCounter(this.ids[which], by);
  }
}

const scopes = new Map<string, Counters>();
const unknown = new Counters(SCOPE_UNKNOWN);
scopes.set(SCOPE_UNKNOWN, unknown);

/** The Counters of SCOPE_UNKNOWN (every stream starts with them), without a lookup. */
export function unknownCounters(): Counters {
  return unknown;
}

/** The Counters of a scope, one per scope and VM (so every configuration shares them). */
export function countersOf(scope: string): Counters {
  if (scopes.has(scope)) return scopes.get(scope);
  const c = new Counters(scope);
  scopes.set(scope, c);
  return c;
}
