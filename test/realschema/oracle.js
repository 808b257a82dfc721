'use strict';
// The schema-driven oracle: given a generated message (generate.js), the bytes the filter
// forwarded, the real message type and the field classification (schema/fields/), it checks
// field by field, without looking at the filter's tables:
//   requests:  every key is P‖k (etcd: ns‖k), an empty key-or-empty stays empty; raw ranges
//              map to [P‖s, e ? P‖e : N) (reverse: [s ? P‖s : N, P‖e]); region keys and
//              region ranges are E(P‖D(k)) (an empty end E(N)); etcd ranges ns‖s .. ns‖e,
//              "\x00" -> the end of the tenant's key space, an empty end stays a single key;
//              keyspace ids are the tenant's, api_version is 2, keyspace names are gone;
//   responses: every key loses P (empty stays empty); raw and region ranges are clamped to
//              the keyspace and lose P; bucket keys follow client-go DecodeBucketKeys;
//   both:      keys under a prefix, values, opaque fields, scalars and unknown fields are
//              unchanged, byte for byte and in order; nested messages recurse.
// A violation throws an Error naming the field path.
const protobuf = require('protobufjs');
const W = require('../core/wire');
const { forDirection } = require('../../schema/fields/vocabulary');
const { messageType, typeName } = require('./completeness');
const { bounds, serviceScope } = require('./generate');

const BATCH_ONEOFS = new Set(['tikvpb.BatchCommandsRequest.Request', 'tikvpb.BatchCommandsResponse.Response']);
const EMPTY = Buffer.alloc(0);

/** Output bytes as entries { n, wt, raw, v } (v: payload Buffer, or BigInt for varints). */
function parse(buf, path) {
  const out = [];
  let i = 0;
  const rv = () => {
    let v = 0n, s = 0n, b;
    do {
      if (i >= buf.length) throw new Error(`${path}: truncated varint in the output`);
      b = buf[i++]; v |= BigInt(b & 0x7f) << s; s += 7n;
    } while (b & 0x80);
    return v;
  };
  while (i < buf.length) {
    const start = i;
    const tag = rv();
    const n = Number(tag >> 3n), wt = Number(tag & 7n);
    let v;
    if (wt === 0) v = rv();
    else if (wt === 1) { v = buf.subarray(i, i + 8); i += 8; } else if (wt === 5) { v = buf.subarray(i, i + 4); i += 4; } else if (wt === 2) {
      const len = Number(rv());
      v = buf.subarray(i, i + len); i += len;
    } else throw new Error(`${path}: wire type ${wt} in the output`);
    if (i > buf.length) throw new Error(`${path}: truncated output`);
    out.push({ n, wt, raw: buf.subarray(start, i), v });
  }
  return out;
}

const hex = (b) => Buffer.from(b).toString('hex');
const group = (list) => {
  const m = new Map();
  for (const e of list) { if (!m.has(e.n)) m.set(e.n, []); m.get(e.n).push(e); }
  return m;
};
const hasPrefix = (k, p) => k.length >= p.length && k.subarray(0, p.length).equals(p);

class Oracle {
  /** @param {object} o { fields, ks (W.keyspace) } */
  constructor(o) { this.fields = o.fields; this.ks = o.ks; }

  cls(t, f, dir) { return f ? forDirection(this.fields[`${typeName(t)}.${f.name}`], dir) : undefined; }

  /** Checks output bytes `out` against the generated node `inNode` of type `t`. */
  check(t, inNode, out, dir, kind, path = typeName(t)) {
    const outs = parse(out, path);
    const ins = inNode.f;
    const inBy = group(ins), outBy = group(outs);
    const eq = (a, b, what) => { if (!Buffer.from(a).equals(Buffer.from(b))) throw new Error(`${what}: got ${hex(b)}, want ${hex(a)}`); };
    const special = new Set(); // field numbers excluded from the order check
    let range = null;
    const nums = new Set([...inBy.keys(), ...outBy.keys()]);
    for (const n of nums) {
      const f = t.fieldsById[n];
      const c = this.cls(t, f, dir);
      const I = inBy.get(n) || [], O = outBy.get(n) || [];
      const p = `${path}.${f ? f.name : `#${n}`}`;
      const same = () => {
        if (I.length !== O.length) throw new Error(`${p}: ${O.length} fields out, ${I.length} in`);
        I.forEach((e, i) => eq(W.encodeEntry(e), O[i].raw, `${p}[${i}]`));
      };
      if (!f) { same(); continue; }
      const sub = messageType(f);
      if (c && c.cls === 'keyspace') {
        special.add(n);
        this.keyspaceField(f, c, I, O, dir, p);
        continue;
      }
      if (c && c.cls === 'opaque') { same(); continue; } // copied unchanged on purpose, messages too
      if (sub && I.every((e) => e.m)) {
        if (I.length !== O.length) throw new Error(`${p}: ${O.length} messages out, ${I.length} in`);
        const childKind = BATCH_ONEOFS.has(typeName(t)) ? (/^Raw/.test(f.name) ? 'raw' : 'txn') : kind;
        I.forEach((e, i) => this.check(sub, e.m, O[i].v, dir, childKind, `${p}[${i}]`));
        continue;
      }
      if (!c || ['value', 'opaque', 'reverse', 'under', 'end-under'].includes(c.cls)) { same(); continue; }
      const { P, N } = bounds(this.ks, kind);
      switch (c.cls) {
        case 'key': case 'key-or-empty': {
          if (I.length !== O.length) throw new Error(`${p}: ${O.length} keys out, ${I.length} in`);
          I.forEach((e, i) => {
            const want = dir === 'request'
              ? (c.cls === 'key-or-empty' && e.v.length === 0 ? EMPTY : Buffer.concat([P, e.v]))
              : (e.v.length === 0 ? EMPTY : e.v.subarray(P.length));
            if (dir === 'response' && e.v.length && !hasPrefix(e.v, P)) throw new Error(`${p}: generated a foreign key`);
            eq(want, O[i].v, `${p}[${i}]`);
          });
          break;
        }
        case 'region': {
          if (I.length !== O.length) throw new Error(`${p}: ${O.length} keys out, ${I.length} in`);
          I.forEach((e, i) => {
            const k = e.v.length ? W.decodeRegionKey(e.v) : EMPTY;
            const want = dir === 'request' ? W.encodeRegionKey(Buffer.concat([P, k])) : (k.length ? W.encodeRegionKey(k.subarray(P.length)) : EMPTY);
            eq(want, O[i].v, `${p}[${i}]`);
          });
          break;
        }
        case 'start': case 'end':
          special.add(n);
          range = range || { kind: c.range };
          range[c.cls] = { f, I, O, p };
          break;
        case 'bucket':
          special.add(n);
          this.buckets(I, O, P, N, p);
          break;
        case 'scoped-id': {
          // Requests: the tenant's scope in front. Responses: the tenant's ids lose it.
          const scope = Buffer.from(serviceScope(this.ks.id));
          if (I.length !== O.length) throw new Error(`${p}: ${O.length} ids out, ${I.length} in`);
          I.forEach((e, i) => eq(dir === 'request' ? Buffer.concat([scope, e.v]) : e.v.subarray(scope.length), O[i].v, `${p}[${i}]`));
          break;
        }
        case 'carried':
          // Never sent upstream (schema/gc.ts): the value waits for the response.
          special.add(n);
          if (O.length) throw new Error(`${p}: a carried value reached the upstream`);
          break;
        case 'clamp-carried':
          // Answered from the carried request value of the same call (none in a lone response).
          special.add(n);
          if (O.length !== I.length) throw new Error(`${p}: ${O.length} out, ${I.length} in`);
          break;
        default:
          throw new Error(`${p}: no oracle for class ${c.cls}`);
      }
    }
    if (range) this.range(t, inNode, range, dir, kind, path);
    // Everything that is not a range bound, bucket key or keyspace field keeps its order.
    const order = (list) => list.filter((e) => !special.has(e.n)).map((e) => e.n).join(',');
    if (order(ins) !== order(outs)) throw new Error(`${path}: field order changed: ${order(outs)} (in: ${order(ins)})`);
  }

  keyspaceField(f, c, I, O, dir, p) {
    if (dir === 'response') {
      if (I.length !== O.length) throw new Error(`${p}: ${O.length} out, ${I.length} in`);
      I.forEach((e, i) => { if (!Buffer.from(W.encodeEntry(e)).equals(O[i].raw)) throw new Error(`${p}: keyspace field changed in a response`); });
      return;
    }
    if (f.type === 'string' || f.type === 'bytes' || messageType(f)) {
      if (O.length) throw new Error(`${p}: a keyspace name/identity reached the upstream`);
      return;
    }
    const want = f.resolvedType instanceof protobuf.Enum ? 2n : BigInt(this.ks.id);
    if (I.length && !O.length) throw new Error(`${p}: dropped instead of replaced`);
    for (const o of O) if (o.v !== want) throw new Error(`${p}: ${o.v}, want ${want}`);
  }

  /** The bounds of a range message, both directions. */
  range(t, inNode, r, dir, kind, path) {
    const { P, N } = bounds(this.ks, kind);
    const last = (x) => (x && x.I.length ? x.I[x.I.length - 1].v : EMPTY);
    const outOf = (x) => (x ? x.O.map((o) => o.v) : []);
    const startNum = r.start ? r.start.f.id : 0, endNum = r.end ? r.end.f.id : 0;
    const s = last(r.start), e = last(r.end);
    const expectOut = (which, want) => {
      const got = outOf(r[which]);
      const p = r[which] ? r[which].p : `${path}.${which}`;
      if (want === null) { if (got.length) throw new Error(`${p}: ${got.length} fields out, want none`); return; }
      if (got.length !== 1) throw new Error(`${p}: ${got.length} fields out, want one`);
      if (!got[0].equals(want)) throw new Error(`${p}: got ${hex(got[0])}, want ${hex(want)}`);
    };
    void startNum; void endNum;
    if (dir === 'request') {
      if (r.kind === 'raw') {
        let reverse = false;
        for (const f of t.fieldsArray) {
          const c = this.cls(t, f, dir);
          if (c && c.cls === 'reverse') for (const x of inNode.f) if (x.n === f.id && x.wt === 0) reverse = x.v !== 0n;
        }
        if (!reverse) {
          expectOut('start', Buffer.concat([P, s]));
          expectOut('end', e.length ? Buffer.concat([P, e]) : N);
        } else {
          expectOut('start', s.length ? Buffer.concat([P, s]) : N);
          expectOut('end', Buffer.concat([P, e]));
        }
      } else if (r.kind === 'region') {
        const d = (k) => (k.length ? W.decodeRegionKey(k) : EMPTY);
        expectOut('start', W.encodeRegionKey(Buffer.concat([P, d(s)])));
        expectOut('end', W.encodeRegionKey(e.length ? Buffer.concat([P, d(e)]) : N));
      } else {
        // etcd, as generated (keys of TiDB's form): one key, "\x00" (to the end), or ns‖e.
        expectOut('start', Buffer.concat([P, s]));
        if (!e.length) expectOut('end', null);
        else expectOut('end', e.length === 1 && e[0] === 0 ? N : Buffer.concat([P, e]));
      }
      return;
    }
    let ds = s, de = e;
    if (r.kind === 'region') { ds = s.length ? W.decodeRegionKey(s) : EMPTY; de = e.length ? W.decodeRegionKey(e) : EMPTY; }
    const clamp = (k) => (hasPrefix(k, P) ? k.subarray(P.length) : EMPTY);
    const enc = (k) => (r.kind === 'region' && k.length ? W.encodeRegionKey(k) : k);
    if (r.start) expectOut('start', r.start.I.length ? enc(clamp(ds)) : null);
    if (r.end) expectOut('end', r.end.I.length ? enc(clamp(de)) : null);
  }

  /** client-go DecodeBucketKeys, re-encoded for a v1 client (responses). */
  buckets(I, O, P, N, p) {
    const want = [];
    let firstEmpty = false, emitted = 0;
    I.forEach((e, i) => {
      const k = e.v.length ? W.decodeRegionKey(e.v) : EMPTY;
      if (i === 0 && Buffer.compare(k, P) < 0) { want.push(EMPTY); firstEmpty = true; emitted++; return; }
      if (i === I.length - 1 && (k.length === 0 || Buffer.compare(k, N) >= 0)) { want.push(EMPTY); emitted++; return; }
      if (!hasPrefix(k, P)) return;
      const rest = k.subarray(P.length);
      if (rest.length === 0) {
        if (emitted > 0 && firstEmpty) return;
        want.push(EMPTY); if (emitted === 0) firstEmpty = true; emitted++; return;
      }
      want.push(W.encodeRegionKey(rest)); emitted++;
    });
    const got = O.map((o) => o.v);
    if (got.length !== want.length || got.some((g, i) => !g.equals(want[i]))) {
      throw new Error(`${p}: buckets ${got.map(hex).join(',')}, want ${want.map(hex).join(',')}`);
    }
  }
}

module.exports = { Oracle, parse };
