// Pure key transformations between a tenant's own coordinates and the shared key space.
// Everything works on (pointer, length) pairs and appends to a Writer; nothing allocates
// managed objects and nothing throws.
import { Writer } from "../proto/writer";
import { OK, ERR_REGION_KEY } from "../proto/status";

/** True when [p, p+n) starts with [q, q+m). */
@inline
export function hasPrefix(p: usize, n: usize, q: usize, m: usize): bool {
  return n >= m && memory.compare(p, q, m) == 0;
}

/** Lexicographic byte comparison: negative, zero or positive. */
export function compareBytes(a: usize, an: usize, b: usize, bn: usize): i32 {
  const n = an < bn ? an : bn;
  const c = memory.compare(a, b, n);
  if (c != 0) return c;
  if (an == bn) return 0;
  return an < bn ? -1 : 1;
}

/** Length of the memcomparable encoding of an n-byte key: (n/8 + 1) * 9. */
@inline
export function encodedRegionKeyLen(n: usize): usize {
  return (n / 8 + 1) * 9;
}

/**
 * Appends the memcomparable encoding of [src, src+n) (8-byte groups, each followed by the
 * marker 0xFF - padding; a final padded group is always written) to `out`.
 */
export function encodeRegionKey(src: usize, n: usize, out: Writer): void {
  const total = encodedRegionKeyLen(n);
  out.ensure(total);
  let dst = out.ptr + out.len;
  let i: usize = 0;
  while (true) {
    const remain = n - i;
    if (remain >= 8) {
      memory.copy(dst, src + i, 8);
      store<u8>(dst + 8, 0xff);
      dst += 9;
      i += 8;
    } else {
      memory.copy(dst, src + i, remain);
      memory.fill(dst + remain, 0, 8 - remain);
      store<u8>(dst + 8, <u8>(0xff - (8 - remain)));
      break;
    }
  }
  out.len += total;
}

/**
 * Appends the decoding of a memcomparable key to `out`. Bytes after the terminating group
 * (e.g. a timestamp suffix on a region boundary) are ignored, as client-go does.
 * Returns OK, or ERR_REGION_KEY for a truncated group, a marker with padding > 8, or
 * non-zero padding bytes.
 */
export function decodeRegionKey(src: usize, n: usize, out: Writer): i32 {
  let i: usize = 0;
  while (true) {
    if (n - i < 9) return ERR_REGION_KEY;
    const marker = load<u8>(src + i + 8);
    const pad = <usize>(0xff - marker);
    if (pad > 8) return ERR_REGION_KEY;
    const real = 8 - pad;
    for (let j = real; j < 8; j++) {
      if (load<u8>(src + i + j) != 0) return ERR_REGION_KEY;
    }
    out.bytes(src + i, real);
    i += 9;
    if (pad != 0) return OK;
  }
  return OK;
}
