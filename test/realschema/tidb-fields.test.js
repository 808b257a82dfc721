'use strict';
// What a real, unmodified TiDB sets (test/realschema/tidb-fields.json, written by
// scripts/tidb-fields.js from the store captures and Envoy access logs of real-TiDB runs),
// covered by name: every key field a TiDB set is a classified key field of the pinned schema,
// and a request with exactly those fields (and the Context fields TiDB set) goes through the
// filter with every key prefixed (oracle.js), through the chunking matrix; every gRPC path a
// TiDB called is on the allowlist, and the rewritten or passed ones are cases of the oracle.
const { Core, S, frame, unframe } = require('../core/core');
const { runMatrix, prng } = require('../core/chunking');
const W = require('../core/wire');
const { loadSet, findMethod } = require('./load');
const { loadTables, C } = require('./tables');
const { allCases } = require('./cases');
const { Generator } = require('./generate');
const { Oracle } = require('./oracle');
const { messageType, typeName } = require('./completeness');
const { FIELDS } = require('../../schema/fields');
const FORWARD = require('../../schema/fields/forward');
const SEEN = require('./tidb-fields.json');

const { E } = W;
const KEYLIKE = new Set(['key', 'key-or-empty', 'start', 'end']);
/**
 * Key fields the store capture cannot show: its key heuristic (checker.go isKeyField) records
 * fields named *Key*, Primary, PrimaryLock, Secondaries, so coprocessor.KeyRange's start/end are
 * missing, although TiDB's coprocessor client sets ranges on every request.
 */
const NOT_CAPTURED = { Coprocessor: ['Ranges[].Start', 'Ranges[].End'] };

const root = loadSet('tidb').root;
const snake = (s) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
const ks = W.keyspace({ id: 1 });
let core;
beforeAll(() => { core = new Core(); expect(core.configure({})).toBe(''); });
afterAll(() => expect(core.traps).toBe(0));

/** Resolves a Go field path ("Mutations[].Key") in type t: [{ t, f, repeated }] (proto names). */
function resolve(t, goPath) {
  const out = [];
  for (const part of goPath.split('.')) {
    const name = snake(part.replace('[]', ''));
    const f = t.fields[name];
    if (!f) throw new Error(`${typeName(t)} has no field ${name} (from ${goPath})`);
    out.push({ t, f });
    t = messageType(f);
  }
  return out;
}

test('the summary comes from real runs', () => {
  expect(SEEN.runs).toBeGreaterThan(0);
  expect(Object.keys(SEEN.tikv)).toEqual(expect.arrayContaining(['KvGet', 'KvPrewrite', 'KvCommit', 'Coprocessor', 'KvBatchGet']));
});

describe('every key field a real TiDB set, by name', () => {
  const rows = Object.entries(SEEN.tikv).map(([method, s]) => [method, s]);
  test.each(rows)('%s', (method, seen) => {
    const meth = findMethod(root, `/tikvpb.Tikv/${method}`);
    expect(meth).not.toBeNull();
    const reqType = meth.resolvedRequestType;
    const keys = [...seen.keys, ...(NOT_CAPTURED[method] || [])];
    // Each is a classified key field.
    const paths = keys.map((k) => resolve(reqType, k));
    for (const p of paths) {
      const { t, f } = p[p.length - 1];
      const name = `${typeName(t)}.${f.name}`;
      expect([name, FIELDS[name] && FIELDS[name].cls]).toEqual([name, expect.stringMatching(/^(key|key-or-empty|start|end)$/)]);
      expect(KEYLIKE.has(FIELDS[name].cls)).toBe(true);
    }
    // A request with exactly those fields and TiDB's Context fields: keys prefixed.
    const rnd = prng(method.length * 131);
    const gen = new Generator({ fields: FIELDS, rnd, dir: 'request', ks });
    const kind = /^Raw/.test(method) ? 'raw' : 'txn';
    const node = { t: reqType, f: [] };
    const ctxField = reqType.fields.context;
    if (ctxField && seen.context.length) {
      const ctxType = messageType(ctxField);
      const ctx = { t: ctxType, f: [] };
      for (const goName of seen.context) {
        const f = ctxType.fields[snake(goName)];
        expect([goName, Boolean(f)]).toEqual([goName, true]);
        const sub = messageType(f);
        ctx.f.push(sub ? E.msg(f.id, gen.message(sub, kind)) : gen.leaf(ctx, ctxType, f, gen.cls(ctxType, f), kind));
      }
      node.f.push(E.msg(ctxField.id, ctx));
    }
    for (const p of paths) place(gen, node, p, kind);
    const r = runMatrix([frame(W.encode(node))], (chunks) => core.run(0, `/tikvpb.Tikv/${method}`, true, chunks), { sizes: [5], randomRuns: 1 });
    expect({ method, status: r.status }).toEqual({ method, status: S.OK });
    new Oracle({ fields: FIELDS, ks }).check(reqType, node, unframe(r.out)[0], 'request', kind);
    expect(r.keys).toBeGreaterThanOrEqual(paths.length);
  });
});

/** Sets the field at path p (creating the messages on the way; repeated fields get two). */
function place(gen, node, p, kind) {
  let n = node;
  for (let i = 0; i < p.length; i++) {
    const { t, f } = p[i];
    if (i === p.length - 1) {
      const times = f.repeated ? 2 : 1;
      for (let j = 0; j < times; j++) n.f.push(gen.leaf(n, t, f, gen.cls(t, f), kind));
      return;
    }
    let e = n.f.find((x) => x.n === f.id && x.m);
    if (!e) { e = E.msg(f.id, { t: messageType(f), f: [] }); n.f.push(e); }
    n = e.m;
  }
}

test('every gRPC path a real TiDB called is on the allowlist; rewritten and passed ones are oracle cases', () => {
  const tables = loadTables();
  const cases = new Set(allCases().map((c) => c.path));
  const rows = Object.keys(SEEN.grpc).map((p) => {
    const m = tables.methods.find((x) => x.path === p);
    if (!m) return [p, 'not on the allowlist'];
    if (m.policy === C.POLICY_DENY) return [p, 'denied'];
    return [p, cases.has(p) || FORWARD.METHODS[p] ? 'covered' : 'not an oracle case'];
  });
  expect(rows.filter(([, v]) => v !== 'covered' && v !== 'denied')).toEqual([]);
  expect(rows.filter(([, v]) => v === 'covered').length).toBeGreaterThan(20);
});
