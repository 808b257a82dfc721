'use strict';
// Property cases shared by the jest property tests (test/property/*.test.js) and the on-demand
// fuzzer (scripts/fuzz.js). Each check throws an Error describing the first violated property.
const fc = require('fast-check');
const { Core, S, frame, unframe, DEFAULT_TENANTS } = require('../core/core');
const { prng, splitEvery } = require('../core/chunking');
const W = require('../core/wire');
const K = require('../core/kvproto');
const { mutate, KINDS } = require('./mutate');

const TIKV = '/tikvpb.Tikv/';
const METHODS = Object.keys(K.METHODS);
const DOCUMENTED = new Set(Object.values(S).filter((v) => v !== S.OK));

function makeEnv() {
  const core = new Core();
  const err = core.configure({});
  if (err) throw new Error(err);
  return { core, kss: DEFAULT_TENANTS.map((t) => W.keyspace({ id: t.keyspaceId })) };
}

/** fast-check arbitrary for one case: a seed for the message generator plus choices. */
const caseArb = fc.record({
  seed: fc.integer({ min: 1, max: 0x7fffffff }),
  method: fc.constantFrom(...METHODS),
  tenant: fc.nat(DEFAULT_TENANTS.length - 1),
  isReq: fc.boolean(),
  frames: fc.integer({ min: 1, max: 3 }),
  long: fc.integer({ min: 0, max: 99 }).map((x) => x < 3), // ~3%: keys beyond 16383 bytes
  splits: fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 8 }),
});

const mutationArb = fc.record({
  seed: fc.integer({ min: 1, max: 0x7fffffff }),
  method: fc.constantFrom(...METHODS),
  tenant: fc.nat(DEFAULT_TENANTS.length - 1),
  isReq: fc.boolean(),
  mutations: fc.array(fc.record({ kind: fc.constantFrom(...KINDS), a: fc.nat(), b: fc.nat() }), { minLength: 1, maxLength: 3 }),
  splits: fc.array(fc.integer({ min: 1, max: 41 }), { minLength: 1, maxLength: 6 }),
});

/** Splits `buf` into pieces whose sizes cycle through `sizes`. */
function splitBy(buf, sizes) {
  const out = [];
  let i = 0, j = 0;
  while (i < buf.length) { const n = sizes[j++ % sizes.length]; out.push(buf.subarray(i, i + n)); i += n; }
  return out.length ? out : [buf];
}

function kindOf(method) { return K.isRawMethod(method) ? 'raw' : 'txn'; }

/** Generates the case's messages: { nodes, exp: [{status, bytes, filtered}], foreign } */
function build(env, c) {
  const ks = env.kss[c.tenant];
  const kind = kindOf(c.method);
  const [rq, rs] = K.METHODS[c.method];
  const rnd = prng(c.seed);
  const foreign = [];
  const nodes = [];
  for (let i = 0; i < (c.frames || 1); i++) {
    nodes.push(W.generate(c.isReq ? rq : rs, rnd, {
      dir: c.isReq ? 'req' : 'resp', ks, kind, long: !!c.long, maxDepth: c.isReq ? 5 : 4, foreign: c.isReq ? 0 : (rnd() < 0.3 ? 0.15 : 0), foreignLog: foreign,
    }));
  }
  return { ks, kind, nodes, foreign, exp: nodes.map((n) => W.expected(n, ks, kind, c.isReq)) };
}

/**
 * Valid messages for every covered method: the output equals the oracle byte for byte, decodes
 * with protobufjs, every request key carries the prefix, injected foreign response keys never
 * reach the client, and three chunkings agree. Returns the number of pushes made.
 */
function checkValid(env, c) {
  const { core } = env;
  const { ks, kind, nodes, foreign, exp } = build(env, c);
  const frames = nodes.map((n) => frame(W.encode(n)));
  const all = Buffer.concat(frames);
  const firstBad = exp.findIndex((e) => e.status !== S.OK);
  const wantStatus = firstBad < 0 ? S.OK : exp[firstBad].status;
  // frames as written, seeded random split points (1..97 bytes), and byte by byte for small
  // streams (the full matrix runs in test/core; here the inputs vary instead).
  const chunkings = [frames, splitBy(all, c.splits)];
  if (all.length <= 96) chunkings.push(splitEvery(all, 1));
  let ref = null;
  for (const chunks of chunkings) {
    const r = core.run(c.tenant, TIKV + c.method, c.isReq, chunks);
    if (r.status !== wantStatus) throw new Error(`status ${r.status}, expected ${wantStatus} (${firstBad >= 0 ? exp[firstBad].why : 'ok'})`);
    const good = firstBad < 0 ? exp : exp.slice(0, firstBad);
    const goodBytes = Buffer.concat(good.map((e) => frame(e.bytes)));
    if (r.status === S.OK) {
      if (!r.out.equals(goodBytes)) throw new Error('output differs from the oracle');
    } else if (!goodBytes.subarray(0, r.out.length).equals(r.out)) {
      throw new Error('bytes forwarded before the error are not whole good frames');
    }
    if (ref && r.status === S.OK && !r.out.equals(ref)) throw new Error('chunkings disagree');
    ref = r.out;
  }
  if (wantStatus === S.OK) {
    const [rq, rs] = K.METHODS[c.method];
    const payloads = unframe(ref);
    // protobufjs must decode every output message (throws otherwise); request keys are then
    // checked on the decoded message objects.
    const t = K.type(c.isReq ? rq : rs);
    for (const p of payloads) {
      const m = t.decode(p);
      if (c.isReq) assertRequestKeys(c.method, m, ks, kind);
    }
    for (const f of foreign) {
      if (f.length >= 8 && ref.includes(f)) throw new Error(`foreign key ${f.toString('hex')} reached the client`);
    }
  } else if (!c.isReq && wantStatus !== S.OUT_OF_KEYSPACE && wantStatus !== S.REGION_KEY) {
    throw new Error(`unexpected response status ${wantStatus}`);
  }
  return chunkings.reduce((a, x) => a + x.length, 0);
}

function assertRequestKeys(method, decoded, ks, kind) {
  const visit = (t, obj, k) => W.visitKeys(t, obj, (role, v, path) => {
    const { P, N } = W.bounds(ks, k);
    if (role === 'key_ne' && v.length === 0) return;
    if ((role === 'end' || role === 'start') && v.equals(N)) return;
    if (!W.hasPrefix(v, P)) throw new Error(`${path} lacks the tenant prefix`);
  });
  if (method === 'BatchCommands') {
    const t = K.type('tikvpb.BatchCommandsRequest.Request');
    for (const r of decoded.requests || []) {
      for (const [name, v] of Object.entries(r)) if (t.fields[name]) visit(t.fields[name].resolvedType, v, /^Raw/.test(name) ? 'raw' : 'txn');
    }
  } else {
    visit(K.type(K.METHODS[method][0]), decoded, kind);
  }
}

/** Builds the mutated byte stream for a mutation case. */
function mutatedStream(env, c) {
  const ks = env.kss[c.tenant];
  const kind = kindOf(c.method);
  const [rq, rs] = K.METHODS[c.method];
  const rnd = prng(c.seed);
  const n = W.generate(c.isReq ? rq : rs, rnd, { dir: c.isReq ? 'req' : 'resp', ks, kind, maxDepth: 5 });
  let payload = W.encode(n);
  let header = null;
  for (const m of c.mutations) {
    const r = mutate(payload, m);
    payload = r.payload;
    if (r.header) header = r.header;
  }
  const f = header ? Buffer.concat([header, payload]) : frame(payload);
  // a good frame before and after: the error must stop the call at the bad one
  const good = frame(W.encode(W.generate(c.isReq ? rq : rs, rnd, { dir: c.isReq ? 'req' : 'resp', ks, kind, maxDepth: 3 })));
  return { stream: Buffer.concat([good, f, good]), good };
}

/**
 * Hostile bytes: the core never traps, ends with OK or a documented status, forwards only
 * whole frames (never a half-rewritten message), nothing after the error, and two chunkings
 * agree. Returns the status.
 */
function checkMutation(env, c) {
  const { core } = env;
  const { stream } = mutatedStream(env, c);
  const a = core.run(c.tenant, TIKV + c.method, c.isReq, [stream]);
  const b = core.run(c.tenant, TIKV + c.method, c.isReq, splitBy(stream, c.splits));
  for (const r of [a, b]) {
    if (r.status !== S.OK && !DOCUMENTED.has(r.status)) throw new Error(`undocumented status ${r.status}`);
    unframe(r.out); // whole frames only
  }
  if (a.status !== b.status) throw new Error(`chunkings disagree: ${a.status} vs ${b.status}`);
  if (a.status === S.OK && !a.out.equals(b.out)) throw new Error('chunkings forwarded different bytes');
  if (a.status === S.OK && unframe(a.out).length !== unframe(stream).length) throw new Error('frame count changed');
  if (core.traps) throw new Error('trap');
  return a.status;
}

module.exports = { makeEnv, caseArb, mutationArb, checkValid, checkMutation, mutatedStream, splitBy, METHODS, DOCUMENTED, TIKV, kindOf };
