'use strict';
// A tiny protobuf writer and one-level reader for hand-built test messages (test/schema).

const varint = (n) => {
  const out = [];
  let v = BigInt(n);
  do { let b = Number(v & 0x7fn); v >>= 7n; if (v) b |= 0x80; out.push(b); } while (v);
  return Buffer.from(out);
};
const tag = (num, wt) => varint((num << 3) | wt);
/** A varint field. */
const V = (num, n) => Buffer.concat([tag(num, 0), varint(n)]);
/** A length-delimited field of the concatenated parts (strings are UTF-8, use Buffers for bytes). */
const L = (num, ...parts) => { const b = Buffer.concat(parts.map((p) => Buffer.from(p))); return Buffer.concat([tag(num, 2), varint(b.length), b]); };
/** A fixed64 field (doubles: Consumption, RequestUnitItem.value). */
const D = (num, x) => { const b = Buffer.alloc(8); b.writeDoubleLE(x); return Buffer.concat([tag(num, 1), b]); };
const msg = (...fields) => Buffer.concat(fields);

/** Parses one level of a message into [num, wireType, value(Buffer|BigInt)]. */
function fields(buf) {
  const out = [];
  let i = 0;
  const rv = () => { let v = 0n, s = 0n, b; do { b = buf[i++]; v |= BigInt(b & 0x7f) << s; s += 7n; } while (b & 0x80); return v; };
  while (i < buf.length) {
    const t = Number(rv());
    const num = t >> 3, wt = t & 7;
    if (wt === 0) out.push([num, wt, rv()]);
    else if (wt === 2) { const n = Number(rv()); out.push([num, wt, buf.subarray(i, i + n)]); i += n; } else if (wt === 1) { out.push([num, wt, buf.subarray(i, i + 8)]); i += 8; } else throw new Error(`wire type ${wt}`);
  }
  return out;
}

module.exports = { varint, tag, V, L, D, msg, fields };
