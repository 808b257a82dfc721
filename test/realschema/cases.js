'use strict';
// The oracle's cases: every method on the allowlist that is rewritten or passed, with its
// request and response types from the pinned schema set (or the first set that has it), and
// every BatchCommands command as its own case (wrapped in a BatchCommandsRequest/Response).
// Message generation and checking are in generate.js and oracle.js.
const { loadAll, findMethod } = require('./load');
const { loadTables, C } = require('./tables');
const { expectedKind, typeName } = require('./completeness');
const { Generator } = require('./generate');
const W = require('../core/wire');

const { E } = W;
const KIND = { [C.KIND_TXN]: 'txn', [C.KIND_RAW]: 'raw', [C.KIND_ETCD]: 'etcd' };
const BATCH = '/tikvpb.Tikv/BatchCommands';

/**
 * [{ name, path, policy, streaming, set, req: Type, resp: Type, kind, tag? }]: one case per
 * method, and per BatchCommands command (tag = the oneof member's number) of the set's schema,
 * from the first schema set that has the method.
 */
function allCases() {
  const sets = loadAll();
  return casesOf(sets, (m) => {
    const s = sets.find((x) => findMethod(x.root, m.path));
    return s ? [s] : []; // none: defined outside the pinned modules (schema/fields/forward.js)
  });
}

/** Like allCases, once per schema set that has the method (case.set names the set). */
function allCasesAllSets() {
  const sets = loadAll();
  return casesOf(sets, (m) => sets.filter((x) => findMethod(x.root, m.path)));
}

function casesOf(sets, setsFor) {
  const tables = loadTables();
  const out = [];
  for (const m of tables.methods) {
    if (m.policy === C.POLICY_DENY) continue;
    for (const s of setsFor(m)) out.push(...methodCases(m, s));
  }
  return out;
}

/** The cases of method `m` (a tables entry) in schema set `s`. */
function methodCases(m, s) {
  const meth = findMethod(s.root, m.path);
  const base = { path: m.path, policy: m.policy, streaming: m.streaming, set: s.set.name, kind: KIND[expectedKind(m.path)] };
  if (m.path !== BATCH) return [{ ...base, name: m.path, req: meth.resolvedRequestType, resp: meth.resolvedResponseType }];
  const reqOneof = s.root.lookupType('tikvpb.BatchCommandsRequest.Request');
  const respOneof = s.root.lookupType('tikvpb.BatchCommandsResponse.Response');
  return reqOneof.fieldsArray.map((f) => {
    const rf = respOneof.fieldsById[f.id];
    return {
      ...base, name: `${m.path} ${f.name} (${f.id})`, tag: f.id, member: f.name,
      req: f.resolvedType, resp: rf ? rf.resolvedType : null, kind: /^Raw/.test(f.name) ? 'raw' : 'txn',
      batchReq: meth.resolvedRequestType, batchResp: meth.resolvedResponseType,
    };
  });
}

/** A BatchCommands request/response node around one command node. */
function wrapBatch(c, dir, inner) {
  const outer = dir === 'request' ? c.batchReq : c.batchResp;
  const oneof = outer.fieldsById[1].resolvedType;
  return { t: outer, f: [E.msg(1, { t: oneof, f: [E.msg(c.tag, inner)] }), E.bytes(2, W.varint(77))] };
}

/**
 * Generates the case's message for a direction: { node (the whole gRPC message), inner (the
 * command for BatchCommands), gen (slots, refusedPresent) }.
 */
function generateFor(c, dir, opts) {
  const gen = new Generator({ ...opts, dir });
  const t = dir === 'request' ? c.req : c.resp;
  const inner = gen.message(t, c.kind);
  const node = c.tag ? wrapBatch(c, dir, inner) : inner;
  return { node, inner, gen, type: c.tag ? (dir === 'request' ? c.batchReq : c.batchResp) : t };
}

module.exports = { allCases, allCasesAllSets, generateFor, wrapBatch, typeName };
