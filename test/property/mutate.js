'use strict';
// Structure-aware mutations of protobuf payloads and gRPC frames for fuzzing: truncation,
// byte flips, corrupted varints and lengths, group wire types, 11-byte varints, lengths past
// the end, and duplicated or spliced fields. Deterministic given the mutation records.
const W = require('../core/wire');

/**
 * Scans a payload for field boundaries, recursing into length-delimited fields that parse
 * as messages. Returns { fields: [{ at, tagLen, wt, lenAt, lenLen, body, end }] } (nested too).
 */
function scan(buf, start = 0, end = buf.length, depth = 0, out = []) {
  let i = start;
  const readVar = (p) => {
    let v = 0n, s = 0n, n = 0;
    while (p + n < end && n < 10) {
      const b = buf[p + n++];
      v |= BigInt(b & 0x7f) << s; s += 7n;
      if (!(b & 0x80)) return { v, n };
    }
    return null;
  };
  const mine = [];
  while (i < end) {
    const t = readVar(i);
    if (!t || t.v >> 3n === 0n) return null;
    const wt = Number(t.v & 7n);
    const f = { at: i, tagLen: t.n, wt };
    let p = i + t.n;
    if (wt === 0) { const v = readVar(p); if (!v) return null; f.valAt = p; f.valLen = v.n; p += v.n; }
    else if (wt === 1) p += 8;
    else if (wt === 5) p += 4;
    else if (wt === 2) {
      const l = readVar(p); if (!l) return null;
      f.lenAt = p; f.lenLen = l.n; p += l.n; f.body = p; p += Number(l.v);
    } else return null;
    if (p > end) return null;
    f.end = p;
    mine.push(f);
    i = p;
  }
  for (const f of mine) {
    out.push(f);
    if (f.wt === 2 && depth < 8 && f.end > f.body) scan(buf, f.body, f.end, depth + 1, out);
  }
  return out;
}

const KINDS = ['truncate', 'flip', 'varint', 'length', 'group', 'varint11', 'lenPastEnd', 'wt67', 'dup', 'splice', 'zeroTag', 'frameHeader'];

/**
 * Applies mutation m = { kind, a, b } (a, b: non-negative integers choosing places/values) to
 * payload `p`. Returns { payload, header? } (header: replacement 5-byte frame header).
 */
function mutate(p, m) {
  const fields = scan(p) || [];
  const pick = (arr) => arr[m.a % arr.length];
  const at = p.length ? m.a % p.length : 0;
  const cat = (...xs) => Buffer.concat(xs.map((x) => Buffer.from(x)));
  switch (m.kind) {
    case 'truncate': return { payload: p.subarray(0, at) };
    case 'flip': { const q = Buffer.from(p); if (q.length) q[at] ^= 1 << (m.b % 8); return { payload: q }; }
    case 'varint': {
      const vs = fields.filter((f) => f.valAt !== undefined);
      if (!vs.length) return { payload: p };
      const f = pick(vs);
      // the value's varint becomes all continuation bytes up to the field end (or 10 bytes)
      return { payload: cat(p.subarray(0, f.valAt), Buffer.alloc(Math.min(11, 1 + (m.b % 11)), 0xff), p.subarray(f.valAt + f.valLen)) };
    }
    case 'length': {
      const ls = fields.filter((f) => f.lenAt !== undefined);
      if (!ls.length) return { payload: p };
      const f = pick(ls);
      const n = [0, 1, 127, 128, 16384, 0x7fffffff, 0x80000000, 0xffffffff][m.b % 8];
      const delta = (m.b >> 3) % 3 === 0 ? n : (f.end - f.body) + ((m.b >> 3) % 3 === 1 ? 1 : -1);
      return { payload: cat(p.subarray(0, f.lenAt), W.varint(Math.max(0, delta)), p.subarray(f.lenAt + f.lenLen)) };
    }
    case 'group': {
      const num = 1 + (m.b % 40);
      const g = m.b & 1 ? cat(W.tag(num, 3), W.tag(num, 4)) : W.tag(num, 3 + (m.b >> 1 & 1));
      const f = fields.length ? pick(fields) : { at: 0 };
      return { payload: cat(p.subarray(0, f.at), g, p.subarray(f.at)) };
    }
    case 'varint11': {
      const f = fields.length ? pick(fields) : { at: 0 };
      return { payload: cat(p.subarray(0, f.at), W.tag(1 + (m.b % 40), 0), Buffer.alloc(10, 0x80), [0x01], p.subarray(f.at)) };
    }
    case 'lenPastEnd': {
      return { payload: cat(p, W.tag(1 + (m.b % 40), 2), W.varint(1 + (m.b % 300)), Buffer.alloc(m.b % 2)) };
    }
    case 'wt67': {
      const f = fields.length ? pick(fields) : { at: 0 };
      return { payload: cat(p.subarray(0, f.at), W.tag(1 + (m.b % 40), 6 + (m.b & 1)), Buffer.alloc(8), p.subarray(f.at)) };
    }
    case 'dup': {
      if (!fields.length) return { payload: p };
      const f = pick(fields);
      return { payload: cat(p.subarray(0, f.end), p.subarray(f.at, f.end), p.subarray(f.end)) };
    }
    case 'splice': {
      // a field moved into another length-delimited field's body (lengths fixed up)
      const ls = fields.filter((f) => f.lenAt !== undefined);
      if (ls.length < 1 || !fields.length) return { payload: p };
      const host = pick(ls);
      const g = fields[m.b % fields.length];
      const piece = p.subarray(g.at, g.end);
      if (g.at < host.end && g.end > host.at) return { payload: p };
      const body = cat(p.subarray(host.body, host.end), piece);
      const moved = cat(p.subarray(host.at, host.at + host.tagLen), W.varint(body.length), body);
      const parts = [];
      const segs = [[host.at, host.end, moved], [g.at, g.end, Buffer.alloc(0)]].sort((x, y) => x[0] - y[0]);
      let i = 0;
      for (const [s, e, rep] of segs) { parts.push(p.subarray(i, s), rep); i = e; }
      parts.push(p.subarray(i));
      return { payload: Buffer.concat(parts) };
    }
    case 'zeroTag': {
      const f = fields.length ? pick(fields) : { at: 0 };
      return { payload: cat(p.subarray(0, f.at), [0x00 | (m.b % 6)], p.subarray(f.at)) };
    }
    case 'frameHeader': {
      const h = Buffer.alloc(5);
      const variants = [
        () => { h[0] = 1 + (m.b % 255); h.writeUInt32BE(p.length, 1); },
        () => { h.writeUInt32BE(p.length + 1 + (m.b % 100), 1); },
        () => { h.writeUInt32BE(0xffffffff - (m.b % 10), 1); },
        () => { h.writeUInt32BE(Math.max(0, p.length - 1 - (m.b % 4)), 1); },
      ];
      variants[m.a % variants.length]();
      return { payload: p, header: h };
    }
    default: throw new Error(`unknown mutation ${m.kind}`);
  }
}

module.exports = { scan, mutate, KINDS };
