// The vocabulary of the key-field tables: what the rewriter does with one field of one
// message. Tables (schema/tikv.ts, schema/pd.ts, schema/etcd.ts) are built once per VM with
// the fluent MessageDesc builder below; proto/rewrite.ts interprets them.

/** A data key: requests get P‖k, responses must start with P and lose it (empty stays empty). */
export const ACT_KEY: u8 = 1;
/** Like ACT_KEY, but an empty request key stays empty (CommitRequest.primary_key, FlushRequest.primary_key). */
export const ACT_KEY_NONEMPTY: u8 = 2;
/** An embedded message, walked with `child`. */
export const ACT_MSG: u8 = 3;
/** Context keyspace fields (api_version, keyspace_name, keyspace_id, keyspace_identity): dropped from api-v2 requests and re-appended by the owning message (setKeyspace). */
export const ACT_KEYSPACE_FIELD: u8 = 4;
/** The presence of this field denies the call (unsafe commands inside BatchCommands). */
export const ACT_DENY: u8 = 5;
/** A single memcomparable region key (PD GetRegion.region_key, SplitRegions.split_keys). */
export const ACT_REGION_KEY: u8 = 6;
/** A varint keyspace id forced to the tenant's id in api-v2 requests (KeyspaceScope.keyspace_id). */
export const ACT_KEYSPACE_ID: u8 = 7;
/** Start and end of the message's range (see MessageDesc.range*); emitted after the walk. */
export const ACT_RANGE_START: u8 = 8;
export const ACT_RANGE_END: u8 = 9;
/** One bucket boundary (metapb.Buckets.keys, BucketVersionNotMatch.keys), decoded as client-go DecodeBucketKeys. */
export const ACT_BUCKET_KEY: u8 = 10;
/** A request field that is an unsupported call in prefix mode (the coprocessor): ERR_UNSUPPORTED there. */
export const ACT_API_V2_ONLY: u8 = 11;
/**
 * A varint keyspace id in a response that must equal the tenant's id (see
 * MessageDesc.keyspaceIdFilter): otherwise the message is out of the keyspace, which a
 * msgFiltered parent turns into "drop the element". Copied unchanged.
 */
export const ACT_KEYSPACE_MATCH: u8 = 12;

/**
 * A bytes field that must start with the message's allowed prefix (MessageDesc.keyUnder): a
 * request that breaks it is refused (ERR_KEY_NOT_ALLOWED, PERMISSION_DENIED), a response
 * fails (ERR_OUT_OF_KEYSPACE). The field is copied unchanged: this rule restricts, it never
 * rewrites. For services that address a store shared by every tenant with raw keys (PD meta
 * storage), where a tenant may read one well-known subtree and nothing else.
 */
export const ACT_KEY_UNDER: u8 = 13;
/**
 * The range_end paired with an ACT_KEY_UNDER key (MessageDesc.endUnder): empty (a single key),
 * starting with the prefix, or exactly the end of the prefix (nextPrefix: "every key under
 * it"). Anything else, including "\x00" (every key from `key` on), is refused as ACT_KEY_UNDER.
 */
export const ACT_END_UNDER: u8 = 14;

/**
 * A bytes id that belongs to one tenant in a store shared by all (PD service safe point ids,
 * UpdateServiceGCSafePointRequest.service_id): requests get the tenant's scope "tidb-mesh-<id>-"
 * (Keyspace.serviceScope) in front; in responses an id with the scope loses it and any other
 * id (another tenant's, the platform's) is replaced by "" so it is never shown.
 */
export const ACT_SCOPED_ID: u8 = 15;
/**
 * A varint the request must not carry upstream: its value is kept for the response
 * (Walk.carry) and the field is dropped, which proto3 reads as 0
 * (UpdateGCSafePointRequest.safe_point: with 0, PD only reads the global GC safe point).
 */
export const ACT_CARRY_ZERO: u8 = 16;
/**
 * A response varint G answered to a request whose value was carried (ACT_CARRY_ZERO): the
 * carried value c when 0 < c <= G, else G (UpdateGCSafePointResponse.new_safe_point; see
 * schema/gc.ts for why).
 */
export const ACT_CLAMP_CARRIED: u8 = 17;

/** MessageDesc.keylessLock: which keyless lock request the message is (proto/keyless.ts). */
export const KEYLESS_NONE: u8 = 0;
export const KEYLESS_RESOLVE: u8 = 1;
export const KEYLESS_PESSIMISTIC: u8 = 2;

/** Field flag: in a response, drop this element (instead of failing the call) when it lies outside the keyspace. */
export const FLAG_FILTER: u8 = 1;

/** Range kinds. RAW: kvrpcpb/coprocessor KeyRange semantics. REGION: memcomparable PD/region keys. ETCD: etcd key/range_end. */
export const RANGE_NONE: u8 = 0;
export const RANGE_RAW: u8 = 1;
export const RANGE_REGION: u8 = 2;
export const RANGE_ETCD: u8 = 3;

/** Which prefix a message's keys use. INHERIT keeps the enclosing one. */
export const KIND_INHERIT: u8 = 0;
export const KIND_TXN: u8 = 1;
export const KIND_RAW: u8 = 2;
export const KIND_ETCD: u8 = 3;

/**
 * MessageDesc.plan() bits: what the walk can leave out for a message. PLAN_READY: computed.
 * PLAN_PLAIN: the prefix kind is inherited and nothing happens after the last field (no range,
 * buckets, required or matched field, lock notes, keyspace fields to append, keyless form).
 * PLAN_CONTEXT: every rule is a keyspace field numbered below 64 and the message re-appends
 * the tenant's (kvrpcpb.Context): proto/rewrite.ts walkContext, a loop that only skips fields.
 */
export const PLAN_READY: u8 = 1;
export const PLAN_PLAIN: u8 = 2;
export const PLAN_CONTEXT: u8 = 4;
/** PLAN_RAW_RANGE: the only rules are a forward RANGE_RAW's start and end (kvrpcpb/coprocessor KeyRange): proto/rewrite.ts walkRawRange. */
export const PLAN_RAW_RANGE: u8 = 8;
/**
 * PLAN_ENSURE_CONTEXT: what follows the last field is at most the added Context
 * (ensureContext), as in every kvrpcpb request with only keys (GetRequest, BatchGetRequest,
 * CommitRequest...): the walk checks that inline instead of in finishMessage. The prefix kind
 * may be set (rewriteDesc handles it).
 */
export const PLAN_ENSURE_CONTEXT: u8 = 16;

export class MessageDesc {
  /**
   * The rules, as parallel primitive tables (built once; the walk reads them through the raw
   * pointers below, so a lookup is an index and touches no managed object). Rule i: field
   * number nums[i], action acts[i], flags flags[i], child children[i] (ACT_MSG, ACT_API_V2_ONLY).
   */
  private numsArr: StaticArray<u32> = new StaticArray<u32>(0);
  private actsArr: StaticArray<u8> = new StaticArray<u8>(0);
  private flagsArr: StaticArray<u8> = new StaticArray<u8>(0);
  /** Raw child pointers; the children are kept alive by `children`. */
  private childArr: StaticArray<usize> = new StaticArray<usize>(0);
  /** Field numbers below 64: (index of their first rule + 1) | action << 24, 0 = none. */
  private slotArr: StaticArray<i32> = new StaticArray<i32>(64);
  children: Array<MessageDesc | null> = new Array<MessageDesc | null>();
  count: i32 = 0;
  numsPtr: usize = 0;
  actsPtr: usize = 0;
  flagsPtr: usize = 0;
  childPtr: usize = 0;
  slotPtr: usize = 0;
  kind: u8 = KIND_INHERIT;
  /** Unknown fields are an error (the oneof wrappers of BatchCommands). */
  strict: bool = false;
  rangeKind: u8 = RANGE_NONE;
  rangeStart: u32 = 0;
  rangeEnd: u32 = 0;
  /** A bool field that makes the range reverse (ScanRequest.reverse): start is then the upper bound. */
  rangeReverse: u32 = 0;
  /** api-v2 requests: append api_version = 2 and keyspace_id = id after the walk (kvrpcpb.Context). */
  setKeyspace: bool = false;
  /** Requests without this field are denied (ResolveLockRequest.keys). 0: none. */
  requireField: u32 = 0;
  /** api-v2 requests without this kvrpcpb.Context field get one appended (api_version = 2, keyspace_id). 0: none. */
  ensureContextField: u32 = 0;
  /** Number of the repeated bucket-key field, if any (collected and rewritten after the walk). */
  bucketField: u32 = 0;
  /** Responses: the varint keyspace-id field that must be present and equal the tenant's id. 0: none. */
  matchField: u32 = 0;
  /**
   * ACT_KEY_UNDER / ACT_END_UNDER: the allowed prefix and its end (nextPrefix), one pair per
   * message, as raw pointers into `under` and `underEnd` (kept alive here).
   */
  private under: ArrayBuffer = new ArrayBuffer(0);
  private underEnd: ArrayBuffer = new ArrayBuffer(0);
  underPtr: usize = 0;
  underLen: usize = 0;
  underEndPtr: usize = 0;
  underEndLen: usize = 0;

  /**
   * kvrpcpb.LockInfo: in responses, each accepted element's lock_version(2) and key(3) are
   * noted in the tenant's lock ledger (locks/ledger.ts), the keys a keyless lock request may
   * later be turned into (proto/keyless.ts).
   */
  recordLock: bool = false;
  /**
   * A request that TiKV executes over a whole region when its keys field is empty
   * (KEYLESS_RESOLVE: ResolveLockRequest.keys(5); KEYLESS_PESSIMISTIC:
   * PessimisticRollbackRequest.keys(4)): such a request is rewritten by proto/keyless.ts.
   */
  keylessLock: u8 = KEYLESS_NONE;
  /**
   * etcd RangeRequest: a single-key read of exactly "/tidb/store/gcworker/saved_safe_point"
   * reads the platform's (un-namespaced) key (keyspace/etcd.ts SHARED_READ_KEY).
   */
  etcdSharedRead: bool = false;

  name: string;
  constructor(name: string) { this.name = name; }

  /** PLAN_* bits, 0 until plan() ran (on the first walk, when the builder is done). */
  planBits: u8 = 0;
  /** PLAN_CONTEXT: bit n set for each keyspace field number n. */
  keyspaceMask: u64 = 0;

  /** Computes planBits and keyspaceMask from the rules; returns planBits. */
  plan(): u8 {
    let bits = PLAN_READY;
    if (this.kind == KIND_INHERIT && this.keylessLock == KEYLESS_NONE && this.rangeKind == RANGE_NONE &&
        this.rangeReverse == 0 && this.bucketField == 0 && this.requireField == 0 && this.matchField == 0 &&
        !this.recordLock && !this.setKeyspace && this.ensureContextField == 0) {
      bits |= PLAN_PLAIN;
    }
    if ((bits & PLAN_PLAIN) == 0 && this.keylessLock == KEYLESS_NONE && this.rangeKind == RANGE_NONE &&
        this.rangeReverse == 0 && this.bucketField == 0 && this.requireField == 0 && this.matchField == 0 &&
        !this.recordLock && !this.setKeyspace) {
      bits |= PLAN_ENSURE_CONTEXT;
    }
    let onlyKeyspace = this.count > 0 && this.setKeyspace && !this.strict && !this.hasLarge;
    let mask: u64 = 0;
    for (let i = 0; i < this.count && onlyKeyspace; i++) {
      const num = load<u32>(this.numsPtr + (<usize>i << 2));
      if (this.actAt(i) != ACT_KEYSPACE_FIELD || num >= 64) onlyKeyspace = false;
      else mask |= (<u64>1) << <u64>num;
    }
    if (onlyKeyspace && this.kind == KIND_INHERIT && this.keylessLock == KEYLESS_NONE && this.rangeKind == RANGE_NONE &&
        this.bucketField == 0 && this.requireField == 0 && this.matchField == 0 && !this.recordLock &&
        this.ensureContextField == 0) {
      bits |= PLAN_CONTEXT;
      this.keyspaceMask = mask;
    }
    if (this.count == 2 && this.rangeKind == RANGE_RAW && this.rangeReverse == 0 && !this.strict && !this.hasLarge &&
        this.kind == KIND_INHERIT && this.keylessLock == KEYLESS_NONE && this.bucketField == 0 && this.requireField == 0 &&
        this.matchField == 0 && !this.recordLock && !this.setKeyspace && this.ensureContextField == 0) {
      bits |= PLAN_RAW_RANGE;
    }
    this.planBits = bits;
    return bits;
  }

  /** True when some rule has a field number of 64 or more (looked up in the rule tables). */
  hasLarge: bool = false;

  /** The child table of the first ACT_MSG rule on field `num`, or null. */
  childFor(num: u32): MessageDesc | null {
    for (let i = 0; i < this.count; i++) {
      if (load<u32>(this.numsPtr + (<usize>i << 2)) == num && this.actAt(i) == ACT_MSG) return this.children[i];
    }
    return null;
  }

  @inline actAt(i: i32): u8 { return load<u8>(this.actsPtr + <usize>i); }
  @inline flagsAt(i: i32): u8 { return load<u8>(this.flagsPtr + <usize>i); }
  /** Raw pointer of rule i's child (0: none); the object is owned by `children`. */
  @inline childAt(i: i32): usize { return load<usize>(this.childPtr + (<usize>i << alignof<usize>())); }

  private add(num: u32, act: u8, child: MessageDesc | null, flags: u8): MessageDesc {
    if (this.slotPtr == 0) {
      this.slotPtr = changetype<usize>(this.slotArr);
      memory.fill(this.slotPtr, 0, 64 << 2);
    }
    const i = this.count;
    const n = i + 1;
    if (num < 64) {
      const sp = this.slotPtr + (<usize>num << 2);
      if (load<i32>(sp) == 0) store<i32>(sp, n | (<i32>act << 24));
    } else {
      this.hasLarge = true;
    }
    const nums = new StaticArray<u32>(n);
    const acts = new StaticArray<u8>(n);
    const fl = new StaticArray<u8>(n);
    const ch = new StaticArray<usize>(n);
    memory.copy(changetype<usize>(nums), this.numsPtr, <usize>i << 2);
    memory.copy(changetype<usize>(acts), this.actsPtr, <usize>i);
    memory.copy(changetype<usize>(fl), this.flagsPtr, <usize>i);
    memory.copy(changetype<usize>(ch), this.childPtr, <usize>i << alignof<usize>());
    nums[i] = num;
    acts[i] = act;
    fl[i] = flags;
    let cp: usize = 0;
    if (child !== null) cp = changetype<usize>(child);
    ch[i] = cp;
    this.numsArr = nums;
    this.actsArr = acts;
    this.flagsArr = fl;
    this.childArr = ch;
    this.numsPtr = changetype<usize>(nums);
    this.actsPtr = changetype<usize>(acts);
    this.flagsPtr = changetype<usize>(fl);
    this.childPtr = changetype<usize>(ch);
    this.children.push(child);
    this.count = n;
    return this;
  }

  key(num: u32): MessageDesc { return this.add(num, ACT_KEY, null, 0); }
  keyNonEmpty(num: u32): MessageDesc { return this.add(num, ACT_KEY_NONEMPTY, null, 0); }
  /** A repeated key whose foreign entries are dropped from responses. */
  keyFiltered(num: u32): MessageDesc { return this.add(num, ACT_KEY, null, FLAG_FILTER); }
  msg(num: u32, child: MessageDesc): MessageDesc { return this.add(num, ACT_MSG, child, 0); }
  /** An embedded (usually repeated) message whose elements outside the keyspace are dropped. */
  msgFiltered(num: u32, child: MessageDesc): MessageDesc { return this.add(num, ACT_MSG, child, FLAG_FILTER); }
  keyspaceField(num: u32): MessageDesc { return this.add(num, ACT_KEYSPACE_FIELD, null, 0); }
  deny(num: u32): MessageDesc { return this.add(num, ACT_DENY, null, 0); }
  regionKey(num: u32): MessageDesc { return this.add(num, ACT_REGION_KEY, null, 0); }
  keyspaceId(num: u32): MessageDesc { return this.add(num, ACT_KEYSPACE_ID, null, 0); }
  apiV2Only(num: u32, child: MessageDesc): MessageDesc { return this.add(num, ACT_API_V2_ONLY, child, 0); }

  range(kind: u8, start: u32, end: u32, reverse: u32 = 0): MessageDesc {
    this.rangeKind = kind;
    this.rangeStart = start;
    this.rangeEnd = end;
    this.rangeReverse = reverse;
    this.add(start, ACT_RANGE_START, null, 0);
    return this.add(end, ACT_RANGE_END, null, 0);
  }
  buckets(num: u32): MessageDesc {
    this.bucketField = num;
    return this.add(num, ACT_BUCKET_KEY, null, 0);
  }
  /**
   * Responses: this message belongs to the tenant only if varint field `num` is present and
   * equals the tenant's keyspace id (GCSafePointV2.keyspace_id, KeyspaceMeta.id). Otherwise
   * the walk returns ERR_OUT_OF_KEYSPACE: a msgFiltered parent drops the element, any other
   * parent fails the response. Requests copy the field unchanged.
   */
  keyspaceIdFilter(num: u32): MessageDesc {
    this.matchField = num;
    return this.add(num, ACT_KEYSPACE_MATCH, null, 0);
  }
  /**
   * Rule ACT_KEY_UNDER on bytes field `num`: it must start with `prefix` (non-empty, not all
   * 0xFF), and requests must carry it. A message has one allowed prefix: the last one given
   * wins for all its rules.
   */
  keyUnder(num: u32, prefix: string): MessageDesc {
    this.setUnder(prefix);
    // An absent key is the empty key, which is outside every prefix: a request without the
    // field is refused too (walkFields, requireField).
    if (this.requireField == 0) this.requireField = num;
    return this.add(num, ACT_KEY_UNDER, null, 0);
  }
  /** Rule ACT_END_UNDER on bytes field `num` (a range_end), with the same prefix as keyUnder. */
  endUnder(num: u32, prefix: string): MessageDesc {
    this.setUnder(prefix);
    return this.add(num, ACT_END_UNDER, null, 0);
  }
  private setUnder(prefix: string): void {
    const p = String.UTF8.encode(prefix);
    const n = p.byteLength;
    // The end of the prefix: the prefix with its last byte below 0xFF incremented and the
    // bytes after it dropped. The tables only use ASCII prefixes, so the last byte is the one.
    let cut = n;
    while (cut > 0 && load<u8>(changetype<usize>(p) + <usize>(cut - 1)) == 0xff) cut--;
    const e = new ArrayBuffer(cut);
    memory.copy(changetype<usize>(e), changetype<usize>(p), <usize>cut);
    if (cut > 0) store<u8>(changetype<usize>(e) + <usize>(cut - 1), load<u8>(changetype<usize>(e) + <usize>(cut - 1)) + 1);
    this.under = p;
    this.underEnd = e;
    this.underPtr = changetype<usize>(p);
    this.underLen = <usize>n;
    this.underEndPtr = changetype<usize>(e);
    this.underEndLen = <usize>cut;
  }
  scopedId(num: u32): MessageDesc { return this.add(num, ACT_SCOPED_ID, null, 0); }
  carryZero(num: u32): MessageDesc { return this.add(num, ACT_CARRY_ZERO, null, 0); }
  clampCarried(num: u32): MessageDesc { return this.add(num, ACT_CLAMP_CARRIED, null, 0); }
  recordsLocks(): MessageDesc { this.recordLock = true; return this; }
  keyless(kind: u8): MessageDesc { this.keylessLock = kind; return this; }
  sharedRead(): MessageDesc { this.etcdSharedRead = true; return this; }
  withKind(kind: u8): MessageDesc { this.kind = kind; return this; }
  strictOneof(): MessageDesc { this.strict = true; return this; }
  keyspaceContext(): MessageDesc { this.setKeyspace = true; return this; }
  require(num: u32): MessageDesc { this.requireField = num; return this; }
  /** Like client-go's codecV2, which always sets a Context: an absent one is added. */
  ensureContext(num: u32): MessageDesc { this.ensureContextField = num; return this; }
}
