// What happens to one PD-HTTP request of one tenant, decided from its method and :path alone
// (planRequest), and the body rewrite (rewriteBody). Pure: the filter (filter/httpcall.ts) and
// the test entry (testing/pdhttp-entry.ts) both call these.
import { Writer } from "../proto/writer";
import { Keyspace } from "../keyspace/keyspace";
import {
  PH_OK, PH_BAD_KEY, fail, httpStatusFor, reasonFor, messageFor, errorBody,
} from "./errors";
import {
  lookupRoute, pathOnly, queryOnly, Route, T_PASS, T_EMULATE_TIFLASH_GROUP, T_DENY, T_STATS_REGION, T_REGION_BY_KEY,
  T_REGIONS_BY_KEY, T_LABEL_RULES_BY_IDS, T_LABEL_RULES_PATCH, T_LABEL_RULE_SET, T_LABEL_RULES_LIST, T_LABEL_RULE_GET,
  T_LABEL_RULE_DELETE, T_BUNDLES_SET, T_BUNDLE_GET, T_RULES_BATCH, T_RULE_SET, T_RULE_DELETE, T_RULES_BY_GROUP,
} from "./routes";
import {
  Shape, K_SUB, LABEL_IDS_REQ, LABEL_RULES_RESP, LABEL_PATCH_REQ, LABEL_RULE_REQ, LABEL_RULE_RESP, BUNDLES_REQ,
  BUNDLE_RESP, RULE_OPS_REQ, RULE_REQ, RULES_RESP, REGION_RESP, REGIONS_RESP,
} from "./shapes";
import { QueryParam, parseQuery, joinQuery, findParam, percentDecode, queryEscape } from "./url";
import { prefixRegionKey, hexDecode, hexEncode } from "./keys";
import { labelScopeEscaped, placementScope, SHARED_GROUP } from "./scope";
import { JsonWalk } from "./jsonwalk";

/**
 * The body PD answers GET /pd/api/v1/config/rule_group/tiflash with once TiDB's own
 * POST .../rule_group created the group (tidb pkg/ddl/ddl_tiflash_api.go PollTiFlashRoutine ->
 * infosync.SetTiFlashGroupConfig: GET, and POST {"id":"tiflash","index":120,"override":false}
 * when it differs). Answering it here means TiDB never sends that cluster-wide POST.
 */
export const TIFLASH_GROUP_BODY = "{\"id\":\"tiflash\",\"index\":120,\"override\":false}";

export class Plan {
  /** 0: forward to PD; otherwise the HTTP status of the local reply in `body`. */
  status: i32 = 0;
  body: string = "";
  /** Metric reason of a refusal (calls_denied.<reason>). */
  reason: string = "";
  /** The route's treatment (routes.ts), -1 when there is no route. */
  treatment: i32 = -1;
  /** The :path to send instead, or null to keep it. */
  path: string | null = null;
  /** The request body is buffered and rewritten with (requestKind, requestShape). */
  rewritesRequest: bool = false;
  requestKind: i32 = K_SUB;
  requestShape: Shape | null = null;
  /** A 200 response body is buffered and rewritten with (responseKind, responseShape). */
  rewritesResponse: bool = false;
  responseKind: i32 = K_SUB;
  responseShape: Shape | null = null;
  /** Keys and ids rewritten in the path or query. */
  keys: i32 = 0;

  /** Forwarded untouched both ways. */
  get passes(): bool { return this.status == 0 && this.path === null && !this.rewritesRequest && !this.rewritesResponse; }
}

function refuse(p: Plan, status: i32, message: string, reason: string): Plan {
  p.status = status;
  p.body = errorBody(message);
  p.reason = reason;
  return p;
}

function refuseStatus(p: Plan, st: i32): Plan {
  return refuse(p, httpStatusFor(st), messageFor(st, true), reasonFor(st));
}

/** The path for messages: without the query, at most 160 characters. */
function shown(path: string): string {
  const p = pathOnly(path);
  if (p.length > 160) return p.substring(0, 160) + "...";
  return p;
}

/**
 * Decides what happens to `method` `fullPath` (the :path with its query) for the tenant with
 * keyspace `ks`: a local reply (status != 0, e.g. 404 for a route not on the allowlist, 403 for
 * a write that cannot be scoped, 400 for a malformed key, 200 for an emulated answer) or a
 * forward with an optional new :path and body rewrites. Never throws.
 */
export function planRequest(method: string, fullPath: string, ks: Keyspace): Plan {
  const p = new Plan();
  const path = pathOnly(fullPath);
  const query = queryOnly(fullPath);
  const route = lookupRoute(method, path);
  if (route === null) {
    if (method == "GET") {
      return refuse(p, 404, "GET " + shown(path) + " is not on the PD HTTP allowlist (unknown routes are refused)", "unknown_route");
    }
    return refuse(p, 403, method + " " + shown(path) + " is not on the PD HTTP allowlist (writes that cannot be scoped to a tenant are refused)", "denied_route");
  }
  const r = route as Route;
  p.treatment = r.treatment;
  switch (r.treatment) {
    case T_PASS: return p;
    case T_EMULATE_TIFLASH_GROUP: {
      p.status = 200;
      p.body = TIFLASH_GROUP_BODY;
      return p;
    }
    case T_DENY: return refuse(p, 403, method + " " + shown(path) + " is denied: " + r.reason, "denied_route");
    case T_STATS_REGION: return withQueryKeys(p, path, query, "start_key", "end_key", ks);
    case T_REGIONS_BY_KEY: {
      withQueryKeys(p, path, query, "key", "end_key", ks);
      if (p.status == 0) respond(p, K_SUB, REGIONS_RESP);
      return p;
    }
    case T_REGION_BY_KEY: {
      regionKeyPath(p, path, query, ks);
      if (p.status == 0) respond(p, K_SUB, REGION_RESP);
      return p;
    }
    case T_LABEL_RULES_BY_IDS: { send(p, K_SUB, LABEL_IDS_REQ); return respond(p, K_SUB, LABEL_RULES_RESP); }
    case T_LABEL_RULES_PATCH: return send(p, K_SUB, LABEL_PATCH_REQ);
    case T_LABEL_RULE_SET: return send(p, K_SUB, LABEL_RULE_REQ);
    case T_LABEL_RULES_LIST: return respond(p, K_SUB, LABEL_RULES_RESP);
    case T_LABEL_RULE_GET: {
      p.path = replaceLast(path, 1, labelScopeEscaped(ks) + lastSegment(path, 0)) + queryTail(query);
      p.keys++;
      return respond(p, K_SUB, LABEL_RULE_RESP);
    }
    case T_LABEL_RULE_DELETE: {
      p.path = replaceLast(path, 1, labelScopeEscaped(ks) + lastSegment(path, 0)) + queryTail(query);
      p.keys++;
      return p;
    }
    case T_BUNDLES_SET: {
      // PD: `_, partial := r.URL.Query()["partial"]`; without it SetAllGroupBundles(override)
      // deletes every group that is not in the body, i.e. every tenant's rules.
      const params = new Array<QueryParam>();
      const st = parseQuery(query, params);
      if (st != PH_OK) return refuseStatus(p, st);
      if (findParam(params, "partial") === null) {
        return refuse(p, 403, "POST .../config/placement-rule without ?partial=true replaces every placement group of the cluster", "denied_route");
      }
      return send(p, K_SUB, BUNDLES_REQ);
    }
    case T_BUNDLE_GET: {
      const g = lastSegment(path, 0);
      if (g == SHARED_GROUP) {
        return refuse(p, 403, "GET .../placement-rule/tiflash would list every tenant's TiFlash rules; use GET .../config/rules/group/tiflash", "denied_route");
      }
      if (hasEscapedSlash(g)) return refuseStatus(p, fail(PH_BAD_KEY, "escaped '/' in a placement group id"));
      p.path = replaceLast(path, 1, placementScope(ks) + g) + queryTail(query);
      p.keys++;
      return respond(p, K_SUB, BUNDLE_RESP);
    }
    case T_RULES_BATCH: return send(p, K_SUB, RULE_OPS_REQ);
    case T_RULE_SET: return send(p, K_SUB, RULE_REQ);
    case T_RULE_DELETE: {
      const g = lastSegment(path, 1), id = lastSegment(path, 0);
      if (hasEscapedSlash(g) || hasEscapedSlash(id)) return refuseStatus(p, fail(PH_BAD_KEY, "escaped '/' in a placement id"));
      p.path = replaceLast(path, 2, scopeGroup(g, ks) + "/" + placementScope(ks) + id) + queryTail(query);
      p.keys += 2;
      return p;
    }
    case T_RULES_BY_GROUP: {
      const g = lastSegment(path, 0);
      if (hasEscapedSlash(g)) return refuseStatus(p, fail(PH_BAD_KEY, "escaped '/' in a placement group id"));
      p.path = replaceLast(path, 1, scopeGroup(g, ks)) + queryTail(query);
      p.keys++;
      return respond(p, K_SUB, RULES_RESP);
    }
  }
  return refuse(p, 500, "route without a treatment", "internal");
}

function send(p: Plan, kind: i32, shape: Shape): Plan {
  p.rewritesRequest = true;
  p.requestKind = kind;
  p.requestShape = shape;
  return p;
}

function respond(p: Plan, kind: i32, shape: Shape): Plan {
  p.rewritesResponse = true;
  p.responseKind = kind;
  p.responseShape = shape;
  return p;
}

function scopeGroup(g: string, ks: Keyspace): string {
  if (g == SHARED_GROUP) return g;
  return placementScope(ks) + g;
}

function hasEscapedSlash(s: string): bool {
  return s.includes("%2F") || s.includes("%2f") || s.includes("%5C") || s.includes("%5c");
}

/** Segment `fromEnd` counted from the end of the path (0 = last). */
function lastSegment(path: string, fromEnd: i32): string {
  const segs = path.split("/");
  return segs[segs.length - 1 - fromEnd];
}

/** The path with its last `count` segments replaced by `tail`. */
function replaceLast(path: string, count: i32, tail: string): string {
  const segs = path.split("/");
  let s = "";
  for (let i = 0; i < segs.length - count; i++) {
    if (i > 0) s += "/";
    s += segs[i];
  }
  return s + "/" + tail;
}

function queryTail(query: string): string {
  if (query.length > 0) return "?" + query;
  return "";
}

/** A key parameter's raw value rewritten: decode, prefix (empty -> keyspace bound), escape. */
function rewriteKeyValue(raw: string, isEnd: bool, hex: bool, ks: Keyspace, out: Writer): string | null {
  const a = new Writer(64), h = new Writer(64), b = new Writer(64);
  let result: string | null = null;
  let st = percentDecode(raw, true, a);
  let key = a;
  if (st == PH_OK && hex) {
    st = hexDecode(a.ptr, a.len, h);
    key = h;
  }
  if (st == PH_OK) st = prefixRegionKey(ks, key.ptr, key.len, isEnd, b);
  if (st == PH_OK) {
    if (hex) {
      out.reset();
      hexEncode(b.ptr, b.len, false, out);
      result = queryEscape(out.ptr, out.len);
    } else {
      result = queryEscape(b.ptr, b.len);
    }
  }
  a.free();
  h.free();
  b.free();
  return result;
}

/**
 * Rewrites the key parameters `startName` and `endName` of the query (every occurrence; an
 * absent one is added, so PD never sees an unbounded range) and sets p.path.
 */
function withQueryKeys(p: Plan, path: string, query: string, startName: string, endName: string, ks: Keyspace): Plan {
  const params = new Array<QueryParam>();
  let st = parseQuery(query, params);
  if (st != PH_OK) return refuseStatus(p, st);
  const out = new Writer(64);
  let sawStart = false, sawEnd = false;
  for (let i = 0; i < params.length; i++) {
    const q = params[i];
    const isStart = q.name == startName, isEnd = q.name == endName;
    if (!isStart && !isEnd) continue;
    const v = rewriteKeyValue(q.rawValue, isEnd, false, ks, out);
    if (v === null) { out.free(); return refuseStatus(p, PH_BAD_KEY); }
    let canonical = endName;
    if (isStart) canonical = startName;
    params[i] = new QueryParam(canonical, v as string, q.name, false);
    if (isStart) sawStart = true; else sawEnd = true;
    p.keys++;
  }
  if (!sawStart) {
    params.push(new QueryParam(startName, rewriteKeyValue("", false, false, ks, out) as string, startName, false));
    p.keys++;
  }
  if (!sawEnd) {
    params.push(new QueryParam(endName, rewriteKeyValue("", true, false, ks, out) as string, endName, false));
    p.keys++;
  }
  out.free();
  p.path = path + "?" + joinQuery(params);
  return p;
}

/** GET .../region/key/<key>[?format=hex]: the path key (url.QueryUnescape'd by PD) prefixed. */
function regionKeyPath(p: Plan, path: string, query: string, ks: Keyspace): Plan {
  const params = new Array<QueryParam>();
  const st = parseQuery(query, params);
  if (st != PH_OK) return refuseStatus(p, st);
  // server/api/region.go GetRegion: `?format=hex` means the path key is hex text.
  const f = findParam(params, "format");
  let hex = false;
  if (f !== null) {
    const w = new Writer(16);
    if (percentDecode((f as QueryParam).rawValue, true, w) == PH_OK) hex = String.UTF8.decodeUnsafe(w.ptr, w.len) == "hex";
    w.free();
  }
  const out = new Writer(64);
  const v = rewriteKeyValue(lastSegment(path, 0), false, hex, ks, out);
  out.free();
  if (v === null) return refuseStatus(p, PH_BAD_KEY);
  p.path = replaceLast(path, 1, v as string) + queryTail(query);
  p.keys++;
  return p;
}

/** Result of rewriteBody besides the output bytes. */
export class BodyResult {
  status: i32 = PH_OK;
  keys: i32 = 0;
  filtered: i32 = 0;
  /** For a refusal: HTTP status, message and metric reason. */
  httpStatus: i32 = 0;
  message: string = "";
  reason: string = "";
}

/**
 * Rewrites a whole request or response body [ptr, ptr+len) of plan `p` into `out`. On failure
 * `out` holds garbage and the result says what the caller sees (400/403 for requests, 502 for
 * responses).
 */
export function rewriteBody(p: Plan, request: bool, ks: Keyspace, ptr: usize, len: usize, out: Writer): BodyResult {
  const r = new BodyResult();
  const w = new JsonWalk(ks, request, out);
  out.reset();
  let st: i32;
  if (request) st = w.run(ptr, len, p.requestKind, p.requestShape);
  else st = w.run(ptr, len, p.responseKind, p.responseShape);
  r.status = st;
  r.keys = w.keys;
  r.filtered = w.filtered;
  w.dispose();
  if (st != PH_OK) {
    r.httpStatus = httpStatusFor(st);
    r.message = messageFor(st, request);
    r.reason = reasonFor(st);
  }
  return r;
}
