// URL pieces of PD's HTTP API: percent-decoding and Go-compatible escaping of raw key bytes,
// and a query string split into parameters. Pure; works on strings whose characters are bytes
// (the :path header is ASCII on the wire: a byte >= 0x80 or a control character is refused).
import { Writer } from "../proto/writer";
import { PH_OK, fail, PH_BAD_ESCAPE, PH_BAD_QUERY } from "./errors";

const HEX_UPPER = "0123456789ABCDEF";

/** Value of a hex digit, or -1. */
export function hexVal(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/**
 * Appends the bytes of `s` with %XX escapes decoded (and '+' as a space when `plusIsSpace`,
 * Go's url.QueryUnescape) to `out`. Returns PH_OK, or PH_BAD_ESCAPE for a truncated or
 * non-hex escape or a character outside printable ASCII (Go refuses the first; the second
 * never comes from Go's escaping).
 */
export function percentDecode(s: string, plusIsSpace: bool, out: Writer): i32 {
  const n = s.length;
  let i = 0;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c == 0x25) {
      if (i + 2 >= n) return fail(PH_BAD_ESCAPE, "truncated %-escape in a key");
      const h = hexVal(s.charCodeAt(i + 1)), l = hexVal(s.charCodeAt(i + 2));
      if (h < 0 || l < 0) return fail(PH_BAD_ESCAPE, "malformed %-escape in a key");
      out.byte(<u8>((h << 4) | l));
      i += 3;
      continue;
    }
    if (c <= 0x20 || c >= 0x7f) return fail(PH_BAD_ESCAPE, "unescaped control or non-ASCII character in the URL");
    if (c == 0x2b && plusIsSpace) out.byte(0x20);
    else out.byte(<u8>c);
    i++;
  }
  return PH_OK;
}

/**
 * Go's url.QueryEscape of [p, p+n): [A-Za-z0-9-_.~] stay, a space becomes '+', every other
 * byte %XX (upper-case hex). The PD client builds every key parameter this way
 * (pd/client/http/api.go RegionByKey, RegionsByKeyRange, RegionStatsByKeyRange via
 * KeyRange.EscapeAsUTF8Str), and PD decodes with url.QueryUnescape / r.URL.Query().
 */
export function queryEscape(p: usize, n: usize): string {
  let out = "";
  for (let i: usize = 0; i < n; i++) {
    const c = <i32>load<u8>(p + i);
    if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) ||
        c == 0x2d || c == 0x5f || c == 0x2e || c == 0x7e) {
      out += String.fromCharCode(c);
    } else if (c == 0x20) {
      out += "+";
    } else {
      out += "%" + HEX_UPPER.charAt(c >> 4) + HEX_UPPER.charAt(c & 15);
    }
  }
  return out;
}

/** One `name=value` pair of a query string, raw (still escaped) and with the decoded name. */
export class QueryParam {
  rawName: string;
  rawValue: string;
  /** The name after percent-decoding (Go compares decoded names). */
  name: string;
  /** `name` alone, without '=' (Go: value ""). */
  bare: bool;
  constructor(rawName: string, rawValue: string, name: string, bare: bool) {
    this.rawName = rawName;
    this.rawValue = rawValue;
    this.name = name;
    this.bare = bare;
  }
  /** The pair as it goes back on the wire. */
  toString(): string {
    if (this.bare) return this.rawName;
    return this.rawName + "=" + this.rawValue;
  }
}

/**
 * Splits a raw query string (without '?') on '&' into `params`. Returns PH_OK or PH_BAD_QUERY:
 * a ';' anywhere (Go >= 1.17 drops such pairs silently, so the filter and PD could read
 * different parameters), or a name that does not decode.
 */
export function parseQuery(q: string, params: Array<QueryParam>): i32 {
  if (q.length == 0) return PH_OK;
  if (q.indexOf(";") >= 0) return fail(PH_BAD_QUERY, "';' in the query string");
  const parts = q.split("&");
  const w = new Writer(64);
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (part.length == 0) continue;
    const eq = part.indexOf("=");
    let rawName = part, rawValue = "";
    if (eq >= 0) {
      rawName = part.substring(0, eq);
      rawValue = part.substring(eq + 1);
    }
    w.reset();
    if (percentDecode(rawName, true, w) != PH_OK) { w.free(); return fail(PH_BAD_QUERY, "malformed query parameter name"); }
    const name = String.UTF8.decodeUnsafe(w.ptr, w.len);
    params.push(new QueryParam(rawName, rawValue, name, eq < 0));
  }
  w.free();
  return PH_OK;
}

/** The first parameter named `name`, or null. */
export function findParam(params: Array<QueryParam>, name: string): QueryParam | null {
  for (let i = 0; i < params.length; i++) if (params[i].name == name) return params[i];
  return null;
}

/** The query string (without '?') of `params`, in order. */
export function joinQuery(params: Array<QueryParam>): string {
  let s = "";
  for (let i = 0; i < params.length; i++) {
    if (i > 0) s += "&";
    s += params[i].toString();
  }
  return s;
}
