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

/** etcd key rule: the namespace ends in "/", so it is a plain prefix and any key is allowed. */
export const ETCD_RULE_PLAIN: u8 = 0;
/** etcd key rule: every key starts with "/" (a namespace that can be a prefix of another one). */
export const ETCD_RULE_SLASH: u8 = 1;
/**
 * etcd key rule: no key starts with '0'..'9'. Sound when every namespace is one fixed text
 * followed by the tenant's decimal id (no leading zeros): ns‖k of keyspace 1 can equal
 * ns'‖k' of keyspace 10 only if k starts with "0". This is how TiDB's own keyspace mode
 * concatenates, e.g. "/keyspaces/tidb/1" + "tidb/autoid/leader"
 * (tidb pkg/autoid_service, meta/autoid/autoid_service.go).
 */
export const ETCD_RULE_NO_DIGIT: u8 = 2;

/** p followed by one byte b. */
function withByte(p: Bytes, b: u8): Bytes {
  const out = new Bytes(p.buf.byteLength + 1);
  memory.copy(out.ptr, p.ptr, p.len);
  store<u8>(out.ptr + p.len, b);
  return out;
}

function hexOf(b: Bytes): string {
  const digits = "0123456789abcdef";
  let s = "";
  for (let i: usize = 0; i < b.len; i++) {
    const c = load<u8>(b.ptr + i);
    s += digits.charAt(c >> 4) + digits.charAt(c & 15);
  }
  return s;
}

/** Wire bytes of api_version(21) = 2 and keyspace_id(32) = id: a8 01 02 80 02 varint(id). */
function contextFields(id: u32): Bytes {
  let n = 5;
  for (let v = id; v >= 0x80; v >>= 7) n++;
  const b = new Bytes(n + 1);
  const p = b.ptr;
  store<u8>(p, 0xa8); store<u8>(p + 1, 0x01); store<u8>(p + 2, 0x02);
  store<u8>(p + 3, 0x80); store<u8>(p + 4, 0x02);
  let v = id;
  let i: usize = 5;
  while (v >= 0x80) { store<u8>(p + i, <u8>(v | 0x80)); v >>= 7; i++; }
  store<u8>(p + i, <u8>v);
  return b;
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
  /** Which etcd keys the tenant may use (ETCD_RULE_*, chosen from the namespace template). */
  etcdRule: u8;
  /**
   * The tenant's etcd key space: [etcdScope, etcdEnd), plus [etcdHi, etcdHiEnd) under the
   * no-digit rule (etcdHi is null otherwise). Every key in it starts with ns and no key of
   * another tenant lies in it:
   *   plain   ns ends in "/":                 [ns, nextPrefix(ns))
   *   slash   keys start with "/":            [ns‖"/", ns‖"0")
   *   noDigit keys do not start with 0-9:     [ns‖"\x00", ns‖"0") and [ns‖":", nextPrefix(ns))
   * e.g. keyspace 1 under "/keyspaces/tidb/{id}": ["/keyspaces/tidb/1\x00", "/keyspaces/tidb/10")
   * and ["/keyspaces/tidb/1:", "/keyspaces/tidb/2"); keyspaces 10-19, 100-199, ... all sort in
   * between, in the gap ns‖"0" .. ns‖"9\xff…".
   */
  etcdScope: Bytes;
  etcdEnd: Bytes;
  etcdHi: Bytes | null = null;
  etcdHiEnd: Bytes | null = null;
  /**
   * The tenant's scope for ids it names in stores every tenant shares (PD service safe
   * points): "tidb-mesh-<id>-", as the PD HTTP placement ids (pdhttp/scope.ts); the trailing
   * "-" keeps keyspace 1 away from 10. Prefix mode: "tidb-mesh-p<hex prefix>-".
   */
  serviceScope: Bytes;
  /** Hex of the txn prefix: the tenant's part of the lock ledger (locks/ledger.ts). */
  ledgerScope: string;
  /**
   * The kvrpcpb.Context fields every api-v2 request gets, as wire bytes: api_version(21) = 2
   * (V2), keyspace_id(32) = id. Appended by the walk (proto/rewrite.ts) after the Context's
   * own fields, without the keyspace fields the client sent.
   */
  ctxFields: Bytes;

  /**
   * etcdRule: ETCD_RULE_NO_DIGIT is valid only when every tenant's namespace is the same text
   * followed by its decimal keyspace id (config.ts decides from the template); it is ignored
   * for a namespace with a trailing slash.
   */
  constructor(mode: i32, id: u32, txn: Bytes, raw: Bytes, etcd: Bytes, etcdRule: u8 = ETCD_RULE_SLASH) {
    this.mode = mode;
    this.id = id;
    this.txn = txn;
    this.raw = raw;
    this.etcd = etcd;
    if (etcd.len > 0 && load<u8>(etcd.ptr + etcd.len - 1) == 0x2f) etcdRule = ETCD_RULE_PLAIN;
    this.etcdRule = etcdRule;
    if (etcdRule == ETCD_RULE_PLAIN) {
      this.etcdScope = etcd;
      this.etcdEnd = nextPrefix(etcd) as Bytes;
    } else if (etcdRule == ETCD_RULE_SLASH) {
      this.etcdScope = withByte(etcd, 0x2f);
      this.etcdEnd = withByte(etcd, 0x30);
    } else {
      this.etcdScope = withByte(etcd, 0x00);
      this.etcdEnd = withByte(etcd, 0x30);
      this.etcdHi = withByte(etcd, 0x3a);
      // ns starts with "/" (config.ts), so it is never all 0xFF and has a next prefix.
      this.etcdHiEnd = nextPrefix(etcd) as Bytes;
    }
    // Configuration validation refuses prefixes with no next prefix (all 0xFF), so these
    // are never null here.
    this.txnEnd = nextPrefix(txn) as Bytes;
    this.rawEnd = nextPrefix(raw) as Bytes;
    const hex = hexOf(txn);
    this.ledgerScope = hex;
    this.ctxFields = contextFields(id);
    this.serviceScope = Bytes.fromString(mode == MODE_API_V2 ? "tidb-mesh-" + id.toString() + "-" : "tidb-mesh-p" + hex + "-");
  }

  /** API-v2 keyspace for id (1..0xFFFFFE). */
  static apiV2(id: u32, etcdNamespace: string, etcdRule: u8 = ETCD_RULE_SLASH): Keyspace {
    const ks = new Keyspace(MODE_API_V2, id, Keyspace.v2Prefix(0x78, id), Keyspace.v2Prefix(0x72, id),
      Bytes.fromString(etcdNamespace), etcdRule);
    // client-go codecV2: N = BigEndian.PutUint32(Uint32(P) + 1), always 4 bytes. nextPrefix
    // would drop the trailing zero bytes (id 255: 78 00 01 instead of 78 00 01 00), and TiKV's
    // ApiV2::parse_keyspace refuses range bounds shorter than 4 bytes. id <= 0xFFFFFE here.
    ks.txnEnd = Keyspace.v2Prefix(0x78, id + 1);
    ks.rawEnd = Keyspace.v2Prefix(0x72, id + 1);
    return ks;
  }

  /** Prefix-mode keyspace: the same configured prefix for txn and raw keys. */
  static withPrefix(prefix: Bytes, etcdNamespace: string, etcdRule: u8 = ETCD_RULE_SLASH): Keyspace {
    return new Keyspace(MODE_PREFIX, 0, prefix, prefix, Bytes.fromString(etcdNamespace), etcdRule);
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
