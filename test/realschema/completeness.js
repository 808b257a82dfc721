'use strict';
// The completeness check: the filter's tables (assembly/schema/, read from the compiled tables
// entry) against the real schemas (schema/upstream-protos.js) and the field classification
// (schema/fields/). For every method on the allowlist that is rewritten or passed, every
// message reachable from its request and its response is walked next to the table the filter
// would use there:
//   - every bytes and string field, and every field whose name mentions a keyspace, must be
//     classified; an unclassified one is a violation that names its field path;
//   - a field the classification calls a key, range bound, region key, bucket key, keyspace or
//     refusal must have the matching table rule (right action, range kind, key kind, filter
//     flag); a message that holds such a field somewhere below must be walked (or refused),
//     never copied unchanged; a passed method must hold none;
//   - a value or opaque field must have no rule;
//   - every table rule must meet a real field in at least one schema set, and the table's
//     streaming flag must match the schema.
// Violations are strings; the report lists what was checked.
const protobuf = require('protobufjs');
const { findMethod } = require('./load');
const { C, NAMES } = require('./tables');
const { SENSITIVE, forDirection } = require('../../schema/fields/vocabulary');

const BYTES = new Set(['bytes', 'string']);
const RANGE_OF = { raw: C.RANGE_RAW, region: C.RANGE_REGION, etcd: C.RANGE_ETCD };
const KEYSPACE_NAME = /keyspace/i;

/** "pkg.Msg" for a protobufjs Type (fullName without the leading dot). */
const typeName = (t) => t.fullName.replace(/^\./, '');

/** The key kind the keys of a method must use (TiKV raw methods and raw batch commands: RAW). */
function expectedKind(grpcPath) {
  if (grpcPath.startsWith('/etcdserverpb.')) return C.KIND_ETCD;
  if (/^\/tikvpb\.Tikv\/Raw/.test(grpcPath)) return C.KIND_RAW;
  return C.KIND_TXN;
}

const BATCH_ONEOFS = new Set(['tikvpb.BatchCommandsRequest.Request', 'tikvpb.BatchCommandsResponse.Response']);

class Checker {
  /**
   * @param {object} tables loadTables()
   * @param {object} fields schema/fields FIELDS
   */
  constructor(tables, fields) {
    this.tables = tables;
    this.fields = fields;
    this.violations = new Set();
    /** "descId:num" -> true once the rule met a real field in some set. */
    this.ruleMet = new Map();
    /** Classification entries used, to find stale ones. */
    this.used = new Set();
    /** methods checked per set, and methods not found per set. */
    this.found = new Map();
    this.refusedCommands = new Set();
    this.stats = { fields: 0, classified: 0, walked: 0 };
  }

  fail(msg) { this.violations.add(msg); }

  cls(t, f, dir) {
    const name = `${typeName(t)}.${f.name}`;
    const e = this.fields[name];
    if (e) this.used.add(name);
    return forDirection(e, dir);
  }

  /** Runs the check over one schema set ({ root, set }). */
  checkSet(s) {
    this.set = s.set.name;
    this.sensitiveMemo = new Map();
    this.visited = new Set();
    for (const m of this.tables.methods) {
      if (m.policy === C.POLICY_DENY) continue;
      const meth = findMethod(s.root, m.path);
      if (!this.found.has(m.path)) this.found.set(m.path, []);
      if (!meth) continue;
      this.found.get(m.path).push(s.set.name);
      this.method = m.path;
      if (m.policy === C.POLICY_REWRITE && m.streaming !== Boolean(meth.responseStream)) {
        this.fail(`${m.path}: the table says streaming=${m.streaming}, the schema (${s.set.name}) says responseStream=${Boolean(meth.responseStream)}`);
      }
      const kind = expectedKind(m.path);
      for (const [dir, type, descId] of [['request', meth.resolvedRequestType, m.request], ['response', meth.resolvedResponseType, m.response]]) {
        const where = `${m.path} ${dir}: ${typeName(type)}`;
        const desc = m.policy === C.POLICY_REWRITE ? this.tables.descs[descId] : null;
        if (m.policy === C.POLICY_PASS) this.walkRaw(type, dir, where, true);
        else this.walk(type, desc, dir, { kind: C.KIND_TXN, expect: kind, path: where });
      }
    }
  }

  /** First sensitive field path below message type `t` in direction `dir`, or null. */
  sensitive(t, dir, seen = new Set()) {
    const k = `${t.fullName}|${dir}`;
    if (this.sensitiveMemo.has(k)) return this.sensitiveMemo.get(k);
    if (seen.has(k)) return null;
    seen.add(k);
    let found = null;
    for (const f of t.fieldsArray) {
      const c = this.cls(t, f, dir);
      if (c && SENSITIVE.has(c.cls)) { found = `${typeName(t)}.${f.name} (${c.cls})`; break; }
      const sub = messageType(f);
      if (sub && !(c && c.cls === 'opaque')) {
        const below = this.sensitive(sub, dir, seen);
        if (below) { found = below; break; }
      }
    }
    seen.delete(k);
    this.sensitiveMemo.set(k, found);
    return found;
  }

  /**
   * A subtree the filter copies unchanged: every field classified, none sensitive. `pass`:
   * the whole method passes untouched (the message names the method's treatment).
   */
  walkRaw(t, dir, path, pass) {
    const k = `${this.method}|raw|${t.fullName}|${dir}`;
    if (this.visited.has(k)) return;
    this.visited.add(k);
    for (const f of t.fieldsArray) {
      const p = `${path}.${f.name}`;
      const c = this.cls(t, f, dir);
      const sub = messageType(f);
      this.stats.fields++;
      if (c && SENSITIVE.has(c.cls)) {
        this.fail(`${p}: ${c.cls} field ${pass ? 'in a method that passes untouched' : 'copied unchanged (no table rule reaches it)'}`);
        continue;
      }
      if (sub) {
        if (!(c && c.cls === 'opaque')) this.walkRaw(sub, dir, p, pass);
        continue;
      }
      if (BYTES.has(f.type) || KEYSPACE_NAME.test(f.name)) {
        if (!c) this.fail(`${p}: unclassified ${f.type} field (${typeName(t)}.${f.name} = ${f.id})`);
        else this.stats.classified++;
      }
    }
  }

  /** A message walked with table `desc` (ctx: effective key kind, expected kind, path). */
  walk(t, desc, dir, ctx) {
    const kind = desc.kind !== C.KIND_INHERIT ? desc.kind : ctx.kind;
    const k = `${this.method}|${t.fullName}|${desc.id}|${dir}|${kind}|${ctx.expect}`;
    if (this.visited.has(k)) return;
    this.visited.add(k);
    this.stats.walked++;
    const tn = typeName(t);
    const here = `${ctx.path} [table ${desc.name}]`;
    const rules = new Map();
    for (const r of desc.rules) if (!rules.has(r.num)) rules.set(r.num, r);
    const met = (num) => { this.ruleMet.set(`${desc.id}:${num}`, true); };
    for (const r of desc.rules) {
      const key = `${desc.id}:${r.num}`;
      if (!this.ruleMet.has(key)) this.ruleMet.set(key, false);
      if (t.fieldsById[r.num]) met(r.num);
    }
    // Table-level numbers must name real fields of the right shape.
    const fieldAt = (num) => t.fieldsById[num];
    if (desc.setKeyspace && tn !== 'kvrpcpb.Context') this.fail(`${here}: keyspaceContext on ${tn}, not kvrpcpb.Context`);
    if (desc.ensureContextField) {
      const f = fieldAt(desc.ensureContextField);
      if (!f || !f.resolvedType || typeName(f.resolvedType) !== 'kvrpcpb.Context') this.fail(`${here}: ensureContext(${desc.ensureContextField}) is not a kvrpcpb.Context field of ${tn}`);
    }
    for (const [what, num] of [['require', desc.requireField], ['keyspaceIdFilter', desc.matchField], ['range reverse', desc.rangeReverse]]) {
      if (num && !fieldAt(num)) this.fail(`${here}: ${what}(${num}) names no field of ${tn}`);
    }
    if (desc.rangeReverse) {
      const f = fieldAt(desc.rangeReverse);
      const c = f && this.cls(t, f, dir);
      if (f && (!c || c.cls !== 'reverse')) this.fail(`${here}: range reverse flag ${f.name}(${f.id}) is not classified reverse`);
    }

    for (const f of t.fieldsArray) {
      this.stats.fields++;
      const p = `${ctx.path}.${f.name}`;
      const c = this.cls(t, f, dir);
      const rule = rules.get(f.id);
      const sub = messageType(f);
      if (c && c.cls === 'refuse') {
        if (!rule || rule.act !== C.ACT_DENY) this.fail(`${p}: classified refuse (${c.why}) but the table ${rule ? `has ${NAMES.act[rule.act]}` : 'has no rule'} [${desc.name}]`);
        continue;
      }
      if (rule && rule.act === C.ACT_DENY) {
        if (!(c && c.cls === 'keyspace' && dir === 'request')) this.fail(`${p}: the table refuses it (${desc.name}) but the classification does not say refuse`);
        continue;
      }
      if (sub) {
        this.walkMessageField(t, f, sub, c, rule, desc, dir, { kind, expect: ctx.expect, path: p });
        continue;
      }
      if (BYTES.has(f.type) || KEYSPACE_NAME.test(f.name) || c || rule) {
        if (!c) {
          this.fail(`${p}: unclassified ${f.type} field (${tn}.${f.name} = ${f.id})${rule ? ` with table rule ${NAMES.act[rule.act]}` : ''}`);
          continue;
        }
        this.stats.classified++;
        this.leaf(t, f, c, rule, desc, dir, kind, ctx.expect, p);
      }
    }
  }

  walkMessageField(t, f, sub, c, rule, desc, dir, ctx) {
    const p = ctx.path;
    if (c && c.cls === 'keyspace') {
      // A keyspace given as a message (KeyspaceIdentity, KeyspaceIDValue, KeyspaceScope).
      if (dir === 'request') {
        if (!rule) this.fail(`${p}: keyspace message copied unchanged in a request [${desc.name}]`);
        else if (rule.act === C.ACT_KEYSPACE_FIELD) return;
        else if (rule.act !== C.ACT_MSG) this.fail(`${p}: keyspace message with table rule ${NAMES.act[rule.act]}`);
        else this.walk(sub, this.tables.descs[rule.child], dir, ctx);
        return;
      }
    }
    if (c && c.cls === 'opaque') {
      // A message copied unchanged on purpose, with the reason in the classification.
      if (rule) this.fail(`${p}: classified opaque but the table has ${NAMES.act[rule.act]} [${desc.name}]`);
      return;
    }
    if (!rule) {
      if (desc.strict) {
        // A strict oneof refuses members it has no rule for (an unknown BatchCommands command).
        this.refusedCommands.add(`${typeName(t)}.${f.name} (${f.id})`);
        return;
      }
      const s = this.sensitive(sub, dir);
      if (s) { this.fail(`${p}: holds ${s} but the table copies it unchanged [${desc.name}]`); return; }
      this.walkRaw(sub, dir, p, false);
      return;
    }
    if (rule.act !== C.ACT_MSG && rule.act !== C.ACT_API_V2_ONLY) {
      this.fail(`${p}: message field with table rule ${NAMES.act[rule.act]} [${desc.name}]`);
      return;
    }
    const filterWanted = Boolean(c && c.cls === 'filtered' && dir === 'response');
    const filterHas = (rule.flags & C.FLAG_FILTER) !== 0;
    if (filterWanted !== filterHas) {
      this.fail(`${p}: ${filterWanted ? 'classified filtered but the table fails the call instead of dropping the element' : 'the table drops foreign elements but the classification does not say filtered'} [${desc.name}]`);
    }
    if (c && !['filtered', 'keyspace'].includes(c.cls)) this.fail(`${p}: message field classified ${c.cls}`);
    let expect = ctx.expect;
    if (BATCH_ONEOFS.has(typeName(t))) expect = /^Raw/.test(f.name) ? C.KIND_RAW : C.KIND_TXN;
    this.walk(sub, this.tables.descs[rule.child], dir, { kind: ctx.kind, expect, path: p });
  }

  /** A bytes/string/scalar field with class `c` and table rule `rule` (or none). */
  leaf(t, f, c, rule, desc, dir, kind, expect, p) {
    const act = rule ? rule.act : 0;
    const actName = rule ? NAMES.act[act] : 'no rule';
    const where = `[${desc.name}]`;
    const wantAct = (ok, what) => { if (!ok) this.fail(`${p}: classified ${what} but the table has ${actName} ${where}`); };
    const wantKind = () => {
      if (c.cls === 'region' || c.cls === 'bucket' || (c.range && c.range !== 'etcd' && c.range !== 'raw')) {
        if (kind !== expect) this.fail(`${p}: region keys under key kind ${NAMES.kind[kind]}, the method uses ${NAMES.kind[expect]} ${where}`);
        return;
      }
      if (kind !== expect) this.fail(`${p}: key kind ${NAMES.kind[kind]}, the method uses ${NAMES.kind[expect]} ${where}`);
    };
    const filterHas = rule && (rule.flags & C.FLAG_FILTER) !== 0;
    switch (c.cls) {
      case 'key':
        wantAct(act === C.ACT_KEY, 'key');
        if (act === C.ACT_KEY && dir === 'response' && Boolean(c.filter) !== filterHas) this.fail(`${p}: filter flag ${filterHas} but classified filter=${Boolean(c.filter)} ${where}`);
        if (act === C.ACT_KEY) wantKind();
        return;
      case 'key-or-empty':
        wantAct(dir === 'request' ? act === C.ACT_KEY_NONEMPTY : act === C.ACT_KEY || act === C.ACT_KEY_NONEMPTY, 'key-or-empty');
        if (act) wantKind();
        return;
      case 'start': case 'end': {
        const a = c.cls === 'start' ? C.ACT_RANGE_START : C.ACT_RANGE_END;
        wantAct(act === a, `range ${c.cls} (${c.range})`);
        if (desc.rangeKind !== RANGE_OF[c.range]) this.fail(`${p}: classified ${c.range} range ${c.cls} but the table's range kind is ${NAMES.range[desc.rangeKind]} ${where}`);
        const num = c.cls === 'start' ? desc.rangeStart : desc.rangeEnd;
        if (num !== f.id) this.fail(`${p}: range ${c.cls} is field ${f.id}, the table says ${num} ${where}`);
        if (act === a) wantKind();
        return;
      }
      case 'reverse':
        if (desc.rangeReverse !== f.id) this.fail(`${p}: classified reverse but the table's reverse field is ${desc.rangeReverse} ${where}`);
        if (rule) this.fail(`${p}: reverse flag with a table rule ${actName} ${where}`);
        return;
      case 'region':
        wantAct(act === C.ACT_REGION_KEY, 'region key');
        if (act) wantKind();
        return;
      case 'bucket':
        wantAct(act === C.ACT_BUCKET_KEY && desc.bucketField === f.id, 'bucket key');
        if (act) wantKind();
        return;
      case 'under': case 'end-under':
        wantAct(act === (c.cls === 'under' ? C.ACT_KEY_UNDER : C.ACT_END_UNDER) && desc.under === c.prefix, `${c.cls} "${c.prefix}"`);
        return;
      case 'keyspace':
        if (dir === 'request') {
          wantAct(act === C.ACT_KEYSPACE_FIELD || act === C.ACT_KEYSPACE_ID || act === C.ACT_DENY, 'keyspace (request: replaced, dropped or refused)');
        } else if (c.response === 'match') {
          wantAct(act === C.ACT_KEYSPACE_MATCH && desc.matchField === f.id, 'keyspace (response: must match the tenant)');
        } else if (c.response === 'own') {
          // Inside a message already matched to the tenant (its own keyspace's meta).
          if (rule) this.fail(`${p}: keyspace (own) with table rule ${actName} ${where}`);
          if (!desc.matchField) this.fail(`${p}: keyspace (own) in a message the table does not match to the tenant ${where}`);
        } else {
          this.fail(`${p}: keyspace field in a response without { response: 'match' | 'own' } ${where}`);
        }
        return;
      case 'scoped-id': case 'carried': case 'clamp-carried': {
        const want = { 'scoped-id': C.ACT_SCOPED_ID, carried: C.ACT_CARRY_ZERO, 'clamp-carried': C.ACT_CLAMP_CARRIED }[c.cls];
        wantAct(want !== undefined && act === want, c.cls);
        return;
      }
      case 'value': case 'opaque':
        if (rule) this.fail(`${p}: classified ${c.cls} but the table has ${actName} ${where}`);
        return;
      case 'filtered':
        this.fail(`${p}: filtered applies to message fields, ${f.name} is ${f.type}`);
        return;
      default:
        this.fail(`${p}: unknown class ${c.cls}`);
    }
  }

  /**
   * Violations that need every set: methods found nowhere, rules that meet no real field
   * (unless listed with a reason in `forward`, schema/fields/forward.js), stale forward
   * entries and classification entries that no walk used.
   */
  finish(forward = { RULES: {}, METHODS: {} }) {
    for (const [p, sets] of this.found) {
      const listed = forward.METHODS[p];
      if (sets.length === 0 && !listed) this.fail(`${p}: on the allowlist but in no pinned schema`);
      if (sets.length > 0 && listed) this.fail(`${p}: listed in schema/fields/forward.js but the schema (${sets.join(', ')}) has it`);
    }
    for (const p of Object.keys(forward.METHODS)) if (!this.found.has(p)) this.fail(`${p}: listed in schema/fields/forward.js but not on the allowlist`);
    const where = new Map();
    for (const d of this.tables.descs) for (const r of d.rules) where.set(`${d.id}:${r.num}`, { d, r });
    const forwardUsed = new Set();
    for (const [k, ok] of this.ruleMet) {
      const { d, r } = where.get(k);
      const name = `${d.name}.${r.num}`;
      if (forward.RULES[name]) {
        forwardUsed.add(name);
        if (ok) this.fail(`table ${d.name} rule ${NAMES.act[r.act]}(${r.num}): listed in schema/fields/forward.js but a pinned schema has the field`);
      } else if (!ok) {
        this.fail(`table ${d.name} rule ${NAMES.act[r.act]}(${r.num}): no such field in any pinned schema`);
      }
    }
    for (const name of Object.keys(forward.RULES)) if (!forwardUsed.has(name)) this.fail(`schema/fields/forward.js: ${name} names no table rule`);
    for (const name of Object.keys(this.fields)) if (!this.used.has(name)) this.fail(`schema/fields: ${name} is not reached by any allowlisted method in any pinned schema`);
    return [...this.violations].sort();
  }
}

/**
 * The message type of a field, or null for scalars. A map field is, on the wire, a repeated
 * entry message { key = 1; value = 2; } named as protoc names it (regions_by_id ->
 * RegionsByIdEntry, nested in the map's message); that synthetic type is returned.
 */
function messageType(f) {
  if (f.map) return mapEntry(f);
  if (f.resolvedType instanceof protobuf.Type) return f.resolvedType;
  return null;
}

const entries = new WeakMap();
/** A plain stand-in for the entry type (fullName, fieldsArray, fieldsById, like a protobufjs Type). */
function mapEntry(f) {
  if (entries.has(f)) return entries.get(f);
  const name = f.name.split('_').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('') + 'Entry';
  const fullName = `${f.parent.fullName}.${name}`;
  const keyField = { name: 'key', id: 1, type: f.keyType, resolvedType: null, map: false, repeated: false };
  const valueField = { name: 'value', id: 2, type: f.type, resolvedType: f.resolvedType, map: false, repeated: false };
  const t = { fullName, name, fieldsArray: [keyField, valueField], fieldsById: { 1: keyField, 2: valueField }, mapEntry: true };
  keyField.parent = t; valueField.parent = t;
  entries.set(f, t);
  return t;
}

module.exports = { Checker, expectedKind, typeName, messageType };
