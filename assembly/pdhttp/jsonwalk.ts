// A JSON scanner that copies a body byte for byte and rewrites only the string values of the
// members a Shape names (shapes.ts): ids get or lose the tenant's scope, hex keys get or lose
// the keyspace prefix. No DOM: one pass over the bytes into a Writer (plus a look-ahead for the
// owner id of a filtered array element). It validates the whole document (RFC 8259 grammar;
// UTF-8 inside strings is not checked) and never throws: every problem is a status (errors.ts).
//
// Requests are read the way Go's encoding/json reads them into PD's structs: member names match
// case-insensitively (and Unicode-folded, e.g. "ſ" for "s"), so a shaped object whose member
// name is escaped or not plain ASCII is refused, and every ASCII case variant of a rewritten
// member is rewritten. Responses come from PD's encoder: exact names.
import { Writer } from "../proto/writer";
import { Keyspace } from "../keyspace/keyspace";
import {
  PH_OK, PH_BAD_JSON, PH_BAD_FIELD, PH_BAD_KEY, PH_DENIED, PH_DROP, PH_RESP_MALFORMED, PH_RESP_OUT_OF_KEYSPACE, fail,
} from "./errors";
import {
  Shape, SH_OBJECT, K_COPY, K_SUB, K_LABEL_ID, K_PL_GROUP, K_PL_BUNDLE_GROUP, K_PL_RULE_ID, K_KEY_START, K_KEY_END,
  K_REGION_START, K_REGION_END, K_COUNT,
} from "./shapes";
import { labelScope, placementScope, SHARED_GROUP } from "./scope";
import { prefixRegionKey, stripStrictKey, clampRegionKey, hexDecode, hexEncode } from "./keys";

const MAX_DEPTH: i32 = 64;

function bytesOf(s: string): ArrayBuffer { return String.UTF8.encode(s); }

export class JsonWalk {
  private p: usize = 0;
  private n: usize = 0;
  private i: usize = 0;
  private out: Writer;
  private request: bool;
  private ks: Keyspace;
  private label: ArrayBuffer;
  private place: ArrayBuffer;
  private shared: ArrayBuffer;
  private keyA: Writer = new Writer(128);
  private keyB: Writer = new Writer(128);
  // The last string scanned: content [sStart, sEnd), whether it had escapes or non-ASCII bytes.
  private sStart: usize = 0;
  private sEnd: usize = 0;
  private sEscaped: bool = false;
  private sNonAscii: bool = false;
  /** Entries dropped by the last filtered array walked. */
  private lastDropped: i32 = 0;
  /** Keys and ids rewritten, entries filtered (metrics). */
  keys: i32 = 0;
  filtered: i32 = 0;

  /** `out` receives the rewritten document; `request` selects the direction. */
  constructor(ks: Keyspace, request: bool, out: Writer) {
    this.ks = ks;
    this.request = request;
    this.out = out;
    this.label = bytesOf(labelScope(ks));
    this.place = bytesOf(placementScope(ks));
    this.shared = bytesOf(SHARED_GROUP);
  }

  /** Frees the scratch writers (the output Writer belongs to the caller). */
  dispose(): void { this.keyA.free(); this.keyB.free(); }

  /**
   * Rewrites the document [p, p+n), which must be exactly one value of `kind`/`shape` with
   * optional whitespace around it. Returns PH_OK or a status; a top-level entry that is not
   * the tenant's becomes PH_RESP_OUT_OF_KEYSPACE.
   */
  run(p: usize, n: usize, kind: i32, shape: Shape | null): i32 {
    this.p = p;
    this.n = n;
    this.i = 0;
    this.ws();
    if (this.i >= n) return this.syntax("empty body");
    let st = this.value(kind, shape, 0, "body");
    if (st == PH_DROP) return fail(PH_RESP_OUT_OF_KEYSPACE, "entry of another tenant or outside the tenant keyspace");
    if (st != PH_OK) return st;
    this.ws();
    if (this.i != n) return this.syntax("trailing characters after the JSON value");
    return PH_OK;
  }

  private syntax(why: string): i32 {
    return fail(this.request ? PH_BAD_JSON : PH_RESP_MALFORMED, "invalid JSON (" + why + " at offset " + this.i.toString() + ")");
  }

  private wrongType(name: string, what: string): i32 {
    return fail(this.request ? PH_BAD_FIELD : PH_RESP_MALFORMED, "\"" + name + "\" must be " + what);
  }

  @inline private peek(): i32 { return this.i < this.n ? <i32>load<u8>(this.p + this.i) : -1; }

  /** Copies whitespace. */
  private ws(): void {
    const start = this.i;
    while (this.i < this.n) {
      const c = load<u8>(this.p + this.i);
      if (c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d) this.i++;
      else break;
    }
    if (this.i > start) this.out.bytes(this.p + start, this.i - start);
  }

  /** Skips whitespace without copying (look-ahead). */
  private skipWs(): void {
    while (this.i < this.n) {
      const c = load<u8>(this.p + this.i);
      if (c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d) this.i++;
      else break;
    }
  }

  private value(kind: i32, shape: Shape | null, depth: i32, name: string): i32 {
    if (depth > MAX_DEPTH) return this.syntax("nesting too deep");
    const c = this.peek();
    if (c < 0) return this.syntax("unexpected end");
    if (kind == K_COPY) return this.any(depth, true);
    if (kind == K_SUB) {
      if (c == 0x6e) return this.literal("null", true);
      const sh = shape as Shape;
      if (sh.kind == SH_OBJECT) {
        if (c != 0x7b) return this.wrongType(name, "an object");
        return this.object(sh, depth);
      }
      if (c != 0x5b) return this.wrongType(name, "an array");
      return this.array(sh, depth);
    }
    if (kind == K_COUNT) {
      if (c != 0x2d && (c < 0x30 || c > 0x39)) return this.wrongType(name, "a number");
      return this.number(true);
    }
    if (c != 0x22) return this.wrongType(name, "a string");
    const start = this.i;
    const st = this.string(false);
    if (st != PH_OK) return st;
    return this.stringMember(kind, name, start);
  }

  /** Emits the rewritten string value whose raw bytes (with quotes) start at `raw`. */
  private stringMember(kind: i32, name: string, raw: usize): i32 {
    const s = this.p + this.sStart, sn = this.sEnd - this.sStart;
    const out = this.out;
    if (kind == K_LABEL_ID || kind == K_PL_RULE_ID || kind == K_PL_GROUP || kind == K_PL_BUNDLE_GROUP) {
      const scope = this.scopeOf(kind);
      const isShared = (kind == K_PL_GROUP || kind == K_PL_BUNDLE_GROUP) && sameBytes(s, sn, this.shared);
      if (this.request) {
        if (isShared) {
          if (kind == K_PL_BUNDLE_GROUP) {
            return fail(PH_DENIED, "a placement bundle for group \"tiflash\" would replace every tenant's TiFlash rules");
          }
          out.bytes(this.p + raw, this.i - raw);
          return PH_OK;
        }
        out.byte(0x22);
        out.bytes(changetype<usize>(scope), <usize>scope.byteLength);
        out.bytes(s, sn);
        out.byte(0x22);
        this.keys++;
        return PH_OK;
      }
      if (isShared) { out.bytes(this.p + raw, this.i - raw); return PH_OK; }
      const m = <usize>scope.byteLength;
      if (sn < m || memory.compare(s, changetype<usize>(scope), m) != 0) return PH_DROP;
      out.byte(0x22);
      out.bytes(s + m, sn - m);
      out.byte(0x22);
      this.keys++;
      return PH_OK;
    }
    // Hex keys.
    if (this.sEscaped || this.sNonAscii) {
      return fail(this.request ? PH_BAD_KEY : PH_RESP_MALFORMED, "\"" + name + "\" must be a plain hex string");
    }
    const a = this.keyA, b = this.keyB;
    a.reset();
    b.reset();
    if (hexDecode(s, sn, a) != PH_OK) {
      return fail(this.request ? PH_BAD_KEY : PH_RESP_MALFORMED, "\"" + name + "\" is not a hex key");
    }
    const isEnd = kind == K_KEY_END || kind == K_REGION_END;
    let st: i32;
    if (kind == K_KEY_START || kind == K_KEY_END) {
      st = this.request ? prefixRegionKey(this.ks, a.ptr, a.len, isEnd, b) : stripStrictKey(this.ks, a.ptr, a.len, isEnd, b);
    } else {
      if (this.request) return fail(PH_BAD_FIELD, "region keys are not accepted in requests");
      st = clampRegionKey(this.ks, a.ptr, a.len, isEnd, b);
    }
    if (st != PH_OK) return st;
    out.byte(0x22);
    hexEncode(b.ptr, b.len, kind == K_REGION_START || kind == K_REGION_END, out);
    out.byte(0x22);
    this.keys++;
    return PH_OK;
  }

  private object(sh: Shape, depth: i32): i32 {
    const out = this.out;
    out.byte(0x7b);
    this.i++;
    const nf = sh.names.length;
    const seen = new Array<bool>(nf);
    for (let f = 0; f < nf; f++) seen[f] = false;
    let dropped = false;
    let countStart: isize = -1, countEnd: isize = -1;
    let droppedInCounted = 0;
    this.ws();
    if (this.peek() == 0x7d) {
      out.byte(0x7d);
      this.i++;
    } else {
      while (true) {
        this.ws();
        if (this.peek() != 0x22) return this.syntax("expected a member name");
        const st0 = this.string(true);
        if (st0 != PH_OK) return st0;
        const ns = this.p + this.sStart, nn = this.sEnd - this.sStart;
        const escaped = this.sEscaped || this.sNonAscii;
        this.ws();
        if (this.peek() != 0x3a) return this.syntax("expected ':'");
        out.byte(0x3a);
        this.i++;
        this.ws();
        let f = -1;
        for (let k = 0; k < nf; k++) {
          if (this.request ? foldEquals(ns, nn, sh.names[k]) : exactEquals(ns, nn, sh.names[k])) { f = k; break; }
        }
        if (f < 0 && this.request && escaped && nf > 0) {
          // Go would unescape/fold the name and might match a member the filter rewrites.
          return fail(PH_BAD_FIELD, "member names must be plain ASCII without escapes");
        }
        let st: i32;
        if (f < 0) {
          st = this.any(depth + 1, true);
        } else {
          seen[f] = true;
          const kind = sh.kinds[f];
          if (kind == K_COUNT) countStart = <isize>out.len;
          st = this.value(kind, sh.subs[f], depth + 1, sh.names[f]);
          if (kind == K_COUNT) countEnd = <isize>out.len;
          if (sh.names[f] == sh.countOf) droppedInCounted += this.lastDropped;
        }
        if (st == PH_DROP) dropped = true;
        else if (st != PH_OK) return st;
        this.ws();
        const c = this.peek();
        if (c == 0x2c) { out.byte(0x2c); this.i++; continue; }
        if (c == 0x7d) { out.byte(0x7d); this.i++; break; }
        return this.syntax("expected ',' or '}'");
      }
    }
    if (this.request) {
      for (let f = 0; f < nf; f++) {
        if (sh.required[f] && !seen[f]) return fail(PH_BAD_FIELD, "missing member \"" + sh.names[f] + "\"");
      }
    }
    if (countStart >= 0 && droppedInCounted > 0) this.patchCount(<usize>countStart, <usize>countEnd, droppedInCounted);
    return dropped ? PH_DROP : PH_OK;
  }

  /** Replaces the integer at out[start, end) by itself minus `minus` (left alone if not a plain integer). */
  private patchCount(start: usize, end: usize, minus: i32): void {
    const out = this.out;
    let v: i64 = 0;
    for (let k = start; k < end; k++) {
      const c = <i32>load<u8>(out.ptr + k);
      if (c < 0x30 || c > 0x39 || v > 1000000000000) return;
      v = v * 10 + <i64>(c - 0x30);
    }
    v -= <i64>minus;
    if (v < 0) v = 0;
    const digits = String.UTF8.encode(v.toString());
    const dn = <usize>digits.byteLength;
    const tail = out.len - end;
    if (dn > end - start) out.ensure(dn - (end - start));
    memory.copy(out.ptr + start + dn, out.ptr + end, tail);
    memory.copy(out.ptr + start, changetype<usize>(digits), dn);
    out.len = start + dn + tail;
  }

  private array(sh: Shape, depth: i32): i32 {
    const out = this.out;
    out.byte(0x5b);
    this.i++;
    let kept = 0, dropped = 0;
    this.ws();
    if (this.peek() == 0x5d) {
      out.byte(0x5d);
      this.i++;
      this.lastDropped = 0;
      return PH_OK;
    }
    while (true) {
      const mark = out.len;
      if (kept > 0) out.byte(0x2c);
      this.ws();
      let st: i32;
      const elem = sh.elem;
      if (sh.filtered && !this.request && elem !== null && (elem as Shape).idName.length > 0 && this.foreign(elem as Shape)) {
        st = this.any(depth + 1, false);
        if (st == PH_OK) st = PH_DROP;
      } else {
        st = this.value(sh.elemKind, elem, depth + 1, "element");
      }
      this.ws();
      if (st == PH_DROP) {
        if (!sh.filtered) return PH_DROP;
        out.truncate(mark);
        dropped++;
      } else if (st != PH_OK) {
        return st;
      } else {
        kept++;
      }
      const c = this.peek();
      if (c == 0x2c) { this.i++; continue; }
      if (c == 0x5d) { out.byte(0x5d); this.i++; break; }
      return this.syntax("expected ',' or ']'");
    }
    this.lastDropped = dropped;
    this.filtered += dropped;
    return PH_OK;
  }

  /**
   * Look-ahead: true when the object at the cursor names an owner (sh.idName) that is not the
   * tenant's, or names none. The cursor is restored; a malformed object is not foreign here, so
   * the walk that follows reports it.
   */
  private foreign(sh: Shape): bool {
    const save = this.i;
    // -1 malformed, 0 no owner member, 1 the tenant's, 2 another owner.
    let owner = -1;
    if (this.peek() == 0x7b) {
      this.i++;
      this.skipWs();
      if (this.peek() == 0x7d) owner = 0;
      else {
        while (true) {
          this.skipWs();
          if (this.peek() != 0x22 || this.string(false) != PH_OK) break;
          const ns = this.p + this.sStart, nn = this.sEnd - this.sStart;
          this.skipWs();
          if (this.peek() != 0x3a) break;
          this.i++;
          this.skipWs();
          if (exactEquals(ns, nn, sh.idName) && this.peek() == 0x22) {
            if (this.string(false) != PH_OK) break;
            owner = this.owned(sh.idKind, this.p + this.sStart, this.sEnd - this.sStart) ? 1 : 2;
            break;
          }
          if (this.any(MAX_DEPTH - 8, false) != PH_OK) break;
          this.skipWs();
          const c = this.peek();
          if (c == 0x2c) { this.i++; continue; }
          if (c == 0x7d) owner = 0;
          break;
        }
      }
    }
    this.i = save;
    return owner == 0 || owner == 2;
  }

  /** The scope bytes of an id kind (no conditional expression: see errors.ts direction()). */
  private scopeOf(kind: i32): ArrayBuffer {
    if (kind == K_LABEL_ID) return this.label;
    return this.place;
  }

  /** Whether an id of `kind` (raw string content) belongs to the tenant. */
  private owned(kind: i32, s: usize, sn: usize): bool {
    if (kind == K_PL_GROUP && sameBytes(s, sn, this.shared)) return true;
    const scope = this.scopeOf(kind);
    const m = <usize>scope.byteLength;
    return sn >= m && memory.compare(s, changetype<usize>(scope), m) == 0;
  }

  /** Any value; copied when `emit`. */
  private any(depth: i32, emit: bool): i32 {
    if (depth > MAX_DEPTH) return this.syntax("nesting too deep");
    const c = this.peek();
    if (c == 0x22) {
      const start = this.i;
      const st = this.string(false);
      if (st != PH_OK) return st;
      if (emit) this.out.bytes(this.p + start, this.i - start);
      return PH_OK;
    }
    if (c == 0x7b || c == 0x5b) {
      const close = c == 0x7b ? 0x7d : 0x5d;
      if (emit) this.out.byte(<u8>c);
      this.i++;
      this.wsMaybe(emit);
      if (this.peek() == close) { if (emit) this.out.byte(<u8>close); this.i++; return PH_OK; }
      while (true) {
        this.wsMaybe(emit);
        if (c == 0x7b) {
          if (this.peek() != 0x22) return this.syntax("expected a member name");
          const st = this.string(emit);
          if (st != PH_OK) return st;
          this.wsMaybe(emit);
          if (this.peek() != 0x3a) return this.syntax("expected ':'");
          if (emit) this.out.byte(0x3a);
          this.i++;
          this.wsMaybe(emit);
        }
        const st = this.any(depth + 1, emit);
        if (st != PH_OK) return st;
        this.wsMaybe(emit);
        const d = this.peek();
        if (d == 0x2c) { if (emit) this.out.byte(0x2c); this.i++; continue; }
        if (d == close) { if (emit) this.out.byte(<u8>close); this.i++; return PH_OK; }
        if (c == 0x7b) return this.syntax("expected ',' or '}'");
        return this.syntax("expected ',' or ']'");
      }
    }
    if (c == 0x74) return this.literal("true", emit);
    if (c == 0x66) return this.literal("false", emit);
    if (c == 0x6e) return this.literal("null", emit);
    if (c == 0x2d || (c >= 0x30 && c <= 0x39)) return this.number(emit);
    return this.syntax("unexpected character");
  }

  private wsMaybe(emit: bool): void {
    if (emit) this.ws();
    else this.skipWs();
  }

  private literal(word: string, emit: bool): i32 {
    const len = <usize>word.length;
    if (this.i + len > this.n) return this.syntax("truncated literal");
    for (let k: usize = 0; k < len; k++) {
      if (<i32>load<u8>(this.p + this.i + k) != word.charCodeAt(<i32>k)) return this.syntax("unexpected character");
    }
    if (emit) this.out.bytes(this.p + this.i, len);
    this.i += len;
    return PH_OK;
  }

  /** -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
  private number(emit: bool): i32 {
    const start = this.i;
    if (this.peek() == 0x2d) this.i++;
    let c = this.peek();
    if (c == 0x30) this.i++;
    else if (c >= 0x31 && c <= 0x39) { while (isDigit(this.peek())) this.i++; }
    else return this.syntax("malformed number");
    if (this.peek() == 0x2e) {
      this.i++;
      if (!isDigit(this.peek())) return this.syntax("malformed number");
      while (isDigit(this.peek())) this.i++;
    }
    c = this.peek();
    if (c == 0x65 || c == 0x45) {
      this.i++;
      c = this.peek();
      if (c == 0x2b || c == 0x2d) this.i++;
      if (!isDigit(this.peek())) return this.syntax("malformed number");
      while (isDigit(this.peek())) this.i++;
    }
    if (emit) this.out.bytes(this.p + start, this.i - start);
    return PH_OK;
  }

  /**
   * Scans the string at the cursor ('"'), leaving its content bounds in sStart/sEnd and the
   * cursor after the closing quote; copies it raw when `emit`. Control characters and bad
   * escapes are syntax errors.
   */
  private string(emit: bool): i32 {
    const start = this.i;
    this.i++;
    this.sStart = this.i;
    this.sEscaped = false;
    this.sNonAscii = false;
    while (true) {
      if (this.i >= this.n) return this.syntax("unterminated string");
      const c = <i32>load<u8>(this.p + this.i);
      if (c == 0x22) break;
      if (c < 0x20) return this.syntax("control character in a string");
      if (c >= 0x80) this.sNonAscii = true;
      if (c == 0x5c) {
        this.sEscaped = true;
        if (this.i + 1 >= this.n) return this.syntax("unterminated escape");
        const e = <i32>load<u8>(this.p + this.i + 1);
        if (e == 0x75) {
          if (this.i + 6 > this.n) return this.syntax("truncated \\u escape");
          for (let k: usize = 2; k < 6; k++) {
            const h = <i32>load<u8>(this.p + this.i + k);
            if (!((h >= 0x30 && h <= 0x39) || (h >= 0x61 && h <= 0x66) || (h >= 0x41 && h <= 0x46))) return this.syntax("bad \\u escape");
          }
          this.i += 6;
          continue;
        }
        if (e != 0x22 && e != 0x5c && e != 0x2f && e != 0x62 && e != 0x66 && e != 0x6e && e != 0x72 && e != 0x74) {
          return this.syntax("bad escape");
        }
        this.i += 2;
        continue;
      }
      this.i++;
    }
    this.sEnd = this.i;
    this.i++;
    if (emit) this.out.bytes(this.p + start, this.i - start);
    return PH_OK;
  }
}

@inline function isDigit(c: i32): bool { return c >= 0x30 && c <= 0x39; }

function exactEquals(p: usize, n: usize, name: string): bool {
  if (n != <usize>name.length) return false;
  for (let k: usize = 0; k < n; k++) if (<i32>load<u8>(p + k) != name.charCodeAt(<i32>k)) return false;
  return true;
}

/** ASCII case-insensitive equality (names are ASCII; escaped or non-ASCII names are refused first). */
function foldEquals(p: usize, n: usize, name: string): bool {
  if (n != <usize>name.length) return false;
  for (let k: usize = 0; k < n; k++) {
    let a = <i32>load<u8>(p + k), b = name.charCodeAt(<i32>k);
    if (a >= 0x41 && a <= 0x5a) a += 0x20;
    if (b >= 0x41 && b <= 0x5a) b += 0x20;
    if (a != b) return false;
  }
  return true;
}

function sameBytes(p: usize, n: usize, b: ArrayBuffer): bool {
  return n == <usize>b.byteLength && memory.compare(p, changetype<usize>(b), n) == 0;
}
