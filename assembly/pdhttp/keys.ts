// PD region keys in PD's HTTP API (memcomparable E(k), as in the gRPC API; docs/pd-http.md):
// the request, strict-response and clamped-response transforms, and hex. Every function
// appends the memcomparable result to `out` and returns a status; an empty result means the
// empty key "" (-inf for a start, +inf for an end). Uses keyspace/codec.ts for E and D.
import { Writer } from "../proto/writer";
import { Keyspace } from "../keyspace/keyspace";
import { encodeRegionKey, decodeRegionKey, hasPrefix, compareBytes } from "../keyspace/codec";
import { OK } from "../proto/status";
import { PH_OK, PH_BAD_KEY, PH_DROP, PH_RESP_OUT_OF_KEYSPACE, PH_RESP_MALFORMED, fail } from "./errors";
import { hexVal } from "./url";

const scratch = new Writer(256);

/**
 * Request: E(P‖D(k)); an empty start becomes E(P) and an empty end E(N), the tenant's
 * keyspace bounds (never -inf/+inf). PH_BAD_KEY when k is not memcomparable.
 */
export function prefixRegionKey(ks: Keyspace, k: usize, kn: usize, isEnd: bool, out: Writer): i32 {
  const s = scratch;
  s.reset();
  if (kn == 0) {
    if (isEnd) s.bytes(ks.txnEnd.ptr, ks.txnEnd.len);
    else s.bytes(ks.txn.ptr, ks.txn.len);
  } else {
    s.bytes(ks.txn.ptr, ks.txn.len);
    if (decodeRegionKey(k, kn, s) != OK) return fail(PH_BAD_KEY, "a key is not a valid memcomparable key");
  }
  encodeRegionKey(s.ptr, s.len, out);
  return PH_OK;
}

/**
 * Response, strict (rule key ranges the filter itself wrote): E(P) as a start and E(N) as an
 * end become "" (the inverse of prefixRegionKey); any other key must be E(P‖x) with x
 * non-empty and becomes E(x). Anything else is PH_RESP_OUT_OF_KEYSPACE.
 */
export function stripStrictKey(ks: Keyspace, k: usize, kn: usize, isEnd: bool, out: Writer): i32 {
  if (kn == 0) return fail(PH_RESP_OUT_OF_KEYSPACE, "key outside the tenant keyspace (an unbounded range)");
  const s = scratch;
  s.reset();
  if (decodeRegionKey(k, kn, s) != OK) return fail(PH_RESP_MALFORMED, "a key is not a valid memcomparable key");
  const pl = ks.txn.len;
  if (isEnd && compareBytes(s.ptr, s.len, ks.txnEnd.ptr, ks.txnEnd.len) == 0) return PH_OK;
  if (!hasPrefix(s.ptr, s.len, ks.txn.ptr, pl)) return fail(PH_RESP_OUT_OF_KEYSPACE, "key outside the tenant keyspace");
  if (s.len == pl) {
    if (isEnd) return fail(PH_RESP_OUT_OF_KEYSPACE, "key outside the tenant keyspace (range ends at its start)");
    return PH_OK;
  }
  encodeRegionKey(s.ptr + pl, s.len - pl, out);
  return PH_OK;
}

/**
 * Response, clamped (regions; client-go DecodeRegionRange, as the gRPC path does): a start
 * before P becomes "", an end at or after N becomes "", a key inside loses P. A region that
 * starts at or after N or ends at or before P is outside the keyspace: PH_DROP.
 */
export function clampRegionKey(ks: Keyspace, k: usize, kn: usize, isEnd: bool, out: Writer): i32 {
  if (kn == 0) return PH_OK;
  const s = scratch;
  s.reset();
  if (decodeRegionKey(k, kn, s) != OK) return fail(PH_RESP_MALFORMED, "a region key is not a valid memcomparable key");
  const pl = ks.txn.len;
  const atOrAfterEnd = compareBytes(s.ptr, s.len, ks.txnEnd.ptr, ks.txnEnd.len) >= 0;
  if (!isEnd) {
    if (atOrAfterEnd) return PH_DROP;
    if (!hasPrefix(s.ptr, s.len, ks.txn.ptr, pl) || s.len == pl) return PH_OK;
    encodeRegionKey(s.ptr + pl, s.len - pl, out);
    return PH_OK;
  }
  if (atOrAfterEnd) return PH_OK;
  if (compareBytes(s.ptr, s.len, ks.txn.ptr, pl) <= 0) return PH_DROP;
  // P < end < N: end starts with P and is longer than P.
  encodeRegionKey(s.ptr + pl, s.len - pl, out);
  return PH_OK;
}

/** Appends the bytes of hex text [p, p+n) to `out`; PH_BAD_KEY for odd length or a non-hex digit. */
export function hexDecode(p: usize, n: usize, out: Writer): i32 {
  if ((n & 1) != 0) return fail(PH_BAD_KEY, "odd-length hex key");
  out.ensure(n >> 1);
  for (let i: usize = 0; i < n; i += 2) {
    const h = hexVal(<i32>load<u8>(p + i)), l = hexVal(<i32>load<u8>(p + i + 1));
    if (h < 0 || l < 0) return fail(PH_BAD_KEY, "non-hex character in a hex key");
    out.byte(<u8>((h << 4) | l));
  }
  return PH_OK;
}

/** Appends the hex text of [p, p+n) to `out`. */
export function hexEncode(p: usize, n: usize, upper: bool, out: Writer): void {
  const digits = upper ? 0x41 - 10 : 0x61 - 10;
  out.ensure(n << 1);
  for (let i: usize = 0; i < n; i++) {
    const b = <i32>load<u8>(p + i);
    const h = b >> 4, l = b & 15;
    out.byte(<u8>(h < 10 ? 0x30 + h : digits + h));
    out.byte(<u8>(l < 10 ? 0x30 + l : digits + l));
  }
}
