'use strict';
// The schema-driven oracle through the pure core (dist/tidb-mesh-core.wasm) and the chunking
// matrix: for every method on the allowlist and every BatchCommands command, in every pinned
// schema set that has it, messages with every field set (generate.js) go through the filter
// and the output is checked field by field against the classification (oracle.js):
//   - requests: OK, every key prefixed (oracle.js); with a field classified refuse: DENIED;
//   - responses of the tenant's own keys: OK, every key checked and stripped;
//   - a foreign key (another keyspace, the next keyspace, an unprefixed v1 key, a foreign
//     etcd namespace, a meta-storage key outside its prefix, another keyspace id) put into
//     any one key slot of a response: the call fails, or the element holding it is dropped,
//     and its bytes never reach the client.
// Deterministic: seeded generation, bounded cases (SEEDS, FOREIGN_SLOTS).
const { Core, S, frame, unframe, DEFAULT_TENANTS } = require('../core/core');
const { runMatrix, prng } = require('../core/chunking');
const W = require('../core/wire');
const { allCasesAllSets, generateFor } = require('./cases');
const { Oracle } = require('./oracle');
const { foreignize } = require('./generate');
const { FIELDS } = require('../../schema/fields');
const { SENSITIVE } = require('../../schema/fields/vocabulary');
const { C } = require('./tables');

/** Seeds per case: the pinned set gets two, the others one. */
const SEEDS = { tidb: 2, other: 1 };
const FOREIGN_SLOTS = 4;
/** The pinned set goes through the matrix; the other sets and the foreign variants through a short one. */
const MATRIX = { tidb: { sizes: [7], randomRuns: 1, maxByteByByte: 512 }, other: { sizes: [], randomRuns: 1, maxByteByByte: 0 } };

let core;
const slotsSeen = new Set();
beforeAll(() => { core = new Core(); expect(core.configure({})).toBe(''); });
afterAll(() => expect(core.traps).toBe(0));

const cases = allCasesAllSets();
const KSS = DEFAULT_TENANTS.map((t) => W.keyspace({ id: t.keyspaceId }));
const seedOf = (c, seed) => seed * 7919 + [...c.name].reduce((a, ch) => (a * 31 + ch.charCodeAt(0)) >>> 0, 0);

function run(c, ti, dir, node, short = false) {
  const m = (!short && MATRIX[c.set]) || MATRIX.other;
  return runMatrix([frame(W.encode(node))], (chunks) => core.run(ti, c.path, dir === 'request', chunks), m);
}

const rewritten = cases.filter((c) => c.policy === C.POLICY_REWRITE);
const refusedMember = (c) => c.tag && FIELDS[`tikvpb.BatchCommandsRequest.Request.${c.member}`] && FIELDS[`tikvpb.BatchCommandsRequest.Request.${c.member}`].cls === 'refuse';

describe('every rewritten method and BatchCommands command, every field set', () => {
  test.each(rewritten.map((c) => [`${c.set} ${c.name}`, c]))('%s', (_, c) => {
    for (let seed = 1; seed <= (SEEDS[c.set] || SEEDS.other); seed++) {
      const ti = seed % KSS.length, ks = KSS[ti];
      const oracle = new Oracle({ fields: FIELDS, ks });
      // requests without refused fields: rewritten, every key prefixed
      let g = generateFor(c, 'request', { fields: FIELDS, rnd: prng(seedOf(c, seed)), ks });
      let r = run(c, ti, 'request', g.node);
      if (refusedMember(c)) {
        expect({ c: c.name, status: r.status }).toEqual({ c: c.name, status: S.DENIED });
        slotsSeen.add(`tikvpb.BatchCommandsRequest.Request.${c.member}`);
      } else {
        expect({ c: c.name, dir: 'request', status: r.status }).toEqual({ c: c.name, dir: 'request', status: S.OK });
        oracle.check(g.type, g.node, unframe(r.out)[0], 'request', c.tag ? 'txn' : c.kind);
        for (const s of g.gen.slots) slotsSeen.add(`${s.t.fullName.slice(1)}.${s.f.name}`);
      }
      // requests with every field, refused ones included: DENIED when one is there
      g = generateFor(c, 'request', { fields: FIELDS, rnd: prng(seedOf(c, seed) + 1), ks, refused: true });
      if (g.gen.refusedPresent || refusedMember(c)) {
        r = run(c, ti, 'request', g.node);
        expect({ c: c.name, refused: r.status }).toEqual({ c: c.name, refused: S.DENIED });
        for (const s of g.gen.refusedSlots) slotsSeen.add(s);
      }
      if (!c.resp) continue;
      // responses of the tenant's own keys: checked and stripped
      g = generateFor(c, 'response', { fields: FIELDS, rnd: prng(seedOf(c, seed) + 2), ks });
      r = run(c, ti, 'response', g.node);
      if (refusedMember(c)) {
        expect(r.status).not.toBe(S.OK); // no command of this kind is ever sent
        continue;
      }
      expect({ c: c.name, dir: 'response', status: r.status }).toEqual({ c: c.name, dir: 'response', status: S.OK });
      expect(r.filtered).toBe(0);
      oracle.check(g.type, g.node, unframe(r.out)[0], 'response', c.tag ? 'txn' : c.kind);
      // a foreign key in any one slot never reaches the client
      const n = g.gen.slots.length;
      const pick = prng(seedOf(c, seed) + 3);
      for (let j = 0; j < Math.min(n, FOREIGN_SLOTS); j++) {
        const slot = g.gen.slots[Math.floor(pick() * n)];
        slotsSeen.add(`${slot.t.fullName.slice(1)}.${slot.f.name}`);
        const f = foreignize(slot, ks, pick);
        const fr = f.skip ? null : run(c, ti, 'response', g.node, true);
        f.restore();
        if (!fr) continue;
        const where = `${c.name}: foreign ${slot.c.cls} in ${slot.t.fullName.slice(1)}.${slot.f.name}`;
        if (fr.status !== S.OK) continue; // the call fails: fine
        for (const needle of f.needles) expect([where, fr.out.includes(needle)]).toEqual([where, false]);
        if (f.dropOrFail) expect([where, fr.filtered >= 1]).toEqual([where, true]);
      }
    }
  });
});

describe('passed methods are not opened (the filter forwards them untouched)', () => {
  test.each(cases.filter((c) => c.policy === C.POLICY_PASS).map((c) => [`${c.set} ${c.name}`, c]))('%s', (_, c) => {
    expect(core.open(0, c.path, true)).toBe(-2);
  });
});

test('coverage: every sensitive field of the classification was generated, by name', () => {
  const missing = Object.entries(FIELDS).filter(([name, e]) => {
    const classes = e.cls === 'per-direction' ? [e.request, e.response] : [e];
    return classes.some((c) => c && SENSITIVE.has(c.cls)) && !slotsSeen.has(name);
  }).map(([name]) => name);
  expect(missing).toEqual([]);
});
