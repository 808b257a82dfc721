// A tenant's key space: the byte prefix P every key gets, and its end N (the next prefix).
// For API v2, P = mode byte ('x' txn, 'r' raw) + 3-byte big-endian id and N = P + 1 as a
// 32-bit big-endian integer (client-go codecV2). For prefix mode, P is configured and N is P
// with its last byte incremented (with carry).

export const MODE_API_V2: i32 = 0;
export const MODE_PREFIX: i32 = 1;

export class Bytes {
  buf: ArrayBuffer;
  constructor(n: i32) { this.buf = new ArrayBuffer(n); }
  @inline get ptr(): usize { return changetype<usize>(this.buf); }
  @inline get len(): usize { return <usize>this.buf.byteLength; }
  static of(src: usize, n: usize): Bytes {
    const b = new Bytes(<i32>n);
    memory.copy(b.ptr, src, n);
    return b;
  }
  static fromString(s: string): Bytes {
    const enc = String.UTF8.encode(s);
    return Bytes.of(changetype<usize>(enc), <usize>enc.byteLength);
  }
}

/** P+1 over the whole byte string, with carry. Returns null when every byte is 0xFF. */
export function nextPrefix(p: Bytes): Bytes | null {
  const n = p.buf.byteLength;
  const out = Bytes.of(p.ptr, p.len);
  for (let i = n - 1; i >= 0; i--) {
    const b = load<u8>(out.ptr + i);
    if (b != 0xff) {
      store<u8>(out.ptr + i, b + 1);
      return Bytes.of(out.ptr, <usize>(i + 1));
    }
  }
  return null;
}

export class Keyspace {
  mode: i32;
  id: u32;
  /** Txn prefix ('x' + id) in api-v2 mode, the configured prefix in prefix mode. */
  txn: Bytes;
  txnEnd: Bytes;
  /** Raw prefix ('r' + id) in api-v2 mode; the same as txn in prefix mode. */
  raw: Bytes;
  rawEnd: Bytes;
  /**
   * etcd namespace ns: the prefix every request key gets, e.g. "/keyspaces/tidb/1" (TiDB's own
   * keyspace layout) or "/keyspaces/tidb/1/" (the trailing-slash form).
   */
  etcd: Bytes;
  /**
   * The tenant's etcd key space starts at etcdScope and ends before etcdEnd. With a trailing
   * slash etcdScope = ns; without one ("separator mode") etcdScope = ns‖"/" and every key must
   * start with "/", so "/keyspaces/tidb/1/" never covers "/keyspaces/tidb/10…". Either way
   * etcdEnd = nextPrefix(etcdScope), e.g. "/keyspaces/tidb/10" for keyspace 1.
   */
  etcdScope: Bytes;
  etcdEnd: Bytes;
  /** Separator mode: every etcd key must start with "/" (ns has no trailing slash). */
  etcdSlash: bool;

  constructor(mode: i32, id: u32, txn: Bytes, raw: Bytes, etcd: Bytes) {
    this.mode = mode;
    this.id = id;
    this.txn = txn;
    this.raw = raw;
    this.etcd = etcd;
    this.etcdSlash = etcd.len == 0 || load<u8>(etcd.ptr + etcd.len - 1) != 0x2f;
    if (this.etcdSlash) {
      const scope = new Bytes(etcd.buf.byteLength + 1);
      memory.copy(scope.ptr, etcd.ptr, etcd.len);
      store<u8>(scope.ptr + etcd.len, 0x2f);
      this.etcdScope = scope;
    } else {
      this.etcdScope = etcd;
    }
    // Configuration validation refuses prefixes with no next prefix (all 0xFF), so these
    // are never null here.
    this.txnEnd = nextPrefix(txn) as Bytes;
    this.rawEnd = nextPrefix(raw) as Bytes;
    this.etcdEnd = nextPrefix(this.etcdScope) as Bytes;
  }

  /** API-v2 keyspace for id (1..0xFFFFFE). */
  static apiV2(id: u32, etcdNamespace: string): Keyspace {
    const ks = new Keyspace(MODE_API_V2, id, Keyspace.v2Prefix(0x78, id), Keyspace.v2Prefix(0x72, id),
      Bytes.fromString(etcdNamespace));
    // client-go codecV2: N = BigEndian.PutUint32(Uint32(P) + 1), always 4 bytes. nextPrefix
    // would drop the trailing zero bytes (id 255: 78 00 01 instead of 78 00 01 00), and TiKV's
    // ApiV2::parse_keyspace refuses range bounds shorter than 4 bytes. id <= 0xFFFFFE here.
    ks.txnEnd = Keyspace.v2Prefix(0x78, id + 1);
    ks.rawEnd = Keyspace.v2Prefix(0x72, id + 1);
    return ks;
  }

  /** Prefix-mode keyspace: the same configured prefix for txn and raw keys. */
  static withPrefix(prefix: Bytes, etcdNamespace: string): Keyspace {
    return new Keyspace(MODE_PREFIX, 0, prefix, prefix, Bytes.fromString(etcdNamespace));
  }

  static v2Prefix(mode: u8, id: u32): Bytes {
    const b = new Bytes(4);
    store<u8>(b.ptr, mode);
    store<u8>(b.ptr + 1, <u8>(id >> 16));
    store<u8>(b.ptr + 2, <u8>(id >> 8));
    store<u8>(b.ptr + 3, <u8>id);
    return b;
  }
}
