// Keyless lock requests: KvResolveLock without keys (client-go sends it for a transaction with
// at least resolve-lock-lite-threshold keys in a region, and TiDB's GC worker always does:
// txnlock/lock_resolver.go resolveLock, BatchResolveLocks) and KvPessimisticRollback without
// keys (prewrite and pessimistic lock meeting an expired pessimistic lock:
// PessimisticRegionResolve). TiKV executes both over the whole region named by the Context,
// for every lock of the given start_ts, whoever wrote it (tikv src/server/service/kv.rs
// future_resolve_lock -> ResolveLockReadPhase; unistore tikv/mvcc.go ResolveLock). A region
// can hold several keyspaces (when PD does not split at keyspace boundaries, and always on
// unistore), and a start_ts is only a number a tenant can guess, so forwarded as they are
// these would let a tenant commit or roll back another tenant's locks.
//
// Rewrite (never forward keyless): the request becomes the keyed form with the keys of that
// transaction's locks that the tenant itself was shown last (locks/ledger.ts). Those keys all
// lie in the tenant's keyspace, so TiKV (ResolveLockLite / keyed PessimisticRollback) touches
// nothing else. When the ledger has no such record (the tenant never saw a lock of that
// transaction: another tenant's start_ts, or a record pushed out), or the request names
// several transactions (txn_infos with more than one entry, which a keyed request cannot
// carry), the transaction fields are dropped: TiKV then resolves locks of start_ts 0, i.e.
// nothing, and answers success. A reader that really met such a lock reads it again, which
// records it, and its next attempt is keyed. Counted in Walk.keylessRewritten / keylessNoEffect.
import { Walk, rewriteMessage } from "./rewrite";
import { Writer } from "./writer";
import { Cursor, readVarint, readLength, skipValue, WT_VARINT, WT_LEN, WT_SGROUP, WT_EGROUP, WT_I32 } from "./wire";
import { OK, ERR_FIELD_NUMBER, ERR_WIRE_TYPE, ERR_TRUNCATED } from "./status";
import { MessageDesc, KEYLESS_RESOLVE } from "../schema/types";
import { recordOf } from "../locks/ledger";
import { hasPrefix } from "../keyspace/codec";

/** The keys field of a keyless-capable request: ResolveLockRequest.keys(5), PessimisticRollbackRequest.keys(4). */
export function keysFieldOf(kind: u8): u32 { return kind == KEYLESS_RESOLVE ? 5 : 4; }

/**
 * Whether [start, end) carries at least one field `num`. On malformed bytes it answers true:
 * the ordinary walk then reports the error.
 */
export function hasField(start: usize, end: usize, num: u32): bool {
  const c = new Cursor(start, end);
  while (c.pos < end) {
    const tag = readVarint(c);
    if (c.err != OK) return true;
    const wt = <u32>(tag & 7);
    if (wt == WT_SGROUP || wt == WT_EGROUP || wt > WT_I32) return true;
    if (<u32>(tag >> 3) == num) return true;
    skipValue(c, wt);
    if (c.err != OK) return true;
  }
  return false;
}

/**
 * Rewrites a keyless ResolveLockRequest (context 1, start_version 2, commit_version 3,
 * txn_infos 4) or PessimisticRollbackRequest (context 1, start_version 2, for_update_ts 3)
 * into the keyed form or into one without effect (see above). The Context is walked with the
 * message's own Context table; every other field is copied.
 */
export function rewriteKeyless(w: Walk, d: MessageDesc, start: usize, end: usize, out: Writer, depth: i32): i32 {
  const resolve = d.keylessLock == KEYLESS_RESOLVE;
  const contextDesc = d.childFor(1);
  const c = new Cursor(start, end);
  let startTs: u64 = 0, commitTs: u64 = 0;
  let infos = 0;
  let infoTxn: u64 = 0, infoStatus: u64 = 0;
  let seenContext = false;
  while (c.pos < end) {
    const fieldStart = c.pos;
    const tag = readVarint(c);
    if (c.err != OK) return c.err;
    const num = <u32>(tag >> 3);
    const wt = <u32>(tag & 7);
    if (num == 0 || tag > 0xffffffff) return ERR_FIELD_NUMBER;
    if (wt == WT_SGROUP || wt == WT_EGROUP || wt > WT_I32) return ERR_WIRE_TYPE;
    if (num == 1 && contextDesc !== null) {
      if (wt != WT_LEN) return ERR_WIRE_TYPE;
      const n = readLength(c);
      if (c.err != OK) return c.err;
      const body = out.beginNested(1);
      const st = rewriteMessage(w, contextDesc as MessageDesc, c.pos, c.pos + <usize>n, out, depth + 1);
      if (st != OK) return st;
      out.endNested(body);
      c.pos += <usize>n;
      seenContext = true;
      continue;
    }
    if (num == 2 || (resolve && num == 3)) {
      if (wt != WT_VARINT) return ERR_WIRE_TYPE;
      const v = readVarint(c);
      if (c.err != OK) return c.err;
      if (num == 2) startTs = v; else commitTs = v;
      continue;
    }
    if (resolve && num == 4) {
      if (wt != WT_LEN) return ERR_WIRE_TYPE;
      const n = readLength(c);
      if (c.err != OK) return c.err;
      const st = readTxnInfo(c.pos, c.pos + <usize>n);
      if (st != OK) return st;
      if (infos == 0) { infoTxn = txnOf; infoStatus = statusOf; }
      infos++;
      c.pos += <usize>n;
      continue;
    }
    skipValue(c, wt);
    if (c.err != OK) return c.err;
    out.bytes(fieldStart, c.pos - fieldStart);
  }
  if (!seenContext && w.apiV2) {
    // As the ordinary walk does (MessageDesc.ensureContext): never an API-v1 request.
    const body = out.beginNested(1);
    out.tag(21, WT_VARINT); out.varint(2);
    out.tag(32, WT_VARINT); out.varint(<u64>w.ks.id);
    out.endNested(body);
  }
  // Which transaction: TiKV reads start_version when it is set, else txn_infos.
  let ts: u64 = 0, commit: u64 = 0;
  let single = false;
  if (startTs != 0) { ts = startTs; commit = commitTs; single = true; }
  else if (resolve && infos == 1) { ts = infoTxn; commit = infoStatus; single = true; }
  const rec = single ? recordOf(w.ks.ledgerScope, ts) : null;
  if (rec === null) {
    w.keylessNoEffect++;
    return OK;
  }
  const mark = out.len;
  out.tag(2, WT_VARINT); out.varint(ts);
  if (resolve && commit != 0) { out.tag(3, WT_VARINT); out.varint(commit); }
  const keysField: u32 = resolve ? 5 : 4;
  const base = changetype<usize>(rec);
  const count = load<u32>(base + 8);
  const pfx = w.ks.txn;
  let at: usize = 12;
  let emitted: u32 = 0;
  for (let i: u32 = 0; i < count; i++) {
    const len = <usize>load<u32>(base + at);
    const kp = base + at + 4;
    at += 4 + len;
    // The ledger only holds keys from this tenant's accepted responses; checked again
    // because a shared store is outside this VM.
    if (!hasPrefix(kp, len, pfx.ptr, pfx.len)) continue;
    out.lenField2(keysField, kp, len, 0, 0);
    emitted++;
  }
  if (emitted == 0) {
    // Nothing of the tenant's left: the transaction fields must not go out alone (keyless).
    out.truncate(mark);
    w.keylessNoEffect++;
    return OK;
  }
  w.keys += emitted;
  w.keylessRewritten++;
  return OK;
}

// The fields readTxnInfo found (one TxnInfo at a time).
let txnOf: u64 = 0;
let statusOf: u64 = 0;

/** kvrpcpb.TxnInfo: txn(1), status(2) (commit ts, 0 = roll back); other fields ignored. */
function readTxnInfo(start: usize, end: usize): i32 {
  txnOf = 0;
  statusOf = 0;
  const c = new Cursor(start, end);
  while (c.pos < end) {
    const tag = readVarint(c);
    if (c.err != OK) return c.err;
    const num = <u32>(tag >> 3);
    const wt = <u32>(tag & 7);
    if (wt == WT_SGROUP || wt == WT_EGROUP || wt > WT_I32) return ERR_WIRE_TYPE;
    if ((num == 1 || num == 2) && wt == WT_VARINT) {
      const v = readVarint(c);
      if (c.err != OK) return c.err;
      if (num == 1) txnOf = v; else statusOf = v;
      continue;
    }
    skipValue(c, wt);
    if (c.err != OK) return c.err;
  }
  return c.pos == end ? OK : ERR_TRUNCATED;
}
