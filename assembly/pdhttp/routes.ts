// The allowlist of PD's HTTP API (paths under /pd/api/): (HTTP method, path pattern) ->
// treatment. A GET not in the table is refused with 404, any other method with 403; nothing
// unknown reaches PD. docs/pd-http.md has the table with reasons. Route paths: PD server
// server/api/router.go; the calls TiDB 8.5 makes: ../shared/reference/tidb-pd-traffic.md §1.

/** Keyless: bytes pass untouched both ways. */
export const T_PASS: i32 = 0;
/** Answered by the filter (GET .../config/rule_group/tiflash). */
export const T_EMULATE_TIFLASH_GROUP: i32 = 1;
/** Refused with 403 and the route's reason. */
export const T_DENY: i32 = 2;
/** GET .../stats/region?start_key=&end_key=: query keys prefixed; keyless response. */
export const T_STATS_REGION: i32 = 3;
/** GET .../region/key/<key>: path key prefixed; one region back, clamped. */
export const T_REGION_BY_KEY: i32 = 4;
/** GET .../regions/key?key=&end_key=&limit=: query keys prefixed; regions back, clamped/filtered. */
export const T_REGIONS_BY_KEY: i32 = 5;
/** GET (TiDB) or POST .../region-label/rules/ids: ids scoped; rules back, filtered and stripped. */
export const T_LABEL_RULES_BY_IDS: i32 = 6;
/** PATCH .../region-label/rules: sets and deletes scoped, keys prefixed. */
export const T_LABEL_RULES_PATCH: i32 = 7;
/** POST .../region-label/rule: one rule scoped, keys prefixed. */
export const T_LABEL_RULE_SET: i32 = 8;
/** GET .../region-label/rules: only the tenant's rules, stripped. */
export const T_LABEL_RULES_LIST: i32 = 9;
/** GET .../region-label/rule/<id>: path id scoped; the rule back, stripped. */
export const T_LABEL_RULE_GET: i32 = 10;
/** DELETE .../region-label/rule/<id>: path id scoped. */
export const T_LABEL_RULE_DELETE: i32 = 11;
/** POST .../placement-rule?partial=true: bundles scoped, keys prefixed (partial is required). */
export const T_BUNDLES_SET: i32 = 12;
/** GET .../placement-rule/<group>: path group scoped; the bundle back, stripped. */
export const T_BUNDLE_GET: i32 = 13;
/** POST .../rules/batch: rule ops scoped, keys prefixed. */
export const T_RULES_BATCH: i32 = 14;
/** POST .../config/rule: one rule scoped, keys prefixed. */
export const T_RULE_SET: i32 = 15;
/** DELETE .../config/rule/<group>/<id>: path group and id scoped. */
export const T_RULE_DELETE: i32 = 16;
/** GET .../config/rules/group/<group>: path group scoped; only the tenant's rules back. */
export const T_RULES_BY_GROUP: i32 = 17;

export const PD_API_PREFIX = "/pd/api/";

export class Route {
  method: string;
  /** Path segments after /pd/api/; "*" matches one non-empty segment. */
  segments: Array<string>;
  treatment: i32;
  /** Why a denied route is denied (the error message). */
  reason: string;
  constructor(method: string, pattern: string, treatment: i32, reason: string) {
    this.method = method;
    this.segments = pattern.split("/");
    this.treatment = treatment;
    this.reason = reason;
  }
}

const routes = new Array<Route>();

function get(pattern: string, t: i32): void { routes.push(new Route("GET", pattern, t, "")); }
function on(method: string, pattern: string, t: i32): void { routes.push(new Route(method, pattern, t, "")); }
function deny(method: string, pattern: string, reason: string): void { routes.push(new Route(method, pattern, T_DENY, reason)); }

// Keyless reads TiDB makes (tidb-pd-traffic.md §1.3): status, members, stores, config, ...
get("v1/status", T_PASS);
get("v1/version", T_PASS);
get("v1/health", T_PASS);
get("v1/members", T_PASS);
get("v1/leader", T_PASS);
get("v1/min-resolved-ts", T_PASS);
get("v1/min-resolved-ts/*", T_PASS);
get("v1/stores", T_PASS);
get("v1/store/*", T_PASS);
get("v1/config", T_PASS);
get("v1/config/replicate", T_PASS);
get("v1/config/schedule", T_PASS);
get("v1/cluster", T_PASS);
get("v1/cluster/status", T_PASS);
get("v2/ms/members/*", T_PASS);

get("v1/config/rule_group/tiflash", T_EMULATE_TIFLASH_GROUP);
deny("POST", "v1/config/rule_group",
  "rule groups are cluster-wide (the tiflash group is created once by the operator; GET .../rule_group/tiflash is answered by the filter)");

get("v1/stats/region", T_STATS_REGION);
get("v1/region/key/*", T_REGION_BY_KEY);
get("v1/regions/key", T_REGIONS_BY_KEY);

// Region label rules. PD registers .../rules/ids as GET with a JSON body (server/api/router.go),
// and pd/client/http GetRegionLabelRulesByIDs sends exactly that; POST is accepted as well.
get("v1/config/region-label/rules/ids", T_LABEL_RULES_BY_IDS);
on("POST", "v1/config/region-label/rules/ids", T_LABEL_RULES_BY_IDS);
on("PATCH", "v1/config/region-label/rules", T_LABEL_RULES_PATCH);
on("POST", "v1/config/region-label/rule", T_LABEL_RULE_SET);
get("v1/config/region-label/rules", T_LABEL_RULES_LIST);
get("v1/config/region-label/rule/*", T_LABEL_RULE_GET);
on("DELETE", "v1/config/region-label/rule/*", T_LABEL_RULE_DELETE);

// Placement and TiFlash rules (TiDB's GC deletes them after DROP/TRUNCATE).
on("POST", "v1/config/placement-rule", T_BUNDLES_SET);
get("v1/config/placement-rule/*", T_BUNDLE_GET);
on("POST", "v1/config/rules/batch", T_RULES_BATCH);
on("POST", "v1/config/rule", T_RULE_SET);
on("DELETE", "v1/config/rule/*/*", T_RULE_DELETE);
get("v1/config/rules/group/*", T_RULES_BY_GROUP);

// Writes that cannot be scoped to one tenant, named for a clear message.
deny("POST", "v1/config", "PD configuration is cluster-wide");
deny("POST", "v1/config/schedule", "PD configuration is cluster-wide");
deny("POST", "v1/config/replicate", "PD configuration is cluster-wide");
deny("POST", "v1/config/placement-rule/*", "a placement group write replaces the group for everybody; use POST .../placement-rule?partial=true");
deny("DELETE", "v1/config/placement-rule/*", "deleting placement groups (optionally by regexp) is cluster-wide");
deny("POST", "v1/config/rules", "replacing all placement rules is cluster-wide");
deny("POST", "v1/schedulers", "schedulers are cluster-wide");
deny("POST", "v1/regions/accelerate-schedule", "scheduling is cluster-wide");
deny("POST", "v1/regions/accelerate-schedule/batch", "scheduling is cluster-wide");
deny("POST", "v1/operators", "operators act on bare region ids");
deny("POST", "v1/hotspot/regions/history", "hot region history lists every tenant's keys");

/** Whether a request goes to the PD-HTTP allowlist: a /pd/api/ path and not gRPC. */
export function isPdHttpRequest(path: string, contentType: string | null): bool {
  if (!path.startsWith(PD_API_PREFIX)) return false;
  if (contentType !== null && (contentType as string).startsWith("application/grpc")) return false;
  return true;
}

/** The path part of a :path (before '?'). */
export function pathOnly(path: string): string {
  const q = path.indexOf("?");
  if (q < 0) return path;
  return path.substring(0, q);
}

/** The query part of a :path (after '?', "" when none). */
export function queryOnly(path: string): string {
  const q = path.indexOf("?");
  if (q < 0) return "";
  return path.substring(q + 1);
}

/**
 * The route for a method and a path (without the query), or null. Wildcards match one
 * non-empty segment other than "." and ".."; a path with empty segments matches nothing.
 */
export function lookupRoute(method: string, path: string): Route | null {
  if (!path.startsWith(PD_API_PREFIX)) return null;
  const segs = path.substring(PD_API_PREFIX.length).split("/");
  for (let r = 0; r < routes.length; r++) {
    const route = routes[r];
    if (route.method != method || route.segments.length != segs.length) continue;
    let ok = true;
    for (let k = 0; k < segs.length; k++) {
      const want = route.segments[k], have = segs[k];
      if (want == "*") {
        if (have.length == 0 || have == "." || have == "..") { ok = false; break; }
      } else if (want != have) { ok = false; break; }
    }
    if (ok) return route;
  }
  return null;
}

/** Number of routes (for the startup log and tests). */
export function routeCount(): i32 { return routes.length; }
