// Keys as the storage layer holds them. TiKV and PD name regions by memcomparable-encoded keys
// (TiDB util/codec EncodeBytes: groups of 8 bytes, each followed by 0xFF minus the number of
// zero pads); API v2 puts 'x' (txn) or 'r' (raw) and the 3-byte keyspace id in front of every
// key (client-go codecV2), and keyspace K ends where K+1 begins.

const GROUP = 8;

/** Memcomparable encoding of a raw key. */
export function encodeRegionKey(raw: Buffer): Buffer {
  const out: number[] = [];
  for (let i = 0; i <= raw.length; i += GROUP) {
    const n = Math.min(GROUP, raw.length - i);
    for (let j = 0; j < GROUP; j++) out.push(j < n ? raw[i + j] : 0);
    out.push(0xff - (GROUP - n));
    if (n < GROUP) break;
  }
  return Buffer.from(out);
}

/** Inverse of encodeRegionKey; throws on bytes that are not memcomparable. */
export function decodeRegionKey(enc: Buffer): Buffer {
  const out: number[] = [];
  for (let i = 0; ; i += GROUP + 1) {
    if (i + GROUP + 1 > enc.length) throw new Error('not a memcomparable key');
    const marker = enc[i + GROUP];
    const pad = 0xff - marker;
    if (pad > GROUP) throw new Error('not a memcomparable key');
    for (let j = 0; j < GROUP - pad; j++) out.push(enc[i + j]);
    if (pad > 0) return Buffer.from(out);
  }
}

/** 'x' (txn) or 'r' (raw) + 3-byte big-endian keyspace id: the first key of keyspace `id`. */
export function keyspacePrefix(mode: 'txn' | 'raw', id: number): Buffer {
  if (!Number.isInteger(id) || id < 0 || id > 0xffffff) throw new Error(`keyspace id ${id} out of range`);
  return Buffer.from([mode === 'txn' ? 0x78 : 0x72, (id >> 16) & 0xff, (id >> 8) & 0xff, id & 0xff]);
}

/** [first key, end) of keyspace `id` in one key mode. id 0xFFFFFF has no end in its mode and is refused. */
export function keyspaceRange(mode: 'txn' | 'raw', id: number): { start: Buffer; end: Buffer } {
  if (id >= 0xffffff) throw new Error(`keyspace id ${id} has no end key`);
  return { start: keyspacePrefix(mode, id), end: keyspacePrefix(mode, id + 1) };
}

/** The TSO of a wall-clock time in ms (PD: physical << 18 | logical). */
export function tsOfMs(ms: number): bigint {
  return BigInt(Math.max(0, Math.floor(ms))) << 18n;
}

/** The wall-clock ms of a TSO. */
export function msOfTs(ts: bigint): number {
  return Number(ts >> 18n);
}
