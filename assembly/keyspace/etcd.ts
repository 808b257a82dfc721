// A tenant's etcd key space (keyspace.ts etcdRule, etcdScope..etcdHiEnd): which request keys
// may be namespaced, how a request range maps onto the shared etcd, and which stored keys
// belong to the tenant. The semantics are etcd's client/v3/namespace (ns‖key, an empty
// range_end is one key, "\x00" is every key from `key` on), narrowed so that no tenant can
// name a key of another: under the slash and no-digit rules the namespace of keyspace 1
// ("/keyspaces/tidb/1") is a byte prefix of those of 10..19, 100..199, ...
import { Keyspace, ETCD_RULE_PLAIN, ETCD_RULE_SLASH, ETCD_RULE_NO_DIGIT, Bytes } from "./keyspace";
import { hasPrefix, compareBytes } from "./codec";
import { Writer } from "../proto/writer";
import { OK, ERR_EMPTY_KEY, ERR_ETCD_KEY_FORMAT, ERR_ETCD_DIGIT_KEY, ERR_ETCD_RANGE_SPAN } from "../proto/status";

/**
 * The one key a tenant reads outside its namespace: client-go's GcSavedSafePoint
 * (tikv/safepoint.go), the GC safe point every TiDB checks reads against (kv.go
 * runSafePointChecker, CheckVisibility). The platform's GC controller writes it before it
 * moves the global GC safe point (docs/gc.md), as TiDB's own keyspace mode reads it from
 * the un-namespaced etcd (tidb pkg/store/driver/tikv_driver.go: EtcdSafePointKV without a
 * prefix). Read-only: only a single-key Range (MessageDesc.etcdSharedRead) reaches it; Put,
 * DeleteRange, Watch and compares of the same key stay in the tenant's namespace.
 */
const SHARED_READ_KEY = "/tidb/store/gcworker/saved_safe_point";
const sharedReadKey = String.UTF8.encode(SHARED_READ_KEY);

/** Whether [p, p+n) is exactly SHARED_READ_KEY. */
export function isSharedReadKey(p: usize, n: usize): bool {
  const k = changetype<usize>(sharedReadKey);
  const kn = <usize>sharedReadKey.byteLength;
  return n == kn && memory.compare(p, k, n) == 0;
}

// ns‖a and ns‖b of the range being emitted; used only inside emitEtcdRange.
const rangeStart = new Writer(256);
const rangeEnd = new Writer(256);

@inline function isDigit(c: u8): bool { return c >= 0x30 && c <= 0x39; }

/**
 * Whether the single request key [p, p+n) can be namespaced: OK, ERR_EMPTY_KEY (ns itself is
 * nobody's key; etcd's namespace wrapper refuses it too), ERR_ETCD_KEY_FORMAT (slash rule: the
 * key does not start with "/") or ERR_ETCD_DIGIT_KEY (no-digit rule: it starts with 0-9, so
 * ns‖key could be a key of keyspace <id><digit>…).
 */
export function etcdKeyStatus(ks: Keyspace, p: usize, n: usize): i32 {
  if (n == 0) return ERR_EMPTY_KEY;
  const c = load<u8>(p);
  if (ks.etcdRule == ETCD_RULE_SLASH && c != 0x2f) return ERR_ETCD_KEY_FORMAT;
  if (ks.etcdRule == ETCD_RULE_NO_DIGIT && isDigit(c)) return ERR_ETCD_DIGIT_KEY;
  return OK;
}

/**
 * True when the stored key [p, p+n) is one of the tenant's: it starts with ns and what
 * follows obeys the tenant's key rule (so ns is never stripped from another keyspace's key,
 * nor from a stray key like "/keyspaces/tidb/1" itself). The caller strips len(ns) bytes.
 */
export function etcdOwns(ks: Keyspace, p: usize, n: usize): bool {
  const ns = ks.etcd;
  if (!hasPrefix(p, n, ns.ptr, ns.len)) return false;
  if (ks.etcdRule == ETCD_RULE_PLAIN) return true;
  if (n == ns.len) return false;
  const c = load<u8>(p + ns.len);
  if (ks.etcdRule == ETCD_RULE_SLASH) return c == 0x2f;
  return !isDigit(c);
}

/**
 * Emits a request range with a non-empty range_end: field `fs` = ns‖a and field `fe` = ns‖b
 * (toEnd: b was "\x00", every key from a on), both clamped into the one part of the tenant's
 * key space that the range meets. A range that meets no part (it is empty in the tenant's
 * view) is clamped into the first part, where it stays empty. Returns OK, or
 * ERR_ETCD_RANGE_SPAN when it meets both parts of a no-digit key space (e.g. every key,
 * "\x00".."\x00"): one etcd range cannot skip the other keyspaces' keys in between, and
 * returning only one part would silently drop keys. TiDB's own ranges are prefixes
 * ("/tidb/ddl/", "tidb/autoid/leader") and never do this.
 */
export function emitEtcdRange(ks: Keyspace, fs: u32, a: usize, an: usize, fe: u32, b: usize, bn: usize,
                              toEnd: bool, out: Writer): i32 {
  const ns = ks.etcd;
  const A = rangeStart, B = rangeEnd;
  A.reset();
  A.bytes(ns.ptr, ns.len);
  A.bytes(a, an);
  B.reset();
  if (!toEnd) {
    B.bytes(ns.ptr, ns.len);
    B.bytes(b, bn);
  }
  let s = ks.etcdScope, e = ks.etcdEnd;
  if (ks.etcdRule == ETCD_RULE_NO_DIGIT) {
    const hi = ks.etcdHi as Bytes, hiEnd = ks.etcdHiEnd as Bytes;
    const low = meets(A, B, toEnd, s, e);
    const high = meets(A, B, toEnd, hi, hiEnd);
    if (low && high) return ERR_ETCD_RANGE_SPAN;
    if (high) { s = hi; e = hiEnd; }
  }
  emitClamped(fs, A.ptr, A.len, s, e, out);
  if (toEnd) out.lenField2(fe, e.ptr, e.len, 0, 0);
  else emitClamped(fe, B.ptr, B.len, s, e, out);
  return OK;
}

/** Whether [A, B) (B = +inf when toEnd) and [s, e) share a key. */
function meets(A: Writer, B: Writer, toEnd: bool, s: Bytes, e: Bytes): bool {
  // lower = max(A, s), upper = min(B, e); they share a key iff lower < upper.
  let lp = A.ptr, ln = A.len;
  if (compareBytes(lp, ln, s.ptr, s.len) < 0) { lp = s.ptr; ln = s.len; }
  let up = e.ptr, un = e.len;
  if (!toEnd && compareBytes(B.ptr, B.len, up, un) < 0) { up = B.ptr; un = B.len; }
  return compareBytes(lp, ln, up, un) < 0;
}

/** Field `num` = [p, p+n) clamped into [s, e]. */
function emitClamped(num: u32, p: usize, n: usize, s: Bytes, e: Bytes, out: Writer): void {
  if (compareBytes(p, n, s.ptr, s.len) < 0) out.lenField2(num, s.ptr, s.len, 0, 0);
  else if (compareBytes(p, n, e.ptr, e.len) > 0) out.lenField2(num, e.ptr, e.len, 0, 0);
  else out.lenField2(num, p, n, 0, 0);
}
