'use strict';
// The chunking matrix (shared/STYLE.md): the same bytes pushed whole, all concatenated, split
// every n bytes, byte by byte, and at seeded random points. Body chunks have no relation to
// gRPC frame boundaries, so every parser test must give the same answer for each of them.

/** mulberry32: a small seeded PRNG (returns floats in [0, 1)). */
function prng(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function splitEvery(buf, n) {
  const out = [];
  for (let i = 0; i < buf.length; i += n) out.push(buf.subarray(i, Math.min(buf.length, i + n)));
  if (out.length === 0) out.push(buf);
  return out;
}

function splitRandom(buf, rnd, maxPiece) {
  const out = [];
  let i = 0;
  while (i < buf.length) {
    // Occasionally an empty chunk: Envoy can deliver 0-byte body callbacks.
    if (rnd() < 0.05) out.push(buf.subarray(i, i));
    const n = 1 + Math.floor(rnd() * maxPiece);
    out.push(buf.subarray(i, Math.min(buf.length, i + n)));
    i += n;
  }
  if (out.length === 0) out.push(buf);
  return out;
}

/**
 * The chunkings of `parts` (an array of Buffers, usually one per gRPC frame):
 *   whole          one chunk per part, as the sender wrote them
 *   concatenated   everything in one chunk
 *   every-<n>      split every n bytes (n in `sizes`)
 *   byte-by-byte   one byte per chunk (skipped above `maxByteByByte` bytes)
 *   random-<seed>  seeded random split points, with occasional empty chunks
 *   eos-empty      all in one chunk, then end of stream on an extra empty chunk
 */
function chunkings(parts, { sizes = [2, 3, 5, 7, 64, 1000], seed = 1, randomRuns = 3, maxByteByByte = 4096 } = {}) {
  const all = Buffer.concat(parts);
  const list = [];
  list.push({ name: 'whole', chunks: parts.length ? parts : [all] });
  list.push({ name: 'concatenated', chunks: [all] });
  for (const n of sizes) if (n < all.length) list.push({ name: `every-${n}`, chunks: splitEvery(all, n) });
  if (all.length <= maxByteByByte) list.push({ name: 'byte-by-byte', chunks: splitEvery(all, 1) });
  for (let r = 0; r < randomRuns; r++) {
    const s = seed * 7919 + r;
    const rnd = prng(s);
    list.push({ name: `random-${s}`, chunks: splitRandom(all, rnd, 1 + Math.floor(rnd() * Math.max(1, all.length / 3))) });
  }
  list.push({ name: 'eos-empty', chunks: [all, Buffer.alloc(0)] });
  return list;
}

/**
 * Runs `run(chunks)` -> { status, out } for every chunking and checks they agree:
 *  - the final status is the same everywhere;
 *  - on success the forwarded bytes are identical;
 *  - on failure every chunking forwarded only whole frames that the byte-by-byte run (which
 *    forwards each good frame as soon as it is complete) also forwarded: a prefix of it.
 * Returns the result of the reference chunking ('concatenated'), plus `byName`.
 */
function runMatrix(parts, run, opts = {}) {
  const results = chunkings(parts, opts).map((c) => ({ name: c.name, ...run(c.chunks) }));
  const ref = results.find((r) => r.name === 'concatenated');
  const finest = results.find((r) => r.name === 'byte-by-byte') || results.find((r) => r.name.startsWith('every-')) || ref;
  for (const r of results) {
    if (r.status !== ref.status) {
      throw new Error(`chunking ${r.name}: status ${r.status}, but concatenated gave ${ref.status}`);
    }
    if (ref.status === 0) {
      if (!r.out.equals(ref.out)) throw new Error(`chunking ${r.name}: output differs from concatenated (${r.out.length} vs ${ref.out.length} bytes)`);
    } else if (!finest.out.subarray(0, r.out.length).equals(r.out)) {
      throw new Error(`chunking ${r.name}: forwarded bytes before the error are not a prefix of the good frames`);
    }
  }
  return { ...ref, byName: Object.fromEntries(results.map((r) => [r.name, r])) };
}

module.exports = { chunkings, runMatrix, prng, splitEvery, splitRandom };
