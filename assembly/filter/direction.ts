// One direction (request or response) of one call, without any host calls: body chunks in,
// rewritten bytes out. The same sequence of bytes gives the same output however it is split
// into chunks, because only complete frames are rewritten and the rest is carried.
import { FrameReader, FRAME, NEED_MORE, writeFrameHeader } from "../grpc/frame";
import { Writer } from "../proto/writer";
import { OK, ERR_FRAME_TRUNCATED } from "../proto/status";
import { Walk, rewriteRaw, unchangedResponse } from "../proto/rewrite";
import { MessageDesc } from "../schema/types";
import { Keyspace } from "../keyspace/keyspace";
import { commitNotes, discardNotes } from "../locks/ledger";

// Every call's output goes through one shared buffer: a body callback finishes (its bytes
// are handed to the host) before the next one starts, so calls never overlap.
const sharedOut = new Writer(64 * 1024);

export class DirectionRewriter {
  frames: FrameReader;
  walk: Walk;
  desc: MessageDesc;
  /** The first error status; once set every later push returns it and forwards nothing. */
  failed: i32 = OK;
  framesRewritten: u32 = 0;

  constructor(ks: Keyspace, request: bool, desc: MessageDesc, maxMessage: u32) {
    this.frames = new FrameReader(maxMessage);
    this.walk = new Walk(ks, request);
    this.desc = desc;
  }

  /**
   * Rewrites every complete frame in the carried bytes plus [p, p+n). Returns OK with the
   * bytes to forward in output() (possibly none: a partial frame waits for more), or an
   * error status: the caller ends the call and forwards nothing more.
   */
  push(p: usize, n: usize, endOfStream: bool): i32 {
    if (this.failed != OK) return this.failed;
    // Raw pointers, not managed locals: in AssemblyScript 0.14 every managed local is retained
    // and released (a call each), which was ~8 % of a KvGet (docs/performance.md). The objects
    // live as long as this rewriter (sharedOut as long as the VM).
    const out = changetype<usize>(sharedOut);
    const fr = changetype<usize>(this.frames);
    const w = changetype<usize>(this.walk);
    const d = changetype<usize>(this.desc);
    const request = changetype<Walk>(w).request;
    changetype<Writer>(out).reset();
    changetype<FrameReader>(fr).begin(p, n);
    while (true) {
      const st = changetype<FrameReader>(fr).next();
      if (st == NEED_MORE) break;
      if (st != FRAME) return this.fail(st);
      const fp = changetype<FrameReader>(fr).framePtr, fn = changetype<FrameReader>(fr).frameLen;
      if (!request && unchangedResponse(d, fp, fp + fn, 0)) {
        // Nothing in it to check or strip (proto/rewrite.ts unchangedResponse): the frame as it came.
        changetype<Writer>(out).bytes(fp - 5, fn + 5);
        this.framesRewritten++;
        continue;
      }
      const headerAt = changetype<Writer>(out).len;
      changetype<Writer>(out).ensure(5);
      changetype<Writer>(out).len += 5;
      const r = rewriteRaw(w, d, fp, fp + fn, out, 0);
      if (r != OK) {
        discardNotes();
        return this.fail(r);
      }
      // Locks this accepted response showed the tenant go into its ledger now, while the
      // frame's bytes are still valid (locks/ledger.ts).
      if (!request) commitNotes(this.walk.ks.ledgerScope);
      writeFrameHeader(changetype<Writer>(out).ptr + headerAt, <u32>(changetype<Writer>(out).len - headerAt - 5));
      this.framesRewritten++;
    }
    changetype<FrameReader>(fr).finish();
    if (endOfStream && changetype<FrameReader>(fr).pending() > 0) return this.fail(ERR_FRAME_TRUNCATED);
    return OK;
  }

  private fail(st: i32): i32 {
    this.failed = st;
    this.frames.dispose();
    sharedOut.reset();
    return st;
  }

  /** Frees unmanaged buffers; call when the stream ends. */
  dispose(): void { this.frames.dispose(); }

  /** The bytes produced by the last successful push. */
  @inline outputPtr(): usize { return sharedOut.ptr; }
  @inline outputLen(): usize { return sharedOut.len; }
}
