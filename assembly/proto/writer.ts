// A growable output buffer in unmanaged memory. One Writer is reused for every frame, so a
// long stream allocates only when a message is larger than any before it.
import { varintSize, writeVarintAt, WT_LEN } from "./wire";

/**
 * Copies n bytes between regions that do not overlap. Short copies (keys, tags, Context
 * runs: almost every copy of the walk) are done with word loads here: V8 compiles
 * `memory.copy` to a call out of the generated code, whose fixed cost is several times that
 * of copying a few dozen bytes (docs/performance.md).
 */
@inline export function copyDisjoint(dst: usize, src: usize, n: usize): void {
  if (n > 64) { memory.copy(dst, src, n); return; }
  let i: usize = 0;
  while (i + 8 <= n) { store<u64>(dst + i, load<u64>(src + i)); i += 8; }
  while (i < n) { store<u8>(dst + i, load<u8>(src + i)); i++; }
}

export class Writer {
  ptr: usize;
  cap: usize;
  len: usize = 0;

  /** `initial` 0 allocates nothing until the first write. */
  constructor(initial: usize = 4096) {
    this.cap = initial;
    this.ptr = initial > 0 ? __alloc(initial, 0) : 0;
  }

  /** Returns the memory to the allocator; the Writer is empty and reusable afterwards. */
  free(): void {
    if (this.ptr != 0) __free(this.ptr);
    this.ptr = 0;
    this.cap = 0;
    this.len = 0;
  }

  reset(): void { this.len = 0; }

  /** Makes room for `extra` more bytes. */
  @inline ensure(extra: usize): void {
    const need = this.len + extra;
    if (need > this.cap) this.grow(need);
  }

  grow(need: usize): void {
    let cap = this.cap < 64 ? <usize>64 : this.cap << 1;
    while (cap < need) cap <<= 1;
    // Not __realloc: AssemblyScript 0.14's reallocateBlock (std/assembly/rt/tlsf.ts) copies
    // the NEW size out of the old block, reading past its end; when the old block is the
    // last one in linear memory and the new one is placed lower (in a large block freed
    // earlier), that read runs off the end of memory and the VM traps. Copy only `len`.
    const p = __alloc(cap, 0);
    if (this.ptr != 0) {
      if (this.len > 0) memory.copy(p, this.ptr, this.len);
      __free(this.ptr);
    }
    this.ptr = p;
    this.cap = cap;
  }

  // The small writers below are @inline: the walk calls them once or more per field, and an
  // out-of-line call per field was ~15 % of the 128-Get batch (docs/performance.md).
  @inline bytes(src: usize, n: usize): void {
    this.ensure(n);
    copyDisjoint(this.ptr + this.len, src, n);
    this.len += n;
  }

  byte(b: u8): void {
    this.ensure(1);
    store<u8>(this.ptr + this.len, b);
    this.len++;
  }

  @inline varint(v: u64): void {
    const p = this.ptr + this.len;
    if (v < 0x80 && this.len < this.cap) { store<u8>(p, <u8>v); this.len++; return; }
    this.varintSlow(v);
  }

  varintSlow(v: u64): void {
    this.ensure(10);
    this.len = writeVarintAt(this.ptr + this.len, v) - this.ptr;
  }

  @inline tag(field: u32, wireType: u32): void {
    this.varint((<u64>field << 3) | <u64>wireType);
  }

  /** Writes a complete length-delimited field: tag, length, then a ‖ b. */
  lenField2(field: u32, a: usize, an: usize, b: usize, bn: usize): void {
    this.tag(field, WT_LEN);
    this.varint(<u64>(an + bn));
    this.ensure(an + bn);
    copyDisjoint(this.ptr + this.len, a, an);
    copyDisjoint(this.ptr + this.len + an, b, bn);
    this.len += an + bn;
  }

  /**
   * lenField2 for the common short case, inline: a one-byte tag (field < 16), a body under
   * 128 bytes and room in the buffer write tag, length, a and b with plain stores (a is a
   * 4-byte API-v2 prefix or nothing); anything else goes through lenField2.
   */
  @inline prefixedField(field: u32, a: usize, an: usize, b: usize, bn: usize): void {
    const total = an + bn;
    const p = this.ptr + this.len;
    if (field < 16 && total < 0x80 && this.len + total + 2 <= this.cap) {
      store<u8>(p, <u8>((field << 3) | WT_LEN));
      store<u8>(p + 1, <u8>total);
      if (an == 4) store<u32>(p + 2, load<u32>(a));
      else copyDisjoint(p + 2, a, an);
      copyDisjoint(p + 2 + an, b, bn);
      this.len += total + 2;
      return;
    }
    this.lenField2(field, a, an, b, bn);
  }

  /**
   * Starts a nested length-delimited field whose length is not yet known: writes the tag and
   * reserves one byte. Returns the mark to pass to endNested.
   */
  @inline beginNested(field: u32): usize {
    this.tag(field, WT_LEN);
    this.ensure(1);
    this.len++;
    return this.len;
  }

  /**
   * Finishes a nested field started at `mark`: writes its length, moving the body when the
   * length needs more than the one reserved byte (bodies of 128 bytes and more).
   */
  @inline endNested(mark: usize): void {
    const bodyLen = this.len - mark;
    if (bodyLen < 0x80) { store<u8>(this.ptr + mark - 1, <u8>bodyLen); return; }
    this.endNestedLong(mark, bodyLen);
  }

  endNestedLong(mark: usize, bodyLen: usize): void {
    const n = <usize>varintSize(<u64>bodyLen);
    if (n > 1) {
      this.ensure(n - 1);
      memory.copy(this.ptr + mark + n - 1, this.ptr + mark, bodyLen);
      this.len += n - 1;
    }
    writeVarintAt(this.ptr + mark - 1, <u64>bodyLen);
  }

  /** Discards everything written after `len` (used to drop a filtered element). */
  truncate(len: usize): void { this.len = len; }
}
