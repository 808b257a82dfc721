// One direction (request or response) of one call, without any host calls: body chunks in,
// rewritten bytes out. The same sequence of bytes gives the same output however it is split
// into chunks, because only complete frames are rewritten and the rest is carried.
import { FrameReader, FRAME, NEED_MORE, writeFrameHeader } from "../grpc/frame";
import { Writer } from "../proto/writer";
import { OK, ERR_FRAME_TRUNCATED } from "../proto/status";
import { Walk, rewriteMessage, unchangedResponse } from "../proto/rewrite";
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
    const out = sharedOut;
    out.reset();
    const fr = this.frames;
    fr.begin(p, n);
    while (true) {
      const st = fr.next();
      if (st == NEED_MORE) break;
      if (st != FRAME) return this.fail(st);
      if (!this.walk.request && unchangedResponse(changetype<usize>(this.desc), fr.framePtr, fr.framePtr + fr.frameLen, 0)) {
        // Nothing in it to check or strip (proto/rewrite.ts unchangedResponse): the frame as it came.
        out.bytes(fr.framePtr - 5, fr.frameLen + 5);
        this.framesRewritten++;
        continue;
      }
      const headerAt = out.len;
      out.ensure(5);
      out.len += 5;
      const r = rewriteMessage(this.walk, this.desc, fr.framePtr, fr.framePtr + fr.frameLen, out, 0);
      if (r != OK) {
        discardNotes();
        return this.fail(r);
      }
      // Locks this accepted response showed the tenant go into its ledger now, while the
      // frame's bytes are still valid (locks/ledger.ts).
      if (!this.walk.request) commitNotes(this.walk.ks.ledgerScope);
      writeFrameHeader(out.ptr + headerAt, <u32>(out.len - headerAt - 5));
      this.framesRewritten++;
    }
    fr.finish();
    if (endOfStream && fr.pending() > 0) return this.fail(ERR_FRAME_TRUNCATED);
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
