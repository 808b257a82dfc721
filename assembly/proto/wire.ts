// Protobuf wire-format primitives over raw linear memory. Reads go through a Cursor whose
// `err` is set instead of throwing; callers check it after every read.
import { OK, ERR_TRUNCATED, ERR_VARINT } from "./status";

export const WT_VARINT: u32 = 0;
export const WT_I64: u32 = 1;
export const WT_LEN: u32 = 2;
export const WT_SGROUP: u32 = 3;
export const WT_EGROUP: u32 = 4;
export const WT_I32: u32 = 5;

/** A read position over [pos, end). `err` is OK until a read fails; then it sticks. */
export class Cursor {
  pos: usize;
  end: usize;
  err: i32 = OK;
  constructor(pos: usize, end: usize) {
    this.pos = pos;
    this.end = end;
  }
}

/**
 * Reads a varint of at most 10 bytes. On truncation sets ERR_TRUNCATED, on an 11th byte
 * ERR_VARINT; returns 0 then. Never reads past `end`.
 */
export function readVarint(c: Cursor): u64 {
  let result: u64 = 0;
  let shift: u64 = 0;
  let p = c.pos;
  const end = c.end;
  for (let i = 0; i < 10; i++) {
    if (p >= end) { c.err = ERR_TRUNCATED; return 0; }
    const b = <u64>load<u8>(p);
    p++;
    result |= (b & 0x7f) << shift;
    if ((b & 0x80) == 0) { c.pos = p; return result; }
    shift += 7;
  }
  c.err = ERR_VARINT;
  return 0;
}

/**
 * Reads a length prefix and checks that the delimited bytes fit before `end`.
 * Returns the length; on failure sets err (ERR_TRUNCATED or ERR_VARINT) and returns 0.
 */
export function readLength(c: Cursor): u32 {
  const v = readVarint(c);
  if (c.err != OK) return 0;
  if (v > 0x7fffffff) { c.err = ERR_VARINT; return 0; }
  if (<u64>(c.end - c.pos) < v) { c.err = ERR_TRUNCATED; return 0; }
  return <u32>v;
}

/** Skips a field body of the given wire type. Groups and wire types 6/7 are errors (caller checks). */
export function skipValue(c: Cursor, wireType: u32): void {
  if (wireType == WT_VARINT) { readVarint(c); return; }
  if (wireType == WT_LEN) {
    const n = readLength(c);
    if (c.err == OK) c.pos += n;
    return;
  }
  if (wireType == WT_I64) {
    if (c.end - c.pos < 8) { c.err = ERR_TRUNCATED; return; }
    c.pos += 8;
    return;
  }
  if (wireType == WT_I32) {
    if (c.end - c.pos < 4) { c.err = ERR_TRUNCATED; return; }
    c.pos += 4;
    return;
  }
}

/** Number of bytes the varint encoding of v takes (1..10). */
export function varintSize(v: u64): u32 {
  let n: u32 = 1;
  while (v >= 0x80) { v >>= 7; n++; }
  return n;
}

/** Writes v as a varint at p; returns the pointer after it. The caller guarantees room. */
export function writeVarintAt(p: usize, v: u64): usize {
  while (v >= 0x80) {
    store<u8>(p, <u8>((v & 0x7f) | 0x80));
    v >>= 7;
    p++;
  }
  store<u8>(p, <u8>v);
  return p + 1;
}
