'use strict';
// A protobuf wire model for tests: messages as ordered lists of wire entries (so tests can
// control field order, duplicates, unknown fields and exact varint bytes), an encoder, a
// generator driven by the annotated schema in kvproto.js, and an oracle that computes the
// exact bytes the filter must produce, written from shared/reference/keyfields.md:
//   requests:  key -> P‖k (every occurrence); primary_key of Commit/Flush: empty stays empty;
//              ranges -> encodeRange (forward: P‖start, end empty ? N : P‖end; reverse:
//              start empty ? N : P‖start, P‖end), emitted after the message's other fields;
//              kvrpcpb.Context: api_version(21)/keyspace_name(31)/keyspace_id(32)/
//              keyspace_identity(38) dropped, then 21=2 and 32=id appended (api-v2 only).
//   responses: key -> strip P (empty stays empty; foreign -> OUT_OF_KEYSPACE); ranges ->
//              DecodeRange / DecodeRegionRange; bucket keys -> DecodeBucketKeys; elements of
//              store-wide lists and EpochNotMatch regions outside the keyspace are dropped.
// Unknown fields and every field without a rule are copied byte for byte.
const { type: lookupType, fieldRole, rangeOf, kvRoot } = require('./kvproto');
const { S } = require('./core');

const WT = { VARINT: 0, I64: 1, LEN: 2, SGROUP: 3, EGROUP: 4, I32: 5 };

// ---- encoding ------------------------------------------------------------------------------

function varint(v) {
  if (typeof v === 'bigint' && v >= 0n && v < 0x80000000n) v = Number(v);
  if (typeof v === 'number' && v >= 0 && v < 0x80000000) {
    if (v < 0x80) return Buffer.from([v]);
    const out = [];
    while (v >= 0x80) { out.push((v & 0x7f) | 0x80); v >>>= 7; }
    out.push(v);
    return Buffer.from(out);
  }
  let x = BigInt.asUintN(64, BigInt(v));
  const out = [];
  while (x >= 0x80n) { out.push(Number(x & 0x7fn) | 0x80); x >>= 7n; }
  out.push(Number(x));
  return Buffer.from(out);
}

/** A varint padded to exactly `len` bytes (non-canonical but valid when len <= 10). */
function paddedVarint(v, len) {
  const c = varint(v);
  if (c.length > len) throw new Error('value too large for padding');
  const out = Buffer.alloc(len);
  c.copy(out);
  for (let i = 0; i < len - 1; i++) out[i] |= 0x80;
  return out;
}

function tag(n, wt) { return n < 0x10000000 ? varint(n * 8 + wt) : varint((BigInt(n) << 3n) | BigInt(wt)); }

/** Entry constructors. */
const E = {
  bytes: (n, v) => ({ n, wt: WT.LEN, v: Buffer.from(v) }),
  str: (n, s) => ({ n, wt: WT.LEN, v: Buffer.from(s, 'utf8') }),
  varint: (n, v, raw) => ({ n, wt: WT.VARINT, v: BigInt(v), raw }),
  fixed64: (n, v) => ({ n, wt: WT.I64, v: Buffer.from(v) }),
  fixed32: (n, v) => ({ n, wt: WT.I32, v: Buffer.from(v) }),
  msg: (n, m) => ({ n, wt: WT.LEN, m }),
  /** Bytes written as they are (hostile tests: groups, wire types 6/7, bad varints). */
  raw: (bytes) => ({ rawEntry: Buffer.from(bytes) }),
};

/** A message node: { t: protobufjs Type or null, f: [entries] }. */
function node(typeName, entries = []) {
  return { t: typeName ? lookupType(typeName) : null, f: entries };
}

function encodeEntry(e) {
  if (e.rawEntry) return e.rawEntry;
  const t = tag(e.n, e.wt);
  switch (e.wt) {
    case WT.VARINT: return Buffer.concat([t, e.raw || varint(e.v)]);
    case WT.I64: case WT.I32: return Buffer.concat([t, e.v]);
    case WT.LEN: {
      const body = e.m ? encode(e.m) : e.v;
      return Buffer.concat([t, varint(body.length), body]);
    }
    default: throw new Error(`cannot encode wire type ${e.wt}`);
  }
}

function encode(n) { return Buffer.concat(n.f.map(encodeEntry)); }

// ---- memcomparable (keyfields §1.4) ---------------------------------------------------------

function encodeRegionKey(k) {
  const out = [];
  for (let i = 0; i <= k.length; i += 8) {
    const g = Buffer.alloc(8);
    const real = Math.min(8, k.length - i);
    k.copy(g, 0, i, i + real);
    out.push(g, Buffer.from([0xff - (8 - real)]));
    if (real < 8) break;
  }
  return Buffer.concat(out);
}

/** Returns the decoded key, or null for a malformed encoding. Trailing bytes are ignored. */
function decodeRegionKey(b) {
  const out = [];
  for (let i = 0; ; i += 9) {
    if (b.length - i < 9) return null;
    const pad = 0xff - b[i + 8];
    if (pad > 8) return null;
    for (let j = 8 - pad; j < 8; j++) if (b[i + j] !== 0) return null;
    out.push(b.subarray(i, i + 8 - pad));
    if (pad !== 0) return Buffer.concat(out);
  }
}

// ---- keyspaces -----------------------------------------------------------------------------

function nextPrefix(p) {
  const b = Buffer.from(p);
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i] !== 0xff) { b[i]++; return b.subarray(0, i + 1); }
  }
  return null;
}

/** api-v2 keyspace for id, or a prefix-mode keyspace for a hex prefix. */
function keyspace({ id, prefixHex }) {
  if (prefixHex !== undefined) {
    const p = Buffer.from(prefixHex, 'hex');
    return { apiV2: false, id: 0, txn: p, raw: p, txnEnd: nextPrefix(p), rawEnd: nextPrefix(p) };
  }
  const mk = (m) => Buffer.from([m, (id >> 16) & 0xff, (id >> 8) & 0xff, id & 0xff]);
  const txn = mk(0x78), raw = mk(0x72);
  // codecV2: N = BigEndian.PutUint32(Uint32(P) + 1), always 4 bytes (keyfields §1.1).
  const next = (p) => { const b = Buffer.from(p); b.writeUInt32BE(b.readUInt32BE(0) + 1, 0); return b; };
  return { apiV2: true, id, txn, raw, txnEnd: next(txn), rawEnd: next(raw) };
}

function bounds(ks, kind) {
  return kind === 'raw' ? { P: ks.raw, N: ks.rawEnd } : { P: ks.txn, N: ks.txnEnd };
}

const cmp = (a, b) => Buffer.compare(a, b);
const hasPrefix = (k, p) => k.length >= p.length && k.subarray(0, p.length).equals(p);

// ---- oracle --------------------------------------------------------------------------------

class Refused extends Error {
  constructor(status, why) { super(`status ${status}: ${why}`); this.status = status; }
}
const refuse = (status, why) => { throw new Refused(status, why); };

const BATCH_REQ = '.tikvpb.BatchCommandsRequest.Request';
const BATCH_RESP = '.tikvpb.BatchCommandsResponse.Response';
const DENIED_REQ_TAGS = new Set([5, 11, 21, 34]);
const isRawName = (name) => /^Raw/.test(name);

function lastVarint(n, num) {
  let v = false;
  for (const e of n.f) if (!e.rawEntry && e.n === num && e.wt === WT.VARINT) v = e.v !== 0n;
  return v;
}

/**
 * The exact message the filter must forward for request node `n` (kind 'txn' | 'raw'), or
 * throws Refused with the status. `ks` from keyspace().
 */
function expectRequest(n, ks, kind, depth = 0) {
  if (depth > 32) refuse(S.DEPTH, 'depth');
  const t = n.t;
  const name = t ? t.fullName : '';
  const keyless = KEYLESS[name];
  if (keyless && !n.f.some((e) => !e.rawEntry && e.n === keyless.keys)) return expectKeyless(n, ks, kind, depth, keyless);
  const range = t ? rangeOf(t) : null;
  const { P, N } = bounds(ks, kind);
  const out = [];
  let rs = null, re = null;
  const reverse = range && range.reverse ? lastVarint(n, range.reverse) : false;
  for (const e of n.f) {
    const f = t && !e.rawEntry ? t.fieldsById[e.n] : null;
    if (name === BATCH_REQ) {
      if (DENIED_REQ_TAGS.has(e.n)) refuse(S.DENIED, `batch cmd ${e.n}`);
      if (!f) refuse(S.UNKNOWN_COMMAND, `batch cmd ${e.n}`);
      if (e.n === 22 && !ks.apiV2) refuse(S.UNSUPPORTED, 'coprocessor in prefix mode');
    }
    if (!f) { out.push(e); continue; }
    if (name === '.kvrpcpb.Context' && [21, 31, 32, 38].includes(e.n)) {
      if (!ks.apiV2) out.push(e);
      continue;
    }
    const role = fieldRole(f);
    if (role === 'key' || (role === 'key_ne' && e.v.length > 0)) {
      out.push(E.bytes(e.n, Buffer.concat([P, e.v])));
    } else if (role === 'start') { rs = e.v; } else if (role === 'end') { re = e.v; } else if (e.m) {
      const childKind = name === BATCH_REQ ? (isRawName(f.name) ? 'raw' : 'txn') : kind;
      out.push(E.msg(e.n, expectRequest(e.m, ks, childKind, depth + 1)));
    } else {
      out.push(e);
    }
  }
  if (range) {
    const [fs, fe] = rangeFields(t);
    const s = rs || Buffer.alloc(0), en = re || Buffer.alloc(0);
    if (!reverse) {
      out.push(E.bytes(fs, Buffer.concat([P, s])));
      out.push(E.bytes(fe, en.length ? Buffer.concat([P, en]) : N));
    } else {
      out.push(E.bytes(fs, s.length ? Buffer.concat([P, s]) : N));
      out.push(E.bytes(fe, Buffer.concat([P, en])));
    }
  }
  if (name === '.kvrpcpb.Context' && ks.apiV2) {
    out.push(E.varint(21, 2));
    out.push(E.varint(32, ks.id));
  }
  // A request with a Context field but none on the wire gets one (codecV2 always sets it).
  const ctxField = t && t.fieldsById[1];
  if (ks.apiV2 && ctxField && ctxField.resolvedType && ctxField.resolvedType.fullName === '.kvrpcpb.Context'
      && !n.f.some((e) => !e.rawEntry && e.n === 1)) {
    out.push(E.msg(1, { t: ctxField.resolvedType, f: [E.varint(21, 2), E.varint(32, ks.id)] }));
  }
  return { t, f: out };
}

/**
 * Keyless lock requests (proto/keyless.ts), with an empty lock ledger (Core.run clears it):
 * the transaction fields (start_version 2; ResolveLock also commit_version 3 and txn_infos 4)
 * are dropped, so TiKV resolves nothing; the Context is rewritten as usual and every other
 * field is copied in order; a missing Context is appended.
 */
const KEYLESS = {
  '.kvrpcpb.ResolveLockRequest': { keys: 5, drop: [2, 3, 4] },
  '.kvrpcpb.PessimisticRollbackRequest': { keys: 4, drop: [2] },
};
function expectKeyless(n, ks, kind, depth, spec) {
  const out = [];
  let sawContext = false;
  for (const e of n.f) {
    if (!e.rawEntry && e.n === 1) { out.push(E.msg(1, expectRequest(e.m, ks, kind, depth + 1))); sawContext = true; continue; }
    if (!e.rawEntry && spec.drop.includes(e.n)) continue;
    out.push(e);
  }
  const ctxField = n.t.fieldsById[1];
  if (ks.apiV2 && !sawContext) out.push(E.msg(1, { t: ctxField.resolvedType, f: [E.varint(21, 2), E.varint(32, ks.id)] }));
  return { t: n.t, f: out };
}

function rangeFields(t) {
  const fs = t.fieldsArray.find((f) => fieldRole(f) === 'start');
  const fe = t.fieldsArray.find((f) => fieldRole(f) === 'end');
  return [fs.id, fe.id];
}

/** The exact response message the filter must forward, or throws Refused. */
function expectResponse(n, ks, kind, depth = 0, counters = { filtered: 0 }) {
  if (depth > 32) refuse(S.DEPTH, 'depth');
  const t = n.t;
  const name = t ? t.fullName : '';
  const range = t ? rangeOf(t) : null;
  const { P, N } = bounds(ks, kind);
  const out = [];
  let rs = null, re = null;
  const buckets = [];
  let bucketField = 0;
  for (const e of n.f) {
    const f = t && !e.rawEntry ? t.fieldsById[e.n] : null;
    if (name === BATCH_RESP && !f) refuse(S.UNKNOWN_COMMAND, `batch response cmd ${e.n}`);
    if (!f) { out.push(e); continue; }
    const role = fieldRole(f);
    if (role === 'key') {
      if (e.v.length === 0) out.push(e);
      else if (hasPrefix(e.v, P)) out.push(E.bytes(e.n, e.v.subarray(P.length)));
      else refuse(S.OUT_OF_KEYSPACE, `${name}.${f.name}`);
    } else if (role === 'start') { rs = e.v; } else if (role === 'end') { re = e.v; } else if (role === 'bucket') {
      buckets.push(e.v); bucketField = e.n;
    } else if (e.m) {
      const childKind = name === BATCH_RESP ? (isRawName(f.name) ? 'raw' : 'txn') : kind;
      try {
        out.push(E.msg(e.n, expectResponse(e.m, ks, childKind, depth + 1, counters)));
      } catch (err) {
        if (err instanceof Refused && err.status === S.OUT_OF_KEYSPACE && role === 'filter') { counters.filtered++; continue; }
        throw err;
      }
    } else {
      out.push(e);
    }
  }
  if (range) {
    const [fs, fe] = rangeFields(t);
    let s = rs || Buffer.alloc(0), en = re || Buffer.alloc(0);
    if (range.kind === 'region') {
      if (s.length) { s = decodeRegionKey(s); if (!s) refuse(S.REGION_KEY, 'start'); }
      if (en.length) { en = decodeRegionKey(en); if (!en) refuse(S.REGION_KEY, 'end'); }
    }
    if (cmp(s, N) >= 0) refuse(S.OUT_OF_KEYSPACE, 'range start at or after the keyspace end');
    if (en.length && cmp(en, P) <= 0) refuse(S.OUT_OF_KEYSPACE, 'range end at or before the keyspace start');
    const s2 = hasPrefix(s, P) ? s.subarray(P.length) : Buffer.alloc(0);
    const e2 = hasPrefix(en, P) ? en.subarray(P.length) : Buffer.alloc(0);
    const enc = (k) => (range.kind === 'region' && k.length ? encodeRegionKey(k) : k);
    if (rs) out.push(E.bytes(fs, enc(s2)));
    if (re) out.push(E.bytes(fe, enc(e2)));
  }
  if (buckets.length) {
    // client-go DecodeBucketKeys (keyfields §1.3), re-encoded for a v1 client.
    let firstEmpty = false, emitted = 0;
    for (let i = 0; i < buckets.length; i++) {
      let k = buckets[i];
      if (k.length) { k = decodeRegionKey(k); if (!k) refuse(S.REGION_KEY, 'bucket'); }
      if (i === 0 && cmp(k, P) < 0) { out.push(E.bytes(bucketField, Buffer.alloc(0))); firstEmpty = true; emitted++; continue; }
      if (i === buckets.length - 1 && (k.length === 0 || cmp(k, N) >= 0)) { out.push(E.bytes(bucketField, Buffer.alloc(0))); emitted++; continue; }
      if (hasPrefix(k, P)) {
        const r = k.subarray(P.length);
        if (r.length === 0) {
          if (emitted > 0 && firstEmpty) continue;
          out.push(E.bytes(bucketField, Buffer.alloc(0)));
          if (emitted === 0) firstEmpty = true;
          emitted++;
          continue;
        }
        out.push(E.bytes(bucketField, encodeRegionKey(r)));
        emitted++;
      } else {
        counters.filtered++;
      }
    }
  }
  return { t, f: out };
}

/** Expected status and bytes: { status, bytes } (bytes null on refusal). */
function expected(n, ks, kind, isRequest) {
  const counters = { filtered: 0 };
  try {
    const m = isRequest ? expectRequest(n, ks, kind) : expectResponse(n, ks, kind, 0, counters);
    return { status: S.OK, bytes: encode(m), node: m, filtered: counters.filtered };
  } catch (e) {
    if (e instanceof Refused) return { status: e.status, bytes: null, why: e.message };
    throw e;
  }
}

// ---- generator -----------------------------------------------------------------------------

/** Field numbers the generator uses for unknown fields (no kvproto message here uses them). */
function unknownFieldNumber(rnd) {
  const r = rnd();
  if (r < 0.7) return 300 + Math.floor(rnd() * 700);
  if (r < 0.9) return 2000 + Math.floor(rnd() * 100000);
  return 536870911 - Math.floor(rnd() * 10); // the largest field numbers (5-byte tags)
}

function randBytes(rnd, n) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
  return b;
}

/** An unknown field of a random wire type (0, 1, 2, 5), sometimes with a 10-byte varint. */
function unknownEntry(rnd) {
  const n = unknownFieldNumber(rnd);
  const w = Math.floor(rnd() * 4);
  if (w === 0) {
    const big = rnd() < 0.3;
    const v = big ? (1n << 63n) + BigInt(Math.floor(rnd() * 1e9)) : BigInt(Math.floor(rnd() * 300));
    return rnd() < 0.2 ? E.varint(n, v, paddedVarint(v, 10)) : E.varint(n, v);
  }
  if (w === 1) return E.fixed64(n, randBytes(rnd, 8));
  if (w === 2) return E.bytes(n, randBytes(rnd, Math.floor(rnd() * 40)));
  return E.fixed32(n, randBytes(rnd, 4));
}

/**
 * A random user key: empty, short, 0xFF-heavy, around the memcomparable group size and the
 * 127/128 and 16383/16384 varint boundaries, or long.
 */
function userKey(rnd, { long = false } = {}) {
  const r = rnd();
  if (r < 0.08) return Buffer.alloc(0);
  if (r < 0.2) return Buffer.alloc(1 + Math.floor(rnd() * 24), 0xff);
  if (r < 0.3) { const b = randBytes(rnd, 1 + Math.floor(rnd() * 20)); for (let i = 0; i < b.length; i++) if (rnd() < 0.6) b[i] = 0xff; return b; }
  if (r < 0.4) return randBytes(rnd, 8 * (1 + Math.floor(rnd() * 3)) + Math.floor(rnd() * 3) - 1);
  if (r < 0.5) return randBytes(rnd, 120 + Math.floor(rnd() * 10));
  if (long && r < 0.55) return randBytes(rnd, 16376 + Math.floor(rnd() * 12));
  if (long && r < 0.58) return randBytes(rnd, 16384 + Math.floor(rnd() * 4000));
  return randBytes(rnd, 1 + Math.floor(rnd() * 30));
}

const SCALAR_VARINT = new Set(['int32', 'int64', 'uint32', 'uint64', 'bool', 'sint32', 'sint64']);

/**
 * Generates a message node of type `t`.
 * opts: { dir: 'req'|'resp', ks, kind, foreign: probability of a foreign key in responses,
 *         unknown: probability of unknown fields, dup: probability of a duplicated singular
 *         field, shuffle: bool, long: allow keys > 16 KiB, maxDepth, present: field probability }
 */
function generate(t, rnd, opts, depth = 0) {
  if (typeof t === 'string') t = lookupType(t);
  const o = { dir: 'req', kind: 'txn', foreign: 0, unknown: 0.3, dup: 0.1, shuffle: true, long: false, maxDepth: 6, present: 0.7, ...opts };
  const entries = [];
  const name = t.fullName;
  const range = rangeOf(t);
  if (name === BATCH_REQ || name === BATCH_RESP) {
    // One command (sometimes two: last member wins in TiKV, the filter rewrites both).
    const cmds = t.fieldsArray.filter((f) => !(name === BATCH_REQ && DENIED_REQ_TAGS.has(f.id)))
      .filter((f) => o.ks.apiV2 || f.id !== 22);
    const count = rnd() < 0.1 ? 2 : 1;
    for (let i = 0; i < count; i++) {
      const f = cmds[Math.floor(rnd() * cmds.length)];
      entries.push(E.msg(f.id, generate(f.resolvedType, rnd, { ...o, kind: isRawName(f.name) ? 'raw' : 'txn' }, depth + 1)));
    }
    return { t, f: entries };
  }
  for (const f of t.fieldsArray) {
    const role = fieldRole(f);
    const isKey = role !== null;
    if (rnd() > (isKey ? Math.max(o.present, 0.85) : o.present)) continue;
    if (f.resolvedType && f.resolvedType.fieldsArray && depth >= o.maxDepth) continue;
    // A request KvPair (RawBatchPut.pairs) has only key and value; error(1) there is refused
    // (schema/fields/tikv.js; test/realschema covers it).
    if (o.dir === 'req' && name === '.kvrpcpb.KvPair' && f.id === 1) continue;
    const count = f.repeated ? Math.floor(rnd() * 4) : (rnd() < o.dup ? 2 : 1);
    for (let i = 0; i < count; i++) entries.push(generateField(t, f, role, range, rnd, o, depth));
  }
  if (name === '.kvrpcpb.ResolveLockRequest' && !entries.some((e) => e.n === 5) && rnd() < 0.9) {
    entries.push(E.bytes(5, userKey(rnd, o)));
  }
  if (rnd() < o.unknown) {
    const k = 1 + Math.floor(rnd() * 3);
    for (let i = 0; i < k; i++) entries.push(unknownEntry(rnd));
  }
  if (o.shuffle) {
    for (let i = entries.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [entries[i], entries[j]] = [entries[j], entries[i]];
    }
  }
  return { t, f: entries };
}

/** A response key of the tenant (P‖k) or, with probability opts.foreign, of another keyspace. */
function responseKey(rnd, o) {
  const { P } = bounds(o.ks, o.kind);
  const k = userKey(rnd, o);
  if (rnd() < o.foreign) return foreignKey(rnd, o);
  if (k.length === 0 && rnd() < 0.5) return k; // an empty key stays empty
  return Buffer.concat([P, k]);
}

function foreignKey(rnd, o) {
  const k = foreignKey1(rnd, o);
  if (o.foreignLog) o.foreignLog.push(k);
  return k;
}

function foreignKey1(rnd, o) {
  const { P, N } = bounds(o.ks, o.kind);
  const r = rnd();
  if (r < 0.3) return Buffer.concat([N, userKey(rnd, o)]); // the next keyspace
  if (r < 0.5) { const p = Buffer.from(P); p[3] ^= 1 + Math.floor(rnd() * 255); return Buffer.concat([p, userKey(rnd, o)]); }
  if (r < 0.6) return P.subarray(0, 1 + Math.floor(rnd() * 3)); // a proper prefix of P
  if (r < 0.8) return Buffer.concat([Buffer.from([o.kind === 'raw' ? 0x78 : 0x72]), P.subarray(1), userKey(rnd, o)]); // other mode
  return Buffer.concat([Buffer.from('t'), userKey(rnd, o)]); // an unprefixed (v1) key
}

function generateField(t, f, role, range, rnd, o, depth) {
  if (f.resolvedType && f.resolvedType.fieldsArray) {
    return E.msg(f.id, generate(f.resolvedType, rnd, o, depth + 1));
  }
  if (role && o.dir === 'req') return E.bytes(f.id, userKey(rnd, o));
  if (role === 'key') return E.bytes(f.id, responseKey(rnd, o));
  if (role === 'start' || role === 'end') {
    const { P, N } = bounds(o.ks, o.kind);
    const r = rnd();
    let k;
    if (r < 0.15) k = Buffer.alloc(0);
    else if (r < 0.25) k = role === 'end' ? N : P;
    else if (rnd() < o.foreign) k = foreignKey(rnd, o);
    else k = Buffer.concat([P, userKey(rnd, o)]);
    if (range && range.kind === 'region' && k.length) k = encodeRegionKey(k);
    return E.bytes(f.id, k);
  }
  if (role === 'bucket') {
    const { P } = bounds(o.ks, o.kind);
    const k = rnd() < 0.1 ? Buffer.alloc(0) : (rnd() < o.foreign ? foreignKey(rnd, o) : Buffer.concat([P, userKey(rnd, o)]));
    return E.bytes(f.id, k.length ? encodeRegionKey(k) : k);
  }
  switch (f.type) {
    case 'bytes': return E.bytes(f.id, randBytes(rnd, Math.floor(rnd() * (rnd() < 0.1 ? 300 : 24))));
    case 'string': return E.str(f.id, Math.floor(rnd() * 1e6).toString(36));
    case 'bool': return E.varint(f.id, rnd() < 0.5 ? 0 : 1);
    case 'int32': case 'int64': return E.varint(f.id, rnd() < 0.1 ? -1 - Math.floor(rnd() * 5) : Math.floor(rnd() * 1000));
    default:
      if (SCALAR_VARINT.has(f.type)) {
        if (f.repeated && rnd() < 0.5) {
          // packed encoding of a repeated scalar (one LEN field with varints).
          const vals = []; const k = 1 + Math.floor(rnd() * 4);
          for (let i = 0; i < k; i++) vals.push(varint(Math.floor(rnd() * 1e6)));
          return E.bytes(f.id, Buffer.concat(vals));
        }
        // 32-bit fields stay below 2^32 (protobufjs reads at most 5 bytes for them).
        const bits = f.type === 'uint32' || f.type === 'sint32' ? 32 : 40;
        return E.varint(f.id, BigInt(Math.floor(rnd() * 2 ** bits)));
      }
      throw new Error(`no generator for ${t.name}.${f.name} (${f.type})`);
  }
}

// ---- checks on decoded output --------------------------------------------------------------

/**
 * Walks a decoded protobufjs message (toObject with bytes as Buffers) and calls fn(role,
 * value, path) for every annotated key field.
 */
function visitKeys(t, obj, fn, path = t.name) {
  if (!obj) return;
  for (const f of t.fieldsArray) {
    // own properties only: decoded protobufjs messages keep defaults on the prototype
    if (!Object.prototype.hasOwnProperty.call(obj, f.name)) continue;
    const v = obj[f.name];
    if (v === undefined || v === null) continue;
    const vals = f.repeated ? v : [v];
    const role = fieldRole(f);
    for (const x of vals) {
      if (f.resolvedType && f.resolvedType.fieldsArray) visitKeys(f.resolvedType, x, fn, `${path}.${f.name}`);
      else if (role) fn(role, Buffer.from(x), `${path}.${f.name}`, t);
    }
  }
}

function decode(typeName, bytes) {
  const t = typeof typeName === 'string' ? lookupType(typeName) : typeName;
  return t.toObject(t.decode(bytes), { bytes: Buffer, longs: String, defaults: false, arrays: true });
}

module.exports = {
  WT, E, varint, paddedVarint, tag, node, encode, encodeEntry, encodeRegionKey, decodeRegionKey,
  keyspace, nextPrefix, bounds, expected, expectRequest, expectResponse, Refused, generate, userKey,
  unknownEntry, foreignKey, visitKeys, decode, kvRoot, hasPrefix,
};
