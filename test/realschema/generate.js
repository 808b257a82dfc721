'use strict';
// A generator of messages with every field set, driven by the real schemas (test/realschema/
// load.js) and the field classification (schema/fields/), never by the filter's tables:
// every field of every message is present (repeated and map fields 1..maxRepeat times, oneof
// members all at once, nested messages down to a depth limit, a type at most twice on the
// stack), plus unknown fields. Key fields get keys of the right shape for their class and
// direction: requests carry a TiDB's v1 keys (etcd keys of TiDB's form, meta storage keys under
// their prefix), responses carry the tenant's own stored keys. Sensitive leaves are recorded as
// slots, so that a test can put a foreign key into any one of them (foreignize).
const protobuf = require('protobufjs');
const W = require('../core/wire');
const { forDirection } = require('../../schema/fields/vocabulary');
const { messageType, typeName } = require('./completeness');

const { E } = W;
const VARINT = new Set(['int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'bool']);
const I64 = new Set(['fixed64', 'sfixed64', 'double']);
const I32 = new Set(['fixed32', 'sfixed32', 'float']);
const BATCH_ONEOFS = new Set(['tikvpb.BatchCommandsRequest.Request', 'tikvpb.BatchCommandsResponse.Response']);

/** The scope of a tenant's service safe point ids (schema/gc.ts, Keyspace.serviceScope). */
const serviceScope = (id) => `tidb-mesh-${id}-`;

/** The etcd namespace of keyspace `id` under the default template "/keyspaces/tidb/{id}". */
const etcdNs = (id) => Buffer.from(`/keyspaces/tidb/${id}`);

/** Key material of a tenant for a key kind ('txn' | 'raw' | 'etcd'). */
function bounds(ks, kind) {
  if (kind === 'etcd') {
    const ns = etcdNs(ks.id);
    return { P: ns, N: W.nextPrefix(ns) };
  }
  return W.bounds(ks, kind);
}

const randBytes = (rnd, n) => { const b = Buffer.alloc(n); for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256); return b; };
const word = (rnd, n = 6) => { let s = ''; for (let i = 0; i < n; i++) s += 'abcdefghijklmnopqrstuvwxyz0123456789/_'[Math.floor(rnd() * 38)]; return s; };

class Generator {
  /**
   * @param {object} o { fields, rnd, dir: 'request'|'response', ks (W.keyspace), refused: include
   *   fields classified refuse, maxRepeat, maxDepth, unknown: probability of unknown fields }
   */
  constructor(o) {
    this.o = { maxRepeat: 2, maxDepth: 7, unknown: 0.3, refused: false, ...o };
    this.rnd = this.o.rnd;
    this.slots = [];
    this.refusedPresent = false;
    /** "pkg.Msg.field" of every refused field generated. */
    this.refusedSlots = [];
  }

  cls(t, f) { return forDirection(this.o.fields[`${typeName(t)}.${f.name}`], this.o.dir); }

  /** A message node of type `t` with key kind `kind`. */
  message(t, kind, stack = []) {
    const node = { t, f: [] };
    const depth = stack.length;
    const name = typeName(t);
    const nextStack = [...stack, t.fullName];
    for (const f of t.fieldsArray) {
      const c = this.cls(t, f);
      if (c && c.cls === 'refuse') {
        if (!this.o.refused) continue;
        this.refusedPresent = true;
        this.refusedSlots.push(`${name}.${f.name}`);
      }
      const sub = messageType(f);
      if (sub) {
        if (depth >= this.o.maxDepth) continue;
        if (nextStack.filter((x) => x === sub.fullName).length >= 2) continue; // a type at most twice on the stack
        const childKind = BATCH_ONEOFS.has(name) ? (/^Raw/.test(f.name) ? 'raw' : 'txn') : kind;
        const n = this.count(f);
        // Below a message copied unchanged on purpose (class opaque) nothing is a slot.
        const keep = this.slots.length;
        for (let i = 0; i < n; i++) node.f.push(E.msg(f.id, this.message(sub, childKind, nextStack)));
        if (c && c.cls === 'opaque') this.slots.length = keep;
        continue;
      }
      const n = this.count(f);
      if ((f.repeated || f.map) && !c && (VARINT.has(f.type) || f.resolvedType instanceof protobuf.Enum) && this.rnd() < 0.3) {
        // a packed repeated scalar: one length-delimited field of varints
        const vals = [];
        for (let i = 0; i < n; i++) vals.push(W.varint(this.scalar(f)));
        node.f.push(E.bytes(f.id, Buffer.concat(vals)));
        continue;
      }
      for (let i = 0; i < n; i++) node.f.push(this.leaf(node, t, f, c, kind));
    }
    // Unknown fields anywhere but in a oneof of commands (a strict table refuses them; see strictOneof).
    if (!strictOneof(t) && this.rnd() < this.o.unknown) node.f.push(this.unknown(t));
    // Field order is free on the wire: shuffle now and then.
    if (this.rnd() < 0.3) {
      for (let i = node.f.length - 1; i > 0; i--) {
        const j = Math.floor(this.rnd() * (i + 1));
        [node.f[i], node.f[j]] = [node.f[j], node.f[i]];
      }
    }
    return node;
  }

  count(f) {
    if (f.repeated || f.map) return 1 + Math.floor(this.rnd() * this.o.maxRepeat);
    return this.rnd() < 0.05 ? 2 : 1; // a duplicated singular field (last one wins)
  }

  unknown(t) {
    let n;
    do { n = 1000 + Math.floor(this.rnd() * 100000); } while (t.fieldsById[n]);
    const w = Math.floor(this.rnd() * 3);
    if (w === 0) return E.varint(n, Math.floor(this.rnd() * 1e6));
    if (w === 1) return E.fixed64(n, randBytes(this.rnd, 8));
    return E.bytes(n, randBytes(this.rnd, Math.floor(this.rnd() * 12)));
  }

  scalar(f) {
    if (f.resolvedType instanceof protobuf.Enum) {
      const vals = Object.values(f.resolvedType.values);
      return vals[Math.floor(this.rnd() * vals.length)];
    }
    if (f.type === 'bool') return this.rnd() < 0.5 ? 0 : 1;
    if (f.type === 'uint32' || f.type === 'int32' || f.type === 'sint32') return Math.floor(this.rnd() * 2 ** 31);
    return BigInt(Math.floor(this.rnd() * 2 ** 40));
  }

  /** A user key as a TiDB sends it (txn/raw), or an etcd key of TiDB's form (starts with a letter). */
  userKey(kind, nonEmpty = false) {
    if (kind === 'etcd') return Buffer.from('abcdefghijklmnopqrstuvwxyz'[Math.floor(this.rnd() * 26)] + word(this.rnd, 1 + Math.floor(this.rnd() * 12)));
    let k = W.userKey(this.rnd);
    while (nonEmpty && k.length === 0) k = W.userKey(this.rnd);
    return k;
  }

  /** The tenant's own stored key for a user key. */
  own(kind, k) { return Buffer.concat([bounds(this.o.ks, kind).P, k]); }

  leaf(node, t, f, c, kind) {
    const slot = (e, extra = {}) => { this.slots.push({ node, entry: e, t, f, c, kind, ...extra }); return e; };
    if (c && c.cls !== 'value' && c.cls !== 'opaque' && c.cls !== 'reverse') {
      const req = this.o.dir === 'request';
      switch (c.cls) {
        case 'key': case 'key-or-empty': {
          if (req) return slot(E.bytes(f.id, c.cls === 'key-or-empty' && this.rnd() < 0.3 ? Buffer.alloc(0) : this.userKey(kind, kind === 'etcd')));
          const k = this.userKey(kind, kind === 'etcd');
          return slot(E.bytes(f.id, k.length === 0 && this.rnd() < 0.5 ? k : this.own(kind, k)));
        }
        case 'start': case 'end':
          return slot(E.bytes(f.id, this.bound(node, t, c, kind)), { range: c.range, ...this.rangeFields(t) });
        case 'region': {
          const k = this.userKey(kind);
          return slot(E.bytes(f.id, W.encodeRegionKey(req ? k : this.own(kind, k))));
        }
        case 'bucket': {
          const k = this.userKey(kind, true);
          return slot(E.bytes(f.id, W.encodeRegionKey(req ? k : this.own(kind, k))));
        }
        case 'under':
          return slot(E.bytes(f.id, Buffer.from(c.prefix + word(this.rnd))));
        case 'end-under': {
          const r = this.rnd();
          const v = r < 0.3 ? '' : r < 0.6 ? W.nextPrefix(Buffer.from(c.prefix)).toString('latin1') : c.prefix + word(this.rnd);
          return slot(E.bytes(f.id, Buffer.from(v, 'latin1')));
        }
        case 'scoped-id':
          return slot(E.bytes(f.id, Buffer.from(req ? word(this.rnd) : `${serviceScope(this.o.ks.id)}${word(this.rnd)}`)));
        case 'carried': case 'clamp-carried':
          return slot(E.varint(f.id, this.scalar(f)));
        case 'keyspace':
          if (!req) return slot(E.varint(f.id, this.o.ks.id));
          if (f.type === 'string') return slot(E.str(f.id, word(this.rnd)));
          if (f.resolvedType instanceof protobuf.Enum) return slot(E.varint(f.id, this.rnd() < 0.5 ? 0 : 1));
          return slot(E.varint(f.id, this.rnd() < 0.5 ? 0xffffffff : 1 + Math.floor(this.rnd() * 1000)));
        default:
          throw new Error(`no generator for class ${c.cls} (${typeName(t)}.${f.name})`);
      }
    }
    if (f.type === 'bytes') return E.bytes(f.id, randBytes(this.rnd, Math.floor(this.rnd() * 20)));
    if (f.type === 'string') return E.str(f.id, word(this.rnd, Math.floor(this.rnd() * 10)));
    if (I64.has(f.type)) return E.fixed64(f.id, randBytes(this.rnd, 8));
    if (I32.has(f.type)) return E.fixed32(f.id, randBytes(this.rnd, 4));
    if (VARINT.has(f.type) || f.resolvedType instanceof protobuf.Enum) return E.varint(f.id, this.scalar(f));
    throw new Error(`no generator for ${typeName(t)}.${f.name} (${f.type})`);
  }

  /** Field numbers of the start and end bounds of message `t`. */
  rangeFields(t) {
    const out = { startField: 0, endField: 0 };
    for (const f of t.fieldsArray) {
      const c = this.cls(t, f);
      if (c && c.cls === 'start') out.startField = f.id;
      if (c && c.cls === 'end') out.endField = f.id;
    }
    return out;
  }

  /** A range bound. Requests: any v1 bound (etcd: TiDB's shapes). Responses: inside the keyspace. */
  bound(node, t, c, kind) {
    const req = this.o.dir === 'request';
    if (c.range === 'etcd') {
      if (c.cls === 'start') { node.etcdStart = this.userKey('etcd', true); return node.etcdStart; }
      const r = this.rnd();
      const s = node.etcdStart || Buffer.from('a');
      if (r < 0.3) return Buffer.alloc(0); // one key
      if (r < 0.6) return Buffer.from([0]); // every key from `key` on
      return Buffer.concat([s, Buffer.from([0xff])]); // a prefix range
    }
    const enc = (k) => (c.range === 'region' && k.length ? W.encodeRegionKey(k) : k);
    if (req) return enc(this.userKey(kind));
    // An empty end is +inf; a non-empty end lies above P, a start below N.
    if (c.cls === 'end' && this.rnd() < 0.2) return Buffer.alloc(0);
    return enc(this.own(kind, this.userKey(kind, c.cls === 'end')));
  }
}

/**
 * A message that is nothing but a oneof of messages (BatchCommands' Request/Response, etcd's
 * RequestOp/ResponseOp): a command. The filter refuses members it does not know, so unknown
 * fields there are a refusal case of their own, not noise.
 */
function strictOneof(t) {
  const fs = t.fieldsArray;
  return fs.length > 0 && fs.every((f) => f.partOf && f.partOf === fs[0].partOf && messageType(f));
}

/** A marker that cannot occur by chance, for foreign keys. */
function marker(rnd) { return Buffer.concat([Buffer.from('FOREIGN!'), randBytes(rnd, 6)]); }

/**
 * Puts a foreign value into `slot` (in place). Returns { needles: Buffers that must not reach
 * the client, dropOrFail: true when the filter must fail the call or drop the element,
 * restore(): puts the original values back, skip: nothing to test for this class }.
 */
function foreignize(slot, ks, rnd) {
  const saved = slot.node.f.map((e) => [e, e.v]);
  const r = foreignize1(slot, ks, rnd);
  r.restore = () => { for (const [e, v] of saved) e.v = v; };
  return r;
}

function foreignize1(slot, ks, rnd) {
  const { c, kind, entry, node } = slot;
  const m = marker(rnd);
  const { P, N } = bounds(ks, kind);
  const other = () => {
    const r = rnd();
    if (kind === 'etcd') {
      if (r < 0.4) return Buffer.concat([etcdNs(ks.id + 1), Buffer.from('t'), m]);
      if (r < 0.7) return Buffer.concat([etcdNs(ks.id), Buffer.from('0'), m]); // keyspace <id>0's key
      return Buffer.concat([Buffer.from('/other/'), m]);
    }
    if (r < 0.4) return Buffer.concat([N, m]);
    if (r < 0.7) { const p = Buffer.from(P); p[3] ^= 0x80; return Buffer.concat([p, m]); }
    return Buffer.concat([Buffer.from('t'), m]); // an unprefixed v1 key
  };
  switch (c.cls) {
    case 'key': case 'key-or-empty': {
      entry.v = other();
      return { needles: [m], dropOrFail: true };
    }
    case 'region': case 'bucket': {
      const k = other();
      entry.v = W.encodeRegionKey(k);
      return { needles: [m, entry.v], dropOrFail: c.cls === 'region' };
    }
    case 'under':
      entry.v = Buffer.concat([Buffer.from('other/'), m]);
      return { needles: [m], dropOrFail: true };
    case 'start': case 'end': {
      // The whole range moves past the keyspace end.
      const a = Buffer.concat([N, m]);
      const enc = (k) => (c.range === 'region' ? W.encodeRegionKey(k) : k);
      for (const e of node.f) {
        if (e.n === slot.startField) e.v = enc(a);
        else if (e.n === slot.endField) e.v = enc(Buffer.concat([a, Buffer.from('z')]));
      }
      return { needles: [m, enc(a)], dropOrFail: true };
    }
    case 'scoped-id':
      entry.v = Buffer.concat([Buffer.from(serviceScope(ks.id + 1)), m]);
      return { needles: [m], dropOrFail: false };
    case 'carried': case 'clamp-carried':
      return { needles: [], dropOrFail: false, skip: true };
    case 'keyspace':
      // Last value wins for a singular varint: every occurrence is changed.
      for (const e of node.f) if (e.n === slot.f.id) e.v = BigInt(ks.id === 1 ? 2 : 1);
      return { needles: [], dropOrFail: true };
    default:
      throw new Error(`cannot foreignize ${c.cls}`);
  }
}

module.exports = { Generator, foreignize, strictOneof, bounds, etcdNs, serviceScope, marker };
