// A test-only entry point (dist/tidb-mesh-core.wasm) that exposes the pure core — frames,
// wire walk, keyspace codec, configuration — to jest with plain bytes, no proxy ABI.
// It imports nothing from the SDK, which proves the core does not depend on it.
// Its only imports are abort and the lock ledger's store (testing/ledger-store.ts).
import { parseConfig, Config } from "../config/config";
import { DirectionRewriter } from "../filter/direction";
import { scanMessage } from "../proto/rewrite";
import { lookupMethod, Method, POLICY_REWRITE, POLICY_DENY } from "../schema/methods";
import { Writer } from "../proto/writer";
import { encodeRegionKey, decodeRegionKey } from "../keyspace/codec";
import { Keyspace } from "../keyspace/keyspace";
import { OK } from "../proto/status";
import { selectTenant, Identity } from "../filter/identity";
import { useHostLedger } from "./ledger-store";

useHostLedger();

let config: Config | null = null;
const open = new Map<i32, DirectionRewriter>();
let nextHandle: i32 = 1;
const scratch = new Writer(1024);

/** Unmanaged bytes for the test to fill. */
export function alloc(n: usize): usize { return __alloc(n, 0); }
export function release(p: usize): void { __free(p); }

/** Parses a configuration; returns "" on success or the validation error. */
export function configure(json: string): string {
  const r = parseConfig(json);
  config = r.config;
  return r.error;
}

export function tenantCount(): i32 { return config === null ? 0 : (config as Config).tenants.length; }

/** Outbound selection for an identity given as namespace and one label; returns the tenant name or "". */
export function selectOutbound(namespace: string, labelKey: string, labelValue: string): string {
  const id = new Identity();
  if (namespace.length > 0) id.namespace = namespace;
  if (labelKey.length > 0) { id.labelKeys.push(labelKey); id.labelValues.push(labelValue); }
  if (config === null) return "";
  const s = selectTenant(config as Config, id);
  if (s.tenant === null) return "";
  return s.name;
}

/** Selection for an inbound principal: tenant name, "passthrough:<name>", or "". */
export function selectInbound(principal: string): string {
  const id = new Identity();
  id.principal = principal;
  if (config === null) return "";
  const s = selectTenant(config as Config, id);
  if (s.tenant !== null) return s.name;
  if (s.kind == 1) return "passthrough:" + s.name;
  return "";
}

/**
 * How the allowlist treats a gRPC :path: "unknown", "rewrite", "pass" or "deny: <reason>"
 * (for realstack/inventory.js, which labels every call a real TiDB made).
 */
export function methodTreatment(path: string): string {
  const m = lookupMethod(path);
  if (m === null) return "unknown";
  const method = m as Method;
  if (method.policy == POLICY_REWRITE) return "rewrite";
  if (method.policy == POLICY_DENY) return "deny: " + method.reason;
  return "pass";
}

/**
 * Opens one direction of a call to `path` for tenant `tenantIndex`. Returns a handle > 0,
 * -1 for a method not on the allowlist, -2 for a method that is denied or passed untouched.
 */
export function openCall(tenantIndex: i32, path: string, request: bool): i32 {
  const m = lookupMethod(path);
  if (m === null) return -1;
  const method = m as Method;
  if (method.policy != POLICY_REWRITE) return -2;
  const c = config as Config;
  const ks = c.tenants[tenantIndex].keyspace;
  const d = new DirectionRewriter(ks, request, request ? method.request! : method.response!, c.maxMessageBytes);
  const h = nextHandle++;
  open.set(h, d);
  return h;
}

/** Feeds one chunk; returns OK (0) or a status. The output is at outputPtr/outputLen. */
export function push(handle: i32, p: usize, n: usize, endOfStream: bool): i32 {
  // The last handle's rewriter as a raw pointer (the Map keeps it alive until closeCall): a
  // benchmark pushing one call in a loop then measures the rewriter, not a Map lookup with its
  // retain/release.
  if (handle != lastHandle) {
    lastRewriter = changetype<usize>(open.get(handle));
    lastHandle = handle;
  }
  return changetype<DirectionRewriter>(lastRewriter).push(p, n, endOfStream);
}
let lastHandle: i32 = 0;
let lastRewriter: usize = 0;
export function outputPtr(handle: i32): usize { return open.get(handle).outputPtr(); }
export function outputLen(handle: i32): usize { return open.get(handle).outputLen(); }
export function keysRewritten(handle: i32): u32 { return open.get(handle).walk.keys; }
export function entriesFiltered(handle: i32): u32 { return open.get(handle).walk.filtered; }
export function pending(handle: i32): usize { return open.get(handle).frames.pending(); }
/** Keyless lock requests rewritten into the keyed form / sent without effect (proto/keyless.ts). */
export function keylessRewritten(handle: i32): u32 { return open.get(handle).walk.keylessRewritten; }
export function keylessNoEffect(handle: i32): u32 { return open.get(handle).walk.keylessNoEffect; }
/** What filter/stream.ts does between the two directions of a call: the request's carried value to the response. */
export function copyCarry(from: i32, to: i32): void { open.get(to).walk.carry = open.get(from).walk.carry; }
export function closeCall(handle: i32): void {
  if (handle == lastHandle) { lastHandle = 0; lastRewriter = 0; }
  if (open.has(handle)) { open.get(handle).dispose(); open.delete(handle); }
}

/** Memcomparable encoding of [p, p+n); result at scratchPtr/scratchLen. */
export function encodeRegion(p: usize, n: usize): void {
  scratch.reset();
  encodeRegionKey(p, n, scratch);
}
/** Memcomparable decoding; returns a status, result at scratchPtr/scratchLen. */
export function decodeRegion(p: usize, n: usize): i32 {
  scratch.reset();
  return decodeRegionKey(p, n, scratch);
}
export function scratchPtr(): usize { return scratch.ptr; }
export function scratchLen(): usize { return scratch.len; }

/** The 4-byte api-v2 prefix and its end for id, as 8 bytes at scratchPtr. */
export function apiV2Bounds(id: u32): void {
  const ks = Keyspace.apiV2(id, "/k/");
  scratch.reset();
  scratch.bytes(ks.txn.ptr, ks.txn.len);
  scratch.bytes(ks.txnEnd.ptr, ks.txnEnd.len);
}

export { OK };

/**
 * Benchmark baseline: the physical floor of a rewrite, one memory.copy of the same n bytes
 * inside the same module and runtime. Returns n so the call cannot be dropped.
 */
export function copyBench(src: usize, n: usize, out: usize): usize {
  memory.copy(out, src, n);
  return n;
}

/**
 * Benchmark baseline: the parse floor of the walk for call `handle` over one frame at p
 * (5-byte header, then the message): proto/rewrite.ts scanMessage, the same traversal with
 * nothing written. Returns its status.
 */
export function scanBench(handle: i32, p: usize, n: usize): i32 {
  return scanMessage(changetype<usize>(open.get(handle).desc), p + 5, p + n, 0);
}
