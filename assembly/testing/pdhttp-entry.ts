// A test-only entry point (dist/tidb-mesh-pdhttp.wasm) that exposes the pure PD-HTTP module
// (assembly/pdhttp/) to jest: route planning and body rewriting for the tenants of a
// configuration, with plain strings and bytes. No proxy ABI, nothing from the SDK.
import { parseConfig, Config } from "../config/config";
import { planRequest, rewriteBody, Plan, BodyResult } from "../pdhttp/plan";
import { jsonQuote } from "../pdhttp/errors";
import { routeCount } from "../pdhttp/routes";
import { Writer } from "../proto/writer";

let config: Config | null = null;
const out = new Writer(1024);

/** Unmanaged bytes for the test to fill. */
export function alloc(n: usize): usize { return __alloc(n, 0); }
export function release(p: usize): void { __free(p); }

/** Parses a configuration; returns "" on success or the validation error. */
export function configure(json: string): string {
  const r = parseConfig(json);
  config = r.config;
  return r.error;
}

export function routes(): i32 { return routeCount(); }

function boolText(b: bool): string {
  if (b) return "true";
  return "false";
}

function planJson(p: Plan): string {
  let s = "{\"status\":" + p.status.toString() + ",\"treatment\":" + p.treatment.toString();
  s += ",\"reason\":" + jsonQuote(p.reason) + ",\"body\":" + jsonQuote(p.body);
  let path = "null";
  if (p.path !== null) path = jsonQuote(p.path as string);
  s += ",\"path\":" + path;
  s += ",\"request\":" + boolText(p.rewritesRequest) + ",\"response\":" + boolText(p.rewritesResponse);
  s += ",\"passes\":" + boolText(p.passes) + ",\"keys\":" + p.keys.toString() + "}";
  return s;
}

/** The plan of `method` `path` for tenant `tenantIndex`, as JSON. */
export function plan(tenantIndex: i32, method: string, path: string): string {
  const c = config as Config;
  return planJson(planRequest(method, path, c.tenants[tenantIndex].keyspace));
}

/**
 * Rewrites a request (request=true) or response body of `method` `path` for tenant
 * `tenantIndex`; returns the result as JSON; the output bytes are at outPtr/outLen.
 */
export function rewrite(tenantIndex: i32, method: string, path: string, request: bool, ptr: usize, len: usize): string {
  const c = config as Config;
  const ks = c.tenants[tenantIndex].keyspace;
  const p = planRequest(method, path, ks);
  if ((request && !p.rewritesRequest) || (!request && !p.rewritesResponse)) return "{\"status\":-1}";
  const r: BodyResult = rewriteBody(p, request, ks, ptr, len, out);
  let s = "{\"status\":" + r.status.toString() + ",\"keys\":" + r.keys.toString() + ",\"filtered\":" + r.filtered.toString();
  s += ",\"httpStatus\":" + r.httpStatus.toString() + ",\"message\":" + jsonQuote(r.message) + ",\"reason\":" + jsonQuote(r.reason) + "}";
  return s;
}

export function outPtr(): usize { return out.ptr; }
export function outLen(): usize { return out.len; }
