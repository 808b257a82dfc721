// The plugin configuration (schema/plugin-config.schema.json) parsed and validated. Every
// rule of the schema is checked here too, because the filter must refuse a configuration
// the manifest tool did not write. parseConfig never throws: it returns `error` instead.
import { JsonReader, JValue, J_ARR, J_OBJ, J_STR, J_NUM } from "./json";
import { Keyspace, Bytes, nextPrefix, ETCD_RULE_SLASH, ETCD_RULE_NO_DIGIT } from "../keyspace/keyspace";

export const DIRECTION_OUTBOUND: i32 = 0;
export const DIRECTION_INBOUND: i32 = 1;

export class Match {
  namespace: string | null = null;
  labelKeys: Array<string> = new Array<string>();
  labelValues: Array<string> = new Array<string>();
  serviceAccount: string | null = null;
  principals: Array<string> = new Array<string>();
}

export class Tenant {
  name: string;
  keyspace: Keyspace;
  match: Match;
  constructor(name: string, keyspace: Keyspace, match: Match) {
    this.name = name;
    this.keyspace = keyspace;
    this.match = match;
  }
}

export class Passthrough {
  name: string;
  match: Match;
  constructor(name: string, match: Match) { this.name = name; this.match = match; }
}

export class Config {
  direction: i32 = DIRECTION_OUTBOUND;
  apiV2: bool = true;
  maxMessageBytes: u32 = 64 * 1024 * 1024;
  etcdNamespace: string = "/keyspaces/tidb/{id}";
  tenants: Array<Tenant> = new Array<Tenant>();
  passthrough: Array<Passthrough> = new Array<Passthrough>();
}

export class ConfigResult {
  config: Config | null = null;
  error: string = "";
}

function err(r: ConfigResult, msg: string): ConfigResult {
  r.error = msg;
  r.config = null;
  return r;
}

function onlyKeys(v: JValue, allowed: Array<string>, where: string): string {
  for (let i = 0; i < v.keys.length; i++) {
    if (!allowed.includes(v.keys[i])) return where + ": unknown property \"" + v.keys[i] + "\"";
  }
  return "";
}

function isInteger(v: JValue): bool { return v.kind == J_NUM && Math.floor(v.num) == v.num; }

function hexBytes(s: string): Bytes | null {
  if (s.length == 0 || (s.length & 1) != 0) return null;
  const b = new Bytes(s.length >> 1);
  for (let i = 0; i < s.length; i += 2) {
    const hi = hexDigit(s.charCodeAt(i));
    const lo = hexDigit(s.charCodeAt(i + 1));
    if (hi < 0 || lo < 0) return null;
    store<u8>(b.ptr + (i >> 1), <u8>((hi << 4) | lo));
  }
  return b;
}

function hexDigit(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

function isDnsName(s: string): bool {
  if (s.length == 0 || s.length > 253) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const alnum = (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39);
    if (!alnum && !((c == 0x2d || c == 0x2e) && i > 0 && i < s.length - 1)) return false;
  }
  return true;
}

function parseMatch(v: JValue | null, where: string, r: ConfigResult): Match | null {
  if (v === null || v.kind != J_OBJ) { err(r, where + ".match: required object"); return null; }
  const e = onlyKeys(v, ["namespace", "labels", "serviceAccount", "principals"], where + ".match");
  if (e.length > 0) { err(r, e); return null; }
  if (v.keys.length == 0) { err(r, where + ".match: needs at least one criterion"); return null; }
  const m = new Match();
  const ns = v.get("namespace");
  if (ns !== null) {
    if (ns.kind != J_STR || ns.str.length == 0) { err(r, where + ".match.namespace: non-empty string expected"); return null; }
    m.namespace = ns.str;
  }
  const sa = v.get("serviceAccount");
  if (sa !== null) {
    if (sa.kind != J_STR || sa.str.length == 0) { err(r, where + ".match.serviceAccount: non-empty string expected"); return null; }
    m.serviceAccount = sa.str;
  }
  const labels = v.get("labels");
  if (labels !== null) {
    if (labels.kind != J_OBJ || labels.keys.length == 0) { err(r, where + ".match.labels: non-empty object expected"); return null; }
    for (let i = 0; i < labels.keys.length; i++) {
      const lv = labels.items[i];
      if (lv.kind != J_STR) { err(r, where + ".match.labels." + labels.keys[i] + ": string expected"); return null; }
      m.labelKeys.push(labels.keys[i]);
      m.labelValues.push(lv.str);
    }
  }
  const ps = v.get("principals");
  if (ps !== null) {
    if (ps.kind != J_ARR || ps.items.length == 0) { err(r, where + ".match.principals: non-empty array expected"); return null; }
    for (let i = 0; i < ps.items.length; i++) {
      const p = ps.items[i];
      if (p.kind != J_STR || !p.str.startsWith("spiffe://")) { err(r, where + ".match.principals[" + i.toString() + "]: spiffe:// URI expected"); return null; }
      m.principals.push(p.str);
    }
  }
  return m;
}

/** Parses and validates the configuration JSON. On failure `error` names the offending path. */
export function parseConfig(json: string): ConfigResult {
  const r = new ConfigResult();
  if (json.length == 0) return err(r, "empty configuration: pluginConfig with a tenants table is required");
  const reader = new JsonReader(json);
  const root = reader.parse();
  if (root === null) return err(r, "invalid JSON: " + reader.error);
  if (root.kind != J_OBJ) return err(r, "configuration must be a JSON object");
  const e = onlyKeys(root, ["version", "direction", "mode", "maxMessageBytes", "etcdNamespace", "tenants", "passthrough", "unknownCaller"], "config");
  if (e.length > 0) return err(r, e);
  const c = new Config();

  const version = root.get("version");
  if (version !== null && !(isInteger(version) && version.num == 1)) return err(r, "version: only 1 is supported");
  const dir = root.get("direction");
  if (dir !== null) {
    if (dir.kind == J_STR && dir.str == "outbound") c.direction = DIRECTION_OUTBOUND;
    else if (dir.kind == J_STR && dir.str == "inbound") c.direction = DIRECTION_INBOUND;
    else return err(r, "direction: \"outbound\" or \"inbound\" expected");
  }
  const mode = root.get("mode");
  if (mode !== null) {
    if (mode.kind == J_STR && mode.str == "api-v2") c.apiV2 = true;
    else if (mode.kind == J_STR && mode.str == "prefix") c.apiV2 = false;
    else return err(r, "mode: \"api-v2\" or \"prefix\" expected");
  }
  const max = root.get("maxMessageBytes");
  if (max !== null) {
    if (!isInteger(max) || max.num < 1024 || max.num > 1073741824) return err(r, "maxMessageBytes: integer in [1024, 1073741824] expected");
    c.maxMessageBytes = <u32>max.num;
  }
  const ens = root.get("etcdNamespace");
  if (ens !== null) {
    // With a trailing '/' the namespace is a plain prefix; without one (TiDB's own layout) the
    // keys are restricted so that no tenant reaches another's (etcdRuleFor, keyspace.ts
    // ETCD_RULE_*). A lone "/" would cover everybody.
    if (ens.kind != J_STR || !ens.str.startsWith("/") || ens.str.length < 2) return err(r, "etcdNamespace: a string starting with '/' and at least one more character expected");
    c.etcdNamespace = ens.str;
  }
  const unknown = root.get("unknownCaller");
  if (unknown !== null && !(unknown.kind == J_STR && unknown.str == "deny")) return err(r, "unknownCaller: only \"deny\" exists");

  const tenants = root.get("tenants");
  if (tenants === null || tenants.kind != J_ARR) return err(r, "tenants: required array");
  for (let i = 0; i < tenants.items.length; i++) {
    const where = "tenants[" + i.toString() + "]";
    const t = tenants.items[i];
    if (t.kind != J_OBJ) return err(r, where + ": object expected");
    const te = onlyKeys(t, ["name", "keyspaceId", "prefix", "match"], where);
    if (te.length > 0) return err(r, te);
    const name = t.get("name");
    if (name === null || name.kind != J_STR || !isDnsName(name.str)) return err(r, where + ".name: lowercase DNS name expected");
    const match = parseMatch(t.get("match"), where, r);
    if (match === null) return r;
    const me = directionRule(c, match, where);
    if (me.length > 0) return err(r, me);
    const dup = duplicatePrincipal(c, match);
    if (dup.length > 0) return err(r, where + ".match.principals: " + dup);
    let ks: Keyspace;
    const idv = t.get("keyspaceId");
    const pv = t.get("prefix");
    if (c.apiV2) {
      if (pv !== null) return err(r, where + ".prefix: only in prefix mode");
      if (idv === null || !isInteger(idv) || idv.num < 1 || idv.num > 16777214) return err(r, where + ".keyspaceId: integer in [1, 16777214] expected");
      const id = <u32>idv.num;
      for (let j = 0; j < c.tenants.length; j++) {
        if (c.tenants[j].keyspace.id == id) return err(r, where + ".keyspaceId: " + id.toString() + " is also used by tenant " + c.tenants[j].name);
      }
      ks = Keyspace.apiV2(id, expandNamespace(c.etcdNamespace, id.toString(), name.str), etcdRuleFor(c.etcdNamespace));
    } else {
      if (pv === null || pv.kind != J_STR) return err(r, where + ".prefix: lowercase hex string required in prefix mode");
      const b = hexBytes(pv.str);
      if (b === null) return err(r, where + ".prefix: lowercase hex string required in prefix mode");
      if (nextPrefix(b as Bytes) === null) return err(r, where + ".prefix: a prefix of only 0xff bytes has no end");
      // keyspaceId is optional in prefix mode (it only fills {id} in etcdNamespace), but the
      // schema's type and range rules hold whenever it is present.
      let id: u32 = 0;
      if (idv !== null) {
        if (!isInteger(idv) || idv.num < 1 || idv.num > 16777214) return err(r, where + ".keyspaceId: integer in [1, 16777214] expected");
        id = <u32>idv.num;
      }
      for (let j = 0; j < c.tenants.length; j++) {
        const o = c.tenants[j].keyspace.txn;
        const n = o.len < (b as Bytes).len ? o.len : (b as Bytes).len;
        if (memory.compare(o.ptr, (b as Bytes).ptr, n) == 0) return err(r, where + ".prefix: overlaps the prefix of tenant " + c.tenants[j].name);
      }
      ks = Keyspace.withPrefix(b as Bytes, expandNamespace(c.etcdNamespace, id.toString(), name.str), etcdRuleFor(c.etcdNamespace));
    }
    for (let j = 0; j < c.tenants.length; j++) {
      if (c.tenants[j].name == name.str) return err(r, where + ".name: duplicate tenant " + name.str);
    }
    c.tenants.push(new Tenant(name.str, ks, match));
  }

  const pts = root.get("passthrough");
  if (pts !== null) {
    if (pts.kind != J_ARR) return err(r, "passthrough: array expected");
    if (c.direction != DIRECTION_INBOUND && pts.items.length > 0) return err(r, "passthrough: applies to inbound only");
    for (let i = 0; i < pts.items.length; i++) {
      const where = "passthrough[" + i.toString() + "]";
      const p = pts.items[i];
      if (p.kind != J_OBJ) return err(r, where + ": object expected");
      const pe = onlyKeys(p, ["name", "match"], where);
      if (pe.length > 0) return err(r, pe);
      const name = p.get("name");
      if (name === null || name.kind != J_STR || !isDnsName(name.str)) return err(r, where + ".name: lowercase DNS name expected");
      for (let j = 0; j < c.passthrough.length; j++) {
        if (c.passthrough[j].name == name.str) return err(r, where + ".name: duplicate passthrough entry " + name.str);
      }
      const match = parseMatch(p.get("match"), where, r);
      if (match === null) return r;
      const me = directionRule(c, match, where);
      if (me.length > 0) return err(r, me);
      const dup = duplicatePrincipal(c, match);
      if (dup.length > 0) return err(r, where + ".match.principals: " + dup);
      c.passthrough.push(new Passthrough(name.str, match));
    }
  }
  r.config = c;
  return r;
}

/**
 * Which criteria a direction can evaluate: inbound knows only the peer's mTLS principal, so an
 * inbound entry matches by principals alone; outbound knows only node metadata, so principals
 * are meaningless there. Returns "" or the error.
 */
function directionRule(c: Config, m: Match, where: string): string {
  if (c.direction == DIRECTION_INBOUND) {
    if (m.principals.length == 0) return where + ".match: inbound entries match by principals";
    if (m.namespace !== null || m.serviceAccount !== null || m.labelKeys.length > 0) {
      return where + ".match: inbound entries match by principals only (namespace, labels and serviceAccount are node metadata of the outbound side)";
    }
  } else if (m.principals.length > 0) {
    return where + ".match: principals apply to inbound only";
  }
  return "";
}

/**
 * A principal may appear in one entry only (tenants and passthrough together): with a single
 * owner per principal, an inbound caller can never be ambiguous. Returns "" or the error.
 */
function duplicatePrincipal(c: Config, m: Match): string {
  for (let i = 0; i < m.principals.length; i++) {
    const p = m.principals[i];
    for (let k = 0; k < i; k++) if (m.principals[k] == p) return p + " is listed twice";
    for (let j = 0; j < c.tenants.length; j++) {
      if (c.tenants[j].match.principals.includes(p)) return p + " is also the principal of tenant " + c.tenants[j].name;
    }
    for (let j = 0; j < c.passthrough.length; j++) {
      if (c.passthrough[j].match.principals.includes(p)) return p + " is also in passthrough entry " + c.passthrough[j].name;
    }
  }
  return "";
}

/**
 * The etcd key rule of a namespace template without a trailing '/' (with one, the keyspace
 * uses the plain-prefix rule whatever this says). The no-digit rule (keys may be anything
 * that does not start with 0-9, e.g. TiDB's "tidb/autoid/leader") is sound only when every
 * tenant's namespace is the same text followed by its decimal id: a template whose only
 * placeholder is one {id} at its end. Tenant names can be prefixes of each other ("a" and
 * "a-b", "1" and "10"), so any other template keeps the slash rule (every key starts with '/').
 */
function etcdRuleFor(template: string): u8 {
  const at = template.indexOf("{id}");
  if (at >= 0 && at == template.length - 4 && !template.includes("{name}")) return ETCD_RULE_NO_DIGIT;
  return ETCD_RULE_SLASH;
}

function expandNamespace(template: string, id: string, name: string): string {
  return template.replaceAll("{id}", id).replaceAll("{name}", name);
}
