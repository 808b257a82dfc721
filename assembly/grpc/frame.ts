// The 5-byte gRPC length-prefixed-message decoder. Body chunks have no relation to frame
// boundaries: a chunk may hold many frames, part of one, or both. Bytes of an incomplete
// frame are carried to the next chunk. "Need more" is a normal result, not an error.
import { Writer } from "../proto/writer";
import { OK, ERR_COMPRESSED, ERR_FRAME_FLAG, ERR_OVERSIZE } from "../proto/status";

/** next() results besides the error statuses. */
export const FRAME: i32 = -1;
export const NEED_MORE: i32 = -2;

export class FrameReader {
  /** Bytes of an incomplete frame held back from earlier chunks. */
  carry: Writer = new Writer(0);
  maxMessage: u32;
  private base: usize = 0;
  private baseLen: usize = 0;
  private pos: usize = 0;
  private usingCarry: bool = false;
  /** The payload of the frame last returned by next(). */
  framePtr: usize = 0;
  frameLen: usize = 0;

  constructor(maxMessage: u32) { this.maxMessage = maxMessage; }

  /** Starts reading a new chunk [p, p+n), after any carried bytes. */
  begin(p: usize, n: usize): void {
    if (this.carry.len > 0) {
      this.carry.bytes(p, n);
      this.base = this.carry.ptr;
      this.baseLen = this.carry.len;
      this.usingCarry = true;
    } else {
      this.base = p;
      this.baseLen = n;
      this.usingCarry = false;
    }
    this.pos = 0;
  }

  /**
   * FRAME: framePtr/frameLen hold the next complete payload. NEED_MORE: the rest is an
   * incomplete frame (call finish()). Otherwise an error status: ERR_COMPRESSED,
   * ERR_FRAME_FLAG, or ERR_OVERSIZE (detected from the header alone, before buffering).
   */
  next(): i32 {
    const avail = this.baseLen - this.pos;
    if (avail < 5) return NEED_MORE;
    const h = this.base + this.pos;
    const flag = load<u8>(h);
    if (flag == 1) return ERR_COMPRESSED;
    if (flag != 0) return ERR_FRAME_FLAG;
    const len = (<u32>load<u8>(h + 1) << 24) | (<u32>load<u8>(h + 2) << 16) | (<u32>load<u8>(h + 3) << 8) | <u32>load<u8>(h + 4);
    if (len > this.maxMessage) return ERR_OVERSIZE;
    if (avail - 5 < <usize>len) return NEED_MORE;
    this.framePtr = h + 5;
    this.frameLen = len;
    this.pos += 5 + <usize>len;
    return FRAME;
  }

  /** Keeps the unread tail of the chunk for the next begin(). */
  finish(): void {
    const rest = this.baseLen - this.pos;
    if (this.usingCarry) {
      if (rest > 0 && this.pos > 0) memory.copy(this.carry.ptr, this.carry.ptr + this.pos, rest);
      this.carry.len = rest;
    } else {
      this.carry.reset();
      if (rest > 0) this.carry.bytes(this.base + this.pos, rest);
    }
  }

  /** Frees the carry buffer (unmanaged memory). */
  dispose(): void { this.carry.free(); }

  /** Bytes held back, waiting for the rest of their frame. */
  @inline pending(): usize { return this.carry.len; }
}

/** Writes a 5-byte uncompressed frame header for a payload of `len` bytes at p. */
export function writeFrameHeader(p: usize, len: u32): void {
  store<u8>(p, 0);
  store<u8>(p + 1, <u8>(len >> 24));
  store<u8>(p + 2, <u8>(len >> 16));
  store<u8>(p + 3, <u8>(len >> 8));
  store<u8>(p + 4, <u8>len);
}

export { OK };
