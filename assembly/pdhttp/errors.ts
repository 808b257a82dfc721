// Status values of the PD-HTTP rewriters and what each becomes for the caller: an HTTP status,
// a message (the JSON body's "error", after "tidb-mesh: ") and a metric reason. Nothing here
// throws: parsers return one of these, and `fail` records the detail for the message.

export const PH_OK: i32 = 0;
/** A malformed %-escape or a raw control/non-ASCII byte in the URL. */
export const PH_BAD_ESCAPE: i32 = 1;
/** A key that is not valid hex or not a valid memcomparable key. */
export const PH_BAD_KEY: i32 = 2;
/** The body is not exactly one well-formed JSON value. */
export const PH_BAD_JSON: i32 = 3;
/** A field the filter rewrites is missing, has the wrong type, or its member name is escaped. */
export const PH_BAD_FIELD: i32 = 4;
/** A query string the filter cannot read the way PD would. */
export const PH_BAD_QUERY: i32 = 5;
/** A request shape that would reach other tenants (e.g. a placement bundle for group tiflash). */
export const PH_DENIED: i32 = 6;
/** A response key outside the tenant's keyspace, or a single entry of another tenant. */
export const PH_RESP_OUT_OF_KEYSPACE: i32 = 7;
/** A response body that is not the JSON shape the route expects. */
export const PH_RESP_MALFORMED: i32 = 8;
/** Internal: the current array element belongs to another tenant and is dropped. */
export const PH_DROP: i32 = 9;
/** A body larger than maxMessageBytes. */
export const PH_TOO_LARGE: i32 = 10;
/** A compressed response on a route whose response is rewritten. */
export const PH_COMPRESSED: i32 = 11;

let detail: string = "";

/** Records why `status` happened (shown in the error message) and returns `status`. */
export function fail(status: i32, why: string): i32 {
  detail = why;
  return status;
}

/** The detail of the last `fail`. */
export function lastDetail(): string { return detail; }

/** HTTP status a caller gets for a rewriter status. */
export function httpStatusFor(status: i32): i32 {
  switch (status) {
    case PH_BAD_ESCAPE:
    case PH_BAD_KEY:
    case PH_BAD_JSON:
    case PH_BAD_FIELD:
    case PH_BAD_QUERY: return 400;
    case PH_DENIED: return 403;
    case PH_TOO_LARGE: return 413;
  }
  return 502;
}

/** Metric reason (calls_denied.<reason> / frames_rejected.<reason>). */
export function reasonFor(status: i32): string {
  switch (status) {
    case PH_DENIED: return "denied_route";
    case PH_TOO_LARGE: return "oversize";
    case PH_RESP_OUT_OF_KEYSPACE: return "out_of_keyspace";
    case PH_COMPRESSED: return "compressed";
  }
  return "malformed";
}

/** The message for a status: "malformed request: <detail>" and the like (never key bytes). */
export function messageFor(status: i32, request: bool): string {
  const d = detail;
  switch (status) {
    case PH_DENIED: return d;
    case PH_TOO_LARGE: return direction(request) + " body larger than maxMessageBytes";
    case PH_RESP_OUT_OF_KEYSPACE: return "response " + d;
    case PH_COMPRESSED: return "compressed PD HTTP response on a rewritten route";
  }
  return "malformed " + direction(request) + ": " + d;
}

// Why no `c ? "a" : "b"` with strings in this module: AssemblyScript 0.14 miscounts references
// in conditional expressions of managed types (a parameter or local returned through one
// branch is released once too often), which corrupts the heap.
function direction(request: bool): string {
  if (request) return "request";
  return "response";
}

/** A JSON string literal of `s` (quotes, backslashes and control characters escaped). */
export function jsonQuote(s: string): string {
  let out = "\"";
  const hex = "0123456789abcdef";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c == 0x22) out += "\\\"";
    else if (c == 0x5c) out += "\\\\";
    else if (c < 0x20 || c == 0x7f) out += "\\u00" + hex.charAt((c >> 4) & 15) + hex.charAt(c & 15);
    else out += String.fromCharCode(c);
  }
  return out + "\"";
}

/** The JSON body of every refusal: {"error":"tidb-mesh: <message>"}. */
export function errorBody(message: string): string {
  return "{\"error\":" + jsonQuote("tidb-mesh: " + message) + "}";
}
