// The schema-driven walk. It copies every field it has no rule for byte for byte, splices
// only key fields, and re-measures every enclosing message it descends into. It walks into
// an embedded message only when the table says the message can hold keys; everything else
// (values, coprocessor data, unknown fields) is copied with one memory.copy.
import {
  Cursor, readVarint, skipValue, WT_VARINT, WT_LEN, WT_SGROUP, WT_EGROUP, WT_I32, WT_I64,
} from "./wire";
import { Writer } from "./writer";
import {
  OK, ERR_WIRE_TYPE, ERR_FIELD_NUMBER, ERR_DEPTH, ERR_OUT_OF_KEYSPACE, ERR_DENIED,
  ERR_UNKNOWN_COMMAND, ERR_UNSUPPORTED, ERR_KEY_NOT_ALLOWED, MAX_DEPTH, ERR_TRUNCATED, ERR_VARINT,
} from "./status";
import {
  MessageDesc, ACT_KEY, ACT_KEY_NONEMPTY, ACT_MSG, ACT_KEYSPACE_FIELD, ACT_DENY,
  ACT_REGION_KEY, ACT_KEYSPACE_ID, ACT_RANGE_START, ACT_RANGE_END, ACT_BUCKET_KEY, ACT_API_V2_ONLY,
  ACT_KEYSPACE_MATCH, ACT_KEY_UNDER, ACT_END_UNDER, ACT_SCOPED_ID, ACT_CARRY_ZERO, ACT_CLAMP_CARRIED,
  KEYLESS_NONE, FLAG_FILTER, RANGE_RAW, RANGE_REGION, RANGE_ETCD, KIND_INHERIT, KIND_TXN, KIND_RAW, KIND_ETCD,
  PLAN_PLAIN, PLAN_CONTEXT, PLAN_RAW_RANGE, PLAN_ENSURE_CONTEXT,
} from "../schema/types";
import { Keyspace, MODE_API_V2 } from "../keyspace/keyspace";
import { hasPrefix, compareBytes, encodeRegionKey, decodeRegionKey, encodedRegionKeyLen } from "../keyspace/codec";
import { etcdKeyStatus, etcdOwns, emitEtcdRange, isSharedReadKey } from "../keyspace/etcd";
import { hasField, keysFieldOf, rewriteKeyless } from "./keyless";
import { note } from "../locks/ledger";

/** Per-call walk state: the tenant, the direction, and counters for metrics. */
export class Walk {
  ks: Keyspace;
  request: bool;
  apiV2: bool;
  kind: u8 = KIND_TXN;
  /** Request keys get pfx; response keys must start with chk (then pfxLen bytes are stripped). */
  pfx: usize = 0;
  pfxLen: usize = 0;
  chk: usize = 0;
  chkLen: usize = 0;
  end: usize = 0;
  endLen: usize = 0;
  /** Keys rewritten and response entries filtered since the counters were last read. */
  keys: u32 = 0;
  filtered: u32 = 0;
  /** Keyless lock requests sent in keyed form, and sent without effect (proto/keyless.ts). */
  keylessRewritten: u32 = 0;
  keylessNoEffect: u32 = 0;
  /**
   * A request value the response needs (ACT_CARRY_ZERO -> ACT_CLAMP_CARRIED): the stream
   * copies it from the request's Walk to the response's (filter/stream.ts).
   */
  carry: u64 = 0;
  /** Keyspace.ctxFields as a raw pointer and length (the Keyspace outlives the walk). */
  ctxPtr: usize;
  ctxLen: usize;

  constructor(ks: Keyspace, request: bool) {
    this.ks = ks;
    this.ctxPtr = ks.ctxFields.ptr;
    this.ctxLen = ks.ctxFields.len;
    this.request = request;
    this.apiV2 = ks.mode == MODE_API_V2;
    this.setKind(KIND_TXN);
  }

  setKind(kind: u8): void {
    this.kind = kind;
    const ks = this.ks;
    if (kind == KIND_RAW) {
      this.pfx = ks.raw.ptr; this.pfxLen = ks.raw.len; this.end = ks.rawEnd.ptr; this.endLen = ks.rawEnd.len;
    } else if (kind == KIND_ETCD) {
      // etcd: requests get ns; which keys and ranges are allowed, and which response keys are
      // the tenant's, is keyspace/etcd.ts (the key space can have two parts).
      this.pfx = ks.etcd.ptr; this.pfxLen = ks.etcd.len; this.end = ks.etcdEnd.ptr; this.endLen = ks.etcdEnd.len;
      this.chk = ks.etcdScope.ptr; this.chkLen = ks.etcdScope.len;
      return;
    } else {
      this.pfx = ks.txn.ptr; this.pfxLen = ks.txn.len; this.end = ks.txnEnd.ptr; this.endLen = ks.txnEnd.len;
    }
    this.chk = this.pfx; this.chkLen = this.pfxLen;
  }
}

// Scratch space for region-key decoding; used only while emitting one field, never across a
// recursive call, so one set per VM is enough.
const scratchStart = new Writer(256);
const scratchEnd = new Writer(256);
const bucketSpans = new Array<u64>();
// The walk reads with primitive locals instead of a managed Cursor (in AssemblyScript 0.14
// every call that takes a managed object retains and releases it). These helpers return the
// value and leave the position after it in rdPos and the outcome in rdErr (readVarint,
// readLength and skipValue of wire.ts, same results and errors).
let rdPos: usize = 0;
let rdErr: i32 = OK;

@inline function rdVarint(p: usize, end: usize): u64 {
  if (p < end) {
    const b = load<u8>(p);
    if (b < 0x80) { rdPos = p + 1; rdErr = OK; return <u64>b; }
  }
  return rdVarintSlow(p, end);
}

function rdVarintSlow(p: usize, end: usize): u64 {
  let result: u64 = 0;
  let shift: u64 = 0;
  for (let i = 0; i < 10; i++) {
    if (p >= end) { rdErr = ERR_TRUNCATED; return 0; }
    const b = <u64>load<u8>(p);
    p++;
    result |= (b & 0x7f) << shift;
    if ((b & 0x80) == 0) { rdPos = p; rdErr = OK; return result; }
    shift += 7;
  }
  rdErr = ERR_VARINT;
  return 0;
}

@inline function rdLength(p: usize, end: usize): usize {
  const v = rdVarint(p, end);
  if (rdErr != OK) return 0;
  if (v > 0x7fffffff) { rdErr = ERR_VARINT; return 0; }
  if (<u64>(end - rdPos) < v) { rdErr = ERR_TRUNCATED; return 0; }
  return <usize>v;
}


// The field loops below (walkContext, walkFields) read tags and skip bodies with these two
// inline helpers: positions stay in locals (V8 keeps wasm globals in memory, so a round trip
// through rdPos/rdErr per field costs loads and stores), the common one- and two-byte tags and
// one-byte lengths take no loop, and the wire type is checked with one bit test. The error
// path sets rdErr and returns 0 (no message starts at address 0).

/**
 * Reads the tag at p (p < end). Returns it (num << 3 | wire type; num >= 1, wire type one of
 * VARINT, I64, LEN, I32) and leaves the position after it in rdPos, or returns 0 with rdErr
 * set: ERR_TRUNCATED / ERR_VARINT, ERR_FIELD_NUMBER (0 or above 2^32 - 1 as a tag), ERR_WIRE_TYPE.
 */
@inline function rdTag(p: usize, end: usize): u32 {
  let tag = <u32>load<u8>(p);
  if (tag < 0x80) {
    rdPos = p + 1;
  } else if (p + 1 < end && load<u8>(p + 1) < 0x80) {
    tag = (tag & 0x7f) | (<u32>load<u8>(p + 1) << 7);
    rdPos = p + 2;
  } else {
    const t = rdVarint(p, end);
    if (rdErr != OK) return 0;
    if (t > 0xffffffff) { rdErr = ERR_FIELD_NUMBER; return 0; }
    tag = <u32>t;
  }
  if (tag < 8) { rdErr = ERR_FIELD_NUMBER; return 0; }
  // Valid wire types: VARINT(0), I64(1), LEN(2), I32(5).
  if (((0x27 >> (tag & 7)) & 1) == 0) { rdErr = ERR_WIRE_TYPE; return 0; }
  return tag;
}

/** Skips a field body of wire type wt at p; returns the position after it, or 0 with rdErr set. */
@inline function skipBody(p: usize, end: usize, wt: u32): usize {
  if (wt == WT_VARINT) {
    // Up to 10 bytes, the last one below 0x80.
    let i = 0;
    while (true) {
      if (p >= end) { rdErr = ERR_TRUNCATED; return 0; }
      const b = load<u8>(p);
      p++;
      if (b < 0x80) return p;
      if (++i == 10) { rdErr = ERR_VARINT; return 0; }
    }
  }
  if (wt == WT_LEN) {
    let n: usize;
    if (p < end && load<u8>(p) < 0x80) {
      n = <usize>load<u8>(p);
      p++;
    } else {
      n = rdLength(p, end);
      if (rdErr != OK) return 0;
      p = rdPos;
    }
    if (end - p < n) { rdErr = ERR_TRUNCATED; return 0; }
    return p + n;
  }
  const n: usize = wt == WT_I64 ? 8 : 4;
  if (end - p < n) { rdErr = ERR_TRUNCATED; return 0; }
  return p + n;
}

/**
 * Rewrites the message [start, end) described by `desc` and appends the result to `out`.
 * Returns OK, or a status from proto/status.ts; on error `out` holds a partial message the
 * caller must discard.
 */
export function rewriteMessage(w: Walk, desc: MessageDesc, start: usize, end: usize, out: Writer, depth: i32): i32 {
  return rewriteDesc(changetype<usize>(w), changetype<usize>(desc), start, end, changetype<usize>(out), depth);
}

/** rewriteMessage on raw pointers to the Walk, the table and the Writer (no retain/release per call). */
export function rewriteRaw(w: usize, d: usize, start: usize, end: usize, out: usize, depth: i32): i32 {
  return rewriteDesc(w, d, start, end, out, depth);
}

/** rewriteMessage with the table as a raw pointer (tables live as long as the VM's schema). */
function rewriteDesc(w: usize, d: usize, start: usize, end: usize, out: usize, depth: i32): i32 {
  if (depth > MAX_DEPTH) return ERR_DEPTH;
  let bits = changetype<MessageDesc>(d).planBits;
  if (bits == 0) bits = changetype<MessageDesc>(d).plan();
  if ((bits & PLAN_CONTEXT) != 0 && changetype<Walk>(w).request && changetype<Walk>(w).apiV2) {
    return walkContext(w, changetype<MessageDesc>(d).keyspaceMask, start, end, out);
  }
  if ((bits & PLAN_PLAIN) != 0) return walkFields(w, d, start, end, out, depth, PLAN_PLAIN);
  if ((bits & PLAN_RAW_RANGE) != 0 && changetype<Walk>(w).request) {
    return walkRawRange(w, changetype<MessageDesc>(d).rangeStart, changetype<MessageDesc>(d).rangeEnd, start, end, out);
  }
  const savedKind = changetype<Walk>(w).kind;
  const kind = changetype<MessageDesc>(d).kind;
  if (kind != KIND_INHERIT && kind != savedKind) changetype<Walk>(w).setKind(kind);
  let st: i32;
  const kl = changetype<MessageDesc>(d).keylessLock;
  if (kl != KEYLESS_NONE && changetype<Walk>(w).request && !hasField(start, end, keysFieldOf(kl))) {
    st = rewriteKeyless(changetype<Walk>(w), changetype<MessageDesc>(d), start, end, changetype<Writer>(out), depth);
  } else {
    st = walkFields(w, d, start, end, out, depth, bits & PLAN_ENSURE_CONTEXT);
  }
  if (changetype<Walk>(w).kind != savedKind) changetype<Walk>(w).setKind(savedKind);
  return st;
}

/**
 * kvrpcpb.Context in an api-v2 request (PLAN_CONTEXT): the fields in `mask` (the keyspace
 * fields) are dropped, every other field is copied in runs, and the tenant's api_version and
 * keyspace_id are appended. The same result and the same errors as walkFields on the same
 * table, in a loop that only reads tags and skips values: a Context is ~10 fields, and it
 * comes with every TiKV request (the 128-Get batch is 128 Contexts).
 */
/**
 * A forward raw range in a request (PLAN_RAW_RANGE: kvrpcpb.KeyRange, coprocessor.KeyRange):
 * other fields copied in runs, then start = P‖start and end = P‖end, or N for an empty end
 * (client-go encodeRange). walkFields + emitRange give the same bytes and errors; this is
 * their loop without the rule dispatch, for the ranges of every coprocessor request.
 */
function walkRawRange(w: usize, fs: u32, fe: u32, start: usize, end: usize, out: usize): i32 {
  let pos = start;
  let runStart = start;
  let rs: usize = 0, rsn: usize = 0, re: usize = 0, ren: usize = 0;
  while (pos < end) {
    const fieldStart = pos;
    const tag = rdTag(pos, end);
    if (tag == 0) return rdErr;
    pos = rdPos;
    const num = tag >> 3;
    const wt = tag & 7;
    if (num != fs && num != fe) {
      pos = skipBody(pos, end, wt);
      if (pos == 0) return rdErr;
      continue;
    }
    if (fieldStart > runStart) changetype<Writer>(out).bytes(runStart, fieldStart - runStart);
    if (wt != WT_LEN) return ERR_WIRE_TYPE;
    const n = rdLength(pos, end);
    if (rdErr != OK) return rdErr;
    if (num == fs) { rs = rdPos; rsn = n; } else { re = rdPos; ren = n; }
    pos = rdPos + n;
    runStart = pos;
  }
  if (pos > runStart) changetype<Writer>(out).bytes(runStart, pos - runStart);
  const pfx = changetype<Walk>(w).pfx, pfxLen = changetype<Walk>(w).pfxLen;
  changetype<Writer>(out).prefixedField(fs, pfx, pfxLen, rs, rsn);
  if (ren == 0) changetype<Writer>(out).prefixedField(fe, changetype<Walk>(w).end, changetype<Walk>(w).endLen, 0, 0);
  else changetype<Writer>(out).prefixedField(fe, pfx, pfxLen, re, ren);
  changetype<Walk>(w).keys += 2;
  return OK;
}

function walkContext(w: usize, mask: u64, start: usize, end: usize, out: usize): i32 {
  let pos = start;
  let runStart = start;
  while (pos < end) {
    const fieldStart = pos;
    const tag = rdTag(pos, end);
    if (tag == 0) return rdErr;
    pos = skipBody(rdPos, end, tag & 7);
    if (pos == 0) return rdErr;
    const num = tag >> 3;
    if (num < 64 && ((mask >> <u64>num) & 1) != 0) {
      if (fieldStart > runStart) changetype<Writer>(out).bytes(runStart, fieldStart - runStart);
      runStart = pos;
    }
  }
  if (pos > runStart) changetype<Writer>(out).bytes(runStart, pos - runStart);
  appendKeyspaceFields(w, out);
  return OK;
}

// What the rules that act after the last field need (range bounds, the keyspace match), one
// frame per depth in unmanaged memory: written only by rareField, read only by finishMessage,
// so the field loop of walkFields keeps few live values (V8 spills a large loop's locals).
const FRAME_BYTES: usize = 32;
const F_HAS_START: usize = 0, F_HAS_END: usize = 1, F_MATCHED: usize = 2, F_REVERSE: usize = 3;
const F_RS: usize = 4, F_RSN: usize = 8, F_RE: usize = 12, F_REN: usize = 16;
const walkFrames: usize = __alloc(<usize>(MAX_DEPTH + 2) * FRAME_BYTES, 0);

/**
 * The field loop. Fields without a rule are copied in runs; an embedded message (ACT_MSG) and
 * a request key (ACT_KEY) are handled in the loop, every other rule by rareField. `plan`:
 * PLAN_PLAIN, nothing to do after the last field; PLAN_ENSURE_CONTEXT, at most the added
 * Context; 0, finishMessage.
 */
function walkFields(w: usize, d: usize, start: usize, end: usize, out: usize, depth: i32, plan: u8): i32 {
  const plain = plan != 0;
  const strict = changetype<MessageDesc>(d).strict;
  const slotPtr = changetype<MessageDesc>(d).slotPtr;
  const hasLarge = changetype<MessageDesc>(d).hasLarge;
  const requireField = changetype<MessageDesc>(d).requireField;
  const ensureContextField = changetype<MessageDesc>(d).ensureContextField;
  const request = changetype<Walk>(w).request;
  const fr = walkFrames + <usize>depth * FRAME_BYTES;
  if (!plain) {
    store<u64>(fr, 0);
    store<u64>(fr + 8, 0);
    store<u64>(fr + 16, 0);
    const rangeReverse = changetype<MessageDesc>(d).rangeReverse;
    if (rangeReverse != 0) store<u8>(fr + F_REVERSE, <u8>prescanBool(start, end, rangeReverse));
    if (changetype<MessageDesc>(d).bucketField != 0) bucketSpans.length = 0;
  }
  let seenRequired = false, seenContext = false;
  let pos = start;
  let inRun = false;
  let runStart: usize = 0;

  while (pos < end) {
    const fieldStart = pos;
    const tag = rdTag(pos, end);
    if (tag == 0) return rdErr;
    pos = rdPos;
    const num = tag >> 3;
    const wt = tag & 7;
    const slot = ruleSlot(d, slotPtr, hasLarge, num);
    if (slot == 0) {
      if (strict) return ERR_UNKNOWN_COMMAND;
      pos = skipBody(pos, end, wt);
      if (pos == 0) return rdErr;
      if (!inRun) { inRun = true; runStart = fieldStart; }
      continue;
    }
    if (inRun) { changetype<Writer>(out).bytes(runStart, fieldStart - runStart); inRun = false; }
    if (num == requireField) seenRequired = true;
    if (num == ensureContextField) seenContext = true;
    const idx = <i32>(slot & 0xffffff) - 1;
    const act = <u8>(slot >> 24);

    if (act == ACT_MSG) {
      if (wt != WT_LEN) return ERR_WIRE_TYPE;
      const n = rdLength(pos, end);
      if (rdErr != OK) return rdErr;
      const v = rdPos;
      pos = v + n;
      const mark = changetype<Writer>(out).len;
      const body = changetype<Writer>(out).beginNested(num);
      const st = rewriteDesc(w, changetype<MessageDesc>(d).childAt(idx), v, pos, out, depth + 1);
      if (st != OK) {
        if (st == ERR_OUT_OF_KEYSPACE && !request && (changetype<MessageDesc>(d).flagsAt(idx) & FLAG_FILTER) != 0) {
          changetype<Writer>(out).truncate(mark);
          changetype<Walk>(w).filtered++;
          continue;
        }
        return st;
      }
      changetype<Writer>(out).endNested(body);
      continue;
    }
    if (act == ACT_KEY && changetype<Walk>(w).kind != KIND_ETCD) {
      // A data key (the bulk of BatchGet, Prewrite, Scan): P‖k out, or k with P checked and
      // stripped back (key() has the same rules for the rare forms).
      if (wt != WT_LEN) return ERR_WIRE_TYPE;
      const n = rdLength(pos, end);
      if (rdErr != OK) return rdErr;
      const v = rdPos;
      pos = v + n;
      const pfx = changetype<Walk>(w).pfx, pfxLen = changetype<Walk>(w).pfxLen;
      if (request) {
        changetype<Writer>(out).prefixedField(num, pfx, pfxLen, v, n);
        changetype<Walk>(w).keys++;
        continue;
      }
      if (n == 0) { changetype<Writer>(out).bytes(fieldStart, v - fieldStart); continue; }
      if (!hasPrefix(v, n, changetype<Walk>(w).chk, changetype<Walk>(w).chkLen)) {
        if ((changetype<MessageDesc>(d).flagsAt(idx) & FLAG_FILTER) != 0) { changetype<Walk>(w).filtered++; continue; }
        return ERR_OUT_OF_KEYSPACE;
      }
      changetype<Writer>(out).prefixedField(num, 0, 0, v + pfxLen, n - pfxLen);
      changetype<Walk>(w).keys++;
      continue;
    }
    const st = rareField(w, d, act, idx, num, wt, fieldStart, pos, end, out, fr, depth);
    if (st != OK) return st;
    pos = rdPos;
  }
  if (inRun) changetype<Writer>(out).bytes(runStart, pos - runStart);
  if (plan == PLAN_PLAIN) return OK;
  if (plan == PLAN_ENSURE_CONTEXT) {
    if (ensureContextField != 0 && !seenContext && request && changetype<Walk>(w).apiV2) appendContext(w, ensureContextField, out);
    return OK;
  }
  return finishMessage(w, d, start, end, out, fr, seenRequired, seenContext);
}

/**
 * The first rule of field `num` of table d: (index + 1) | action << 24, 0 for none. Below 64
 * it is one load from the slot table (MessageDesc.slotPtr), above a scan (largeSlot).
 */
@inline function ruleSlot(d: usize, slotPtr: usize, hasLarge: bool, num: u32): u32 {
  if (num < 64) return slotPtr != 0 ? load<u32>(slotPtr + (<usize>num << 2)) : 0;
  return hasLarge ? largeSlot(d, num) : 0;
}

/** The slot of a field numbered 64 or more: a scan of the rules. */
function largeSlot(d: usize, num: u32): u32 {
  const numsPtr = changetype<MessageDesc>(d).numsPtr;
  const count = changetype<MessageDesc>(d).count;
  for (let i = 0; i < count; i++) {
    if (load<u32>(numsPtr + (<usize>i << 2)) == num) return <u32>(i + 1) | (<u32>changetype<MessageDesc>(d).actAt(i) << 24);
  }
  return 0;
}

/**
 * Every rule but ACT_MSG and a request ACT_KEY, for the field whose body starts at pos.
 * Returns OK with the position after the field in rdPos, or an error status.
 */
function rareField(w: usize, d: usize, act: u8, idx: i32, num: u32, wt: u32, fieldStart: usize, pos: usize,
                   end: usize, out: usize, fr: usize, depth: i32): i32 {
  const request = changetype<Walk>(w).request;
  if (act == ACT_DENY) return ERR_DENIED;
  if (act == ACT_KEYSPACE_MATCH) {
    if (wt != WT_VARINT) return ERR_WIRE_TYPE;
    const id = rdVarint(pos, end);
    if (rdErr != OK) return rdErr;
    pos = rdPos;
    // Last value wins, as in protobuf.
    store<u8>(fr + F_MATCHED, <u8>(id == <u64>changetype<Walk>(w).ks.id));
    changetype<Writer>(out).bytes(fieldStart, pos - fieldStart);
    rdPos = pos;
    return OK;
  }
  if (act == ACT_CARRY_ZERO || act == ACT_CLAMP_CARRIED) {
    if (wt != WT_VARINT) return ERR_WIRE_TYPE;
    const v = rdVarint(pos, end);
    if (rdErr != OK) return rdErr;
    pos = rdPos;
    if (act == ACT_CARRY_ZERO && request) {
      // Kept for the response, never sent (absent = 0).
      changetype<Walk>(w).carry = v;
    } else if (act == ACT_CLAMP_CARRIED && !request) {
      const c = changetype<Walk>(w).carry;
      changetype<Writer>(out).tag(num, WT_VARINT);
      changetype<Writer>(out).varint(c != 0 && c <= v ? c : v);
    } else {
      changetype<Writer>(out).bytes(fieldStart, pos - fieldStart);
    }
    rdPos = pos;
    return OK;
  }
  if (act == ACT_KEYSPACE_ID || act == ACT_KEYSPACE_FIELD) {
    pos = skipBody(pos, end, wt);
    if (pos == 0) return rdErr;
    if (request && changetype<Walk>(w).apiV2) {
      // Keyspace fields are re-emitted (setKeyspace) or here, never forwarded as sent:
      // a v1 TiDB sends keyspace_id = 0xFFFFFFFF, and a smuggled value must not survive.
      if (act == ACT_KEYSPACE_ID) {
        if (wt != WT_VARINT) return ERR_WIRE_TYPE;
        changetype<Writer>(out).tag(num, WT_VARINT);
        changetype<Writer>(out).varint(<u64>changetype<Walk>(w).ks.id);
      }
    } else {
      changetype<Writer>(out).bytes(fieldStart, pos - fieldStart);
    }
    rdPos = pos;
    return OK;
  }
  if (wt != WT_LEN) return ERR_WIRE_TYPE;
  const n = rdLength(pos, end);
  if (rdErr != OK) return rdErr;
  const v = rdPos;
  pos = v + n;
  let st: i32 = OK;
  if (act == ACT_KEY || act == ACT_KEY_NONEMPTY) {
    if (changetype<Walk>(w).kind == KIND_ETCD) {
      if (request) st = etcdKeyRequest(w, num, v, n, out);
      else st = etcdKeyResponse(w, changetype<MessageDesc>(d).flagsAt(idx), num, v, n, out, fieldStart);
    } else {
      st = key(w, act, changetype<MessageDesc>(d).flagsAt(idx), num, v, n, out, fieldStart);
    }
  } else if (act == ACT_SCOPED_ID) {
    scopedId(w, num, v, n, out);
  } else if (act == ACT_KEY_UNDER || act == ACT_END_UNDER) {
    if (!underPrefix(d, act, v, n)) return request ? ERR_KEY_NOT_ALLOWED : ERR_OUT_OF_KEYSPACE;
    changetype<Writer>(out).bytes(fieldStart, pos - fieldStart);
  } else if (act == ACT_API_V2_ONLY) {
    if (request && !changetype<Walk>(w).apiV2) return ERR_UNSUPPORTED;
    const body = changetype<Writer>(out).beginNested(num);
    st = rewriteDesc(w, changetype<MessageDesc>(d).childAt(idx), v, v + n, out, depth + 1);
    if (st == OK) changetype<Writer>(out).endNested(body);
  } else if (act == ACT_RANGE_START) {
    store<u8>(fr + F_HAS_START, 1); store<u32>(fr + F_RS, v); store<u32>(fr + F_RSN, n);
  } else if (act == ACT_RANGE_END) {
    store<u8>(fr + F_HAS_END, 1); store<u32>(fr + F_RE, v); store<u32>(fr + F_REN, n);
  } else if (act == ACT_REGION_KEY) {
    st = regionKey(w, num, v, n, out);
  } else if (act == ACT_BUCKET_KEY) {
    if (request) changetype<Writer>(out).bytes(fieldStart, pos - fieldStart);
    else bucketSpans.push((<u64>v << 32) | <u64>n);
  }
  rdPos = pos;
  return st;
}

/** The rules that act after the last field: required fields, keyspace match, ranges, buckets, lock notes, Context fields. */
function finishMessage(w: usize, d: usize, start: usize, end: usize, out: usize, fr: usize,
                       seenRequired: bool, seenContext: bool): i32 {
  const request = changetype<Walk>(w).request;
  if (changetype<MessageDesc>(d).requireField != 0 && request && !seenRequired) {
    // keyUnder makes its key field required: an absent key is the empty key, outside the prefix.
    return changetype<MessageDesc>(d).underPtr != 0 ? ERR_KEY_NOT_ALLOWED : ERR_DENIED;
  }
  if (changetype<MessageDesc>(d).matchField != 0 && !request && load<u8>(fr + F_MATCHED) == 0) return ERR_OUT_OF_KEYSPACE;
  if (changetype<MessageDesc>(d).rangeKind != 0) {
    const st = emitRange(w, d, load<u8>(fr + F_REVERSE) != 0,
      load<u8>(fr + F_HAS_START) != 0, <usize>load<u32>(fr + F_RS), <usize>load<u32>(fr + F_RSN),
      load<u8>(fr + F_HAS_END) != 0, <usize>load<u32>(fr + F_RE), <usize>load<u32>(fr + F_REN), out);
    if (st != OK) return st;
  }
  const bucketField = changetype<MessageDesc>(d).bucketField;
  if (bucketField != 0 && !request && bucketSpans.length > 0) {
    const st = emitBuckets(w, bucketField, out);
    if (st != OK) return st;
  }
  if (changetype<MessageDesc>(d).recordLock && !request) noteLock(start, end);
  if (changetype<MessageDesc>(d).setKeyspace && request && changetype<Walk>(w).apiV2) appendKeyspaceFields(w, out);
  const ensureContextField = changetype<MessageDesc>(d).ensureContextField;
  if (ensureContextField != 0 && !seenContext && request && changetype<Walk>(w).apiV2) appendContext(w, ensureContextField, out);
  return OK;
}

/** No Context at all would reach TiKV as an API-v1 request: field `num` gets the tenant's. */
function appendContext(w: usize, num: u32, out: usize): void {
  const body = changetype<Writer>(out).beginNested(num);
  appendKeyspaceFields(w, out);
  changetype<Writer>(out).endNested(body);
}

/** kvrpcpb.Context api_version(21) = V2 and keyspace_id(32) = the tenant's id (bytes made once per Keyspace). */
@inline function appendKeyspaceFields(w: usize, out: usize): void {
  changetype<Writer>(out).bytes(changetype<Walk>(w).ctxPtr, changetype<Walk>(w).ctxLen);
}

/**
 * ACT_SCOPED_ID: requests get the tenant's scope in front of the id; in responses an id with
 * the scope loses it, any other id becomes "" (counted as filtered), so no tenant sees
 * another's or the platform's ids.
 */
function scopedId(w: usize, num: u32, v: usize, n: usize, out: usize): void {
  const scope = changetype<Walk>(w).ks.serviceScope;
  if (changetype<Walk>(w).request) {
    changetype<Writer>(out).lenField2(num, scope.ptr, scope.len, v, n);
    changetype<Walk>(w).keys++;
    return;
  }
  if (hasPrefix(v, n, scope.ptr, scope.len)) {
    changetype<Writer>(out).lenField2(num, v + scope.len, n - scope.len, 0, 0);
    changetype<Walk>(w).keys++;
    return;
  }
  changetype<Writer>(out).tag(num, WT_LEN);
  changetype<Writer>(out).varint(0);
  changetype<Walk>(w).filtered++;
}

/**
 * A LockInfo the walk accepted (its keys are the tenant's): note lock_version(2) and key(3),
 * as stored (prefixed), in the lock ledger (locks/ledger.ts). Last value wins, as in protobuf.
 */
function noteLock(start: usize, end: usize): void {
  let p = start;
  let ts: u64 = 0;
  let kp: usize = 0, kn: usize = 0;
  while (p < end) {
    const tag = rdVarint(p, end);
    if (rdErr != OK) return;
    p = rdPos;
    const num = <u32>(tag >> 3);
    const wt = <u32>(tag & 7);
    if (num == 2 && wt == WT_VARINT) {
      ts = rdVarint(p, end);
      if (rdErr != OK) return;
      p = rdPos;
      continue;
    }
    if (num == 3 && wt == WT_LEN) {
      const n = rdLength(p, end);
      if (rdErr != OK) return;
      kp = rdPos;
      kn = n;
      p = rdPos + n;
      continue;
    }
    // The walk accepted this LockInfo, so its wire types are valid.
    p = skipBody(p, end, wt);
    if (p == 0) return;
  }
  if (ts != 0 && kn != 0) note(ts, kp, kn);
}

/** Last value of a bool/varint field `num` in [start, end); false when absent or malformed (the walk reports malformed bytes). */
function prescanBool(start: usize, end: usize, num: u32): bool {
  const c = new Cursor(start, end);
  let value = false;
  while (c.pos < end) {
    const tag = readVarint(c);
    if (c.err != OK) return value;
    const wt = <u32>(tag & 7);
    if (<u32>(tag >> 3) == num && wt == WT_VARINT) {
      value = readVarint(c) != 0;
    } else {
      if (wt == WT_SGROUP || wt == WT_EGROUP || wt > WT_I32) return value;
      skipValue(c, wt);
    }
    if (c.err != OK) return value;
  }
  return value;
}

function key(w: usize, act: u8, flags: u8, num: u32, v: usize, n: usize, out: usize, fieldStart: usize): i32 {
  if (changetype<Walk>(w).request) {
    if (n == 0 && act == ACT_KEY_NONEMPTY) {
      changetype<Writer>(out).bytes(fieldStart, v - fieldStart);
      return OK;
    }
    changetype<Writer>(out).lenField2(num, changetype<Walk>(w).pfx, changetype<Walk>(w).pfxLen, v, n);
    changetype<Walk>(w).keys++;
    return OK;
  }
  if (n == 0) {
    changetype<Writer>(out).bytes(fieldStart, v - fieldStart);
    return OK;
  }
  if (!hasPrefix(v, n, changetype<Walk>(w).chk, changetype<Walk>(w).chkLen)) {
    if ((flags & FLAG_FILTER) != 0) { changetype<Walk>(w).filtered++; return OK; }
    return ERR_OUT_OF_KEYSPACE;
  }
  changetype<Writer>(out).lenField2(num, v + changetype<Walk>(w).pfxLen, n - changetype<Walk>(w).pfxLen, 0, 0);
  changetype<Walk>(w).keys++;
  return OK;
}

/**
 * A single etcd request key (Put; the key of a range without range_end): ns‖key, when the
 * tenant's key rule allows the key (keyspace/etcd.ts etcdKeyStatus).
 */
function etcdKeyRequest(w: usize, num: u32, v: usize, n: usize, out: usize): i32 {
  const st = etcdKeyStatus(changetype<Walk>(w).ks, v, n);
  if (st != OK) return st;
  changetype<Writer>(out).lenField2(num, changetype<Walk>(w).pfx, changetype<Walk>(w).pfxLen, v, n);
  changetype<Walk>(w).keys++;
  return OK;
}

/**
 * An etcd response key: checked to be one of the tenant's (keyspace/etcd.ts etcdOwns), not
 * just to start with ns as the namespace wrapper assumes, then stripped of ns. A foreign key
 * fails the response, or is dropped from a FLAG_FILTER field (LeaseTimeToLive keys).
 */
function etcdKeyResponse(w: usize, flags: u8, num: u32, v: usize, n: usize, out: usize, fieldStart: usize): i32 {
  if (n == 0 || isSharedReadKey(v, n)) {
    // The shared read key comes back only for the single-key Range that asked for it
    // (every other request key is namespaced); it is shown as it is.
    changetype<Writer>(out).bytes(fieldStart, v + n - fieldStart);
    return OK;
  }
  if (!etcdOwns(changetype<Walk>(w).ks, v, n)) {
    if ((flags & FLAG_FILTER) != 0) { changetype<Walk>(w).filtered++; return OK; }
    return ERR_OUT_OF_KEYSPACE;
  }
  changetype<Writer>(out).lenField2(num, v + changetype<Walk>(w).pfxLen, n - changetype<Walk>(w).pfxLen, 0, 0);
  changetype<Walk>(w).keys++;
  return OK;
}

/**
 * ACT_KEY_UNDER: [v, v+n) starts with the message's allowed prefix. ACT_END_UNDER: empty (one
 * key), starting with the prefix, or exactly its end ("every key under the prefix").
 */
function underPrefix(d: usize, act: u8, v: usize, n: usize): bool {
  const p = changetype<MessageDesc>(d).underPtr, pn = changetype<MessageDesc>(d).underLen;
  if (hasPrefix(v, n, p, pn)) return true;
  if (act != ACT_END_UNDER) return false;
  if (n == 0) return true;
  return compareBytes(v, n, changetype<MessageDesc>(d).underEndPtr, changetype<MessageDesc>(d).underEndLen) == 0;
}

/** A single memcomparable region key: E(P‖D(k)) on requests; D, strip P, E on responses. */
function regionKey(w: usize, num: u32, v: usize, n: usize, out: usize): i32 {
  const s = scratchStart;
  s.reset();
  if (changetype<Walk>(w).request) {
    s.bytes(changetype<Walk>(w).pfx, changetype<Walk>(w).pfxLen);
    if (n != 0) {
      const st = decodeRegionKey(v, n, s);
      if (st != OK) return st;
    }
    emitRegionKey(num, s.ptr, s.len, out);
    changetype<Walk>(w).keys++;
    return OK;
  }
  if (n == 0) { changetype<Writer>(out).tag(num, WT_LEN); changetype<Writer>(out).varint(0); return OK; }
  const st = decodeRegionKey(v, n, s);
  if (st != OK) return st;
  if (!hasPrefix(s.ptr, s.len, changetype<Walk>(w).pfx, changetype<Walk>(w).pfxLen)) return ERR_OUT_OF_KEYSPACE;
  emitRegionKey(num, s.ptr + changetype<Walk>(w).pfxLen, s.len - changetype<Walk>(w).pfxLen, out);
  changetype<Walk>(w).keys++;
  return OK;
}

function emitRegionKey(num: u32, p: usize, n: usize, out: usize): void {
  changetype<Writer>(out).tag(num, WT_LEN);
  changetype<Writer>(out).varint(<u64>encodedRegionKeyLen(n));
  encodeRegionKey(p, n, changetype<Writer>(out));
}

function emitRaw(num: u32, a: usize, an: usize, b: usize, bn: usize, out: usize): void {
  changetype<Writer>(out).lenField2(num, a, an, b, bn);
}

function emitRange(w: usize, d: usize, reverse: bool, hasStart: bool, rs: usize, rsn: usize,
                   hasEnd: bool, re: usize, ren: usize, out: usize): i32 {
  const kind = changetype<MessageDesc>(d).rangeKind;
  const fs = changetype<MessageDesc>(d).rangeStart, fe = changetype<MessageDesc>(d).rangeEnd;
  if (changetype<Walk>(w).request) {
    if (kind == RANGE_RAW) {
      // client-go encodeRange: an empty end means "to the end of the keyspace" (N), never +inf.
      // Reverse scans carry the upper bound in start_key and the lower bound in end_key.
      if (!reverse) {
        emitRaw(fs, changetype<Walk>(w).pfx, changetype<Walk>(w).pfxLen, rs, rsn, out);
        if (ren == 0) emitRaw(fe, changetype<Walk>(w).end, changetype<Walk>(w).endLen, 0, 0, out);
        else emitRaw(fe, changetype<Walk>(w).pfx, changetype<Walk>(w).pfxLen, re, ren, out);
      } else {
        if (rsn == 0) emitRaw(fs, changetype<Walk>(w).end, changetype<Walk>(w).endLen, 0, 0, out);
        else emitRaw(fs, changetype<Walk>(w).pfx, changetype<Walk>(w).pfxLen, rs, rsn, out);
        emitRaw(fe, changetype<Walk>(w).pfx, changetype<Walk>(w).pfxLen, re, ren, out);
      }
      changetype<Walk>(w).keys += 2;
      return OK;
    }
    if (kind == RANGE_REGION) {
      const s = scratchStart;
      s.reset();
      s.bytes(changetype<Walk>(w).pfx, changetype<Walk>(w).pfxLen);
      if (rsn != 0) {
        const st = decodeRegionKey(rs, rsn, s);
        if (st != OK) return st;
      }
      emitRegionKey(fs, s.ptr, s.len, out);
      const e = scratchEnd;
      e.reset();
      if (ren == 0) {
        e.bytes(changetype<Walk>(w).end, changetype<Walk>(w).endLen);
      } else {
        e.bytes(changetype<Walk>(w).pfx, changetype<Walk>(w).pfxLen);
        const st = decodeRegionKey(re, ren, e);
        if (st != OK) return st;
      }
      emitRegionKey(fe, e.ptr, e.len, out);
      changetype<Walk>(w).keys += 2;
      return OK;
    }
    if (kind == RANGE_ETCD) {
      // etcd client/v3/namespace: an empty range_end is a single key (etcdKeyRequest's rules);
      // "\x00" means every key from `key` on, which must stop at the end of the tenant's key
      // space. Both bounds are ns‖bound clamped into the part of the tenant's key space the
      // range meets (keyspace/etcd.ts): with a trailing-slash namespace that is a no-op; under
      // the slash rule it maps a start below "/" (empty, or "\x00" from WithPrefix("")) to the
      // tenant's first key and an end above its keys ("1", "\xff") short of "/keyspaces/tidb/10".
      if (ren == 0) {
        if (changetype<MessageDesc>(d).etcdSharedRead && isSharedReadKey(rs, rsn)) {
          emitRaw(fs, rs, rsn, 0, 0, out);
          return OK;
        }
        return etcdKeyRequest(w, fs, rs, rsn, out);
      }
      const toEnd = ren == 1 && load<u8>(re) == 0;
      const st = emitEtcdRange(changetype<Walk>(w).ks, fs, rs, rsn, fe, re, ren, toEnd, changetype<Writer>(out));
      if (st != OK) return st;
      changetype<Walk>(w).keys += 2;
      return OK;
    }
    return OK;
  }
  // Responses: client-go DecodeRange / DecodeRegionRange.
  let s = rs, sn = rsn, e = re, en = ren;
  if (kind == RANGE_REGION) {
    const a = scratchStart, b = scratchEnd;
    a.reset();
    b.reset();
    if (rsn != 0) {
      const st = decodeRegionKey(rs, rsn, a);
      if (st != OK) return st;
    }
    if (ren != 0) {
      const st = decodeRegionKey(re, ren, b);
      if (st != OK) return st;
    }
    s = a.ptr; sn = a.len; e = b.ptr; en = b.len;
  }
  if (compareBytes(s, sn, changetype<Walk>(w).end, changetype<Walk>(w).endLen) >= 0) return ERR_OUT_OF_KEYSPACE;
  if (en != 0 && compareBytes(e, en, changetype<Walk>(w).pfx, changetype<Walk>(w).pfxLen) <= 0) return ERR_OUT_OF_KEYSPACE;
  // A start before the keyspace clamps to -inf (""), an end at or after its end to +inf ("").
  const s2 = hasPrefix(s, sn, changetype<Walk>(w).pfx, changetype<Walk>(w).pfxLen) ? s + changetype<Walk>(w).pfxLen : 0;
  const s2n = s2 != 0 ? sn - changetype<Walk>(w).pfxLen : 0;
  const e2 = hasPrefix(e, en, changetype<Walk>(w).pfx, changetype<Walk>(w).pfxLen) ? e + changetype<Walk>(w).pfxLen : 0;
  const e2n = e2 != 0 ? en - changetype<Walk>(w).pfxLen : 0;
  if (kind == RANGE_REGION) {
    if (hasStart) {
      if (s2n == 0) { changetype<Writer>(out).tag(fs, WT_LEN); changetype<Writer>(out).varint(0); } else emitRegionKey(fs, s2, s2n, out);
    }
    if (hasEnd) {
      if (e2n == 0) { changetype<Writer>(out).tag(fe, WT_LEN); changetype<Writer>(out).varint(0); } else emitRegionKey(fe, e2, e2n, out);
    }
  } else {
    if (hasStart) emitRaw(fs, s2, s2n, 0, 0, out);
    if (hasEnd) emitRaw(fe, e2, e2n, 0, 0, out);
  }
  changetype<Walk>(w).keys += 2;
  return OK;
}

/** client-go DecodeBucketKeys over the collected bucket boundaries, re-encoded for a v1 client. */
function emitBuckets(w: usize, num: u32, out: usize): i32 {
  const a = scratchStart;
  const count = bucketSpans.length;
  let wroteFirstEmpty = false;
  let emitted = 0;
  for (let i = 0; i < count; i++) {
    const span = unchecked(bucketSpans[i]);
    const v = <usize>(span >> 32);
    const n = <usize>(span & 0xffffffff);
    a.reset();
    if (n != 0) {
      const st = decodeRegionKey(v, n, a);
      if (st != OK) return st;
    }
    const k = a.ptr, kn = a.len;
    if (i == 0 && compareBytes(k, kn, changetype<Walk>(w).pfx, changetype<Walk>(w).pfxLen) < 0) {
      changetype<Writer>(out).tag(num, WT_LEN); changetype<Writer>(out).varint(0);
      wroteFirstEmpty = true; emitted++;
      continue;
    }
    if (i == count - 1 && (kn == 0 || compareBytes(k, kn, changetype<Walk>(w).end, changetype<Walk>(w).endLen) >= 0)) {
      changetype<Writer>(out).tag(num, WT_LEN); changetype<Writer>(out).varint(0);
      emitted++;
      continue;
    }
    if (hasPrefix(k, kn, changetype<Walk>(w).pfx, changetype<Walk>(w).pfxLen)) {
      const rn = kn - changetype<Walk>(w).pfxLen;
      if (rn == 0) {
        if (emitted > 0 && wroteFirstEmpty) continue;
        changetype<Writer>(out).tag(num, WT_LEN); changetype<Writer>(out).varint(0);
        if (emitted == 0) wroteFirstEmpty = true;
        emitted++;
        continue;
      }
      emitRegionKey(num, k + changetype<Walk>(w).pfxLen, rn, out);
      emitted++;
      changetype<Walk>(w).keys++;
    } else {
      changetype<Walk>(w).filtered++;
    }
  }
  return OK;
}

/**
 * True when the walk of the response [start, end) with table `d` is certain to give the same
 * bytes and OK: every message on the way is PLAN_PLAIN (nothing after its last field), no
 * field has a rule except embedded messages (entered the same way), a strict message (a
 * oneof wrapper) has no unknown field, and the wire format is valid. Then the response goes
 * out as it came (DirectionRewriter.push) instead of being rebuilt byte for byte: the common
 * case for BatchCommands answers to Get, Commit, Prewrite, PessimisticLock without errors.
 * False means "walk it": any key, any other rule, any error (the walk reports it exactly).
 * Stops at the first field with a rule, so a response with keys costs only its first fields.
 */
export function unchangedResponse(d: usize, start: usize, end: usize, depth: i32): bool {
  if (depth > MAX_DEPTH) return false;
  let bits = changetype<MessageDesc>(d).planBits;
  if (bits == 0) bits = changetype<MessageDesc>(d).plan();
  if ((bits & PLAN_PLAIN) == 0) return false;
  const slotPtr = changetype<MessageDesc>(d).slotPtr;
  const strict = changetype<MessageDesc>(d).strict;
  const hasLarge = changetype<MessageDesc>(d).hasLarge;
  let pos = start;
  while (pos < end) {
    const tag = rdTag(pos, end);
    if (tag == 0) return false;
    pos = rdPos;
    const num = tag >> 3;
    const wt = tag & 7;
    const slot = ruleSlot(d, slotPtr, hasLarge, num);
    if (slot == 0) {
      if (strict) return false;
      pos = skipBody(pos, end, wt);
      if (pos == 0) return false;
      continue;
    }
    if (<u8>(slot >> 24) != ACT_MSG || wt != WT_LEN) return false;
    const n = rdLength(pos, end);
    if (rdErr != OK) return false;
    const v = rdPos;
    pos = v + n;
    if (!unchangedResponse(changetype<MessageDesc>(d).childAt(<i32>(slot & 0xffffff) - 1), v, pos, depth + 1)) return false;
  }
  return true;
}

/**
 * The parse floor of the walk, for the benchmark (bench/rewriter.js, testing/entry.ts
 * scanBench): the same traversal of [start, end) with table `d` (every tag read, every body
 * skipped, every embedded message with rules entered) with nothing written and no rule
 * applied. Returns OK or the first wire-format error.
 */
export function scanMessage(d: usize, start: usize, end: usize, depth: i32): i32 {
  if (depth > MAX_DEPTH) return ERR_DEPTH;
  const slotPtr = changetype<MessageDesc>(d).slotPtr;
  let pos = start;
  while (pos < end) {
    const tag = rdTag(pos, end);
    if (tag == 0) return rdErr;
    pos = rdPos;
    const num = tag >> 3;
    const wt = tag & 7;
    const slot = ruleSlot(d, slotPtr, changetype<MessageDesc>(d).hasLarge, num);
    if (slot != 0 && <u8>(slot >> 24) == ACT_MSG && wt == WT_LEN) {
      const n = rdLength(pos, end);
      if (rdErr != OK) return rdErr;
      const v = rdPos;
      pos = v + n;
      const st = scanMessage(changetype<MessageDesc>(d).childAt(<i32>(slot & 0xffffff) - 1), v, pos, depth + 1);
      if (st != OK) return st;
      continue;
    }
    pos = skipBody(pos, end, wt);
    if (pos == 0) return rdErr;
  }
  return OK;
}
