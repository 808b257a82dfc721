'use strict';
// The schema-driven oracle (test/realschema) through a real Envoy with the compiled filter, for
// a sample of methods: messages with every field set, generated from the pinned kvproto/etcd
// schemas and the field classification, go to a scripted upstream that records what it got and
// answers with a generated response. The upstream's request and the client's response are
// checked by the oracle; a response with a foreign key in one slot must not reach the client.
const http2 = require('http2');
const { startEnvoy, twoTenantConfig, tidbNode } = require('../harness/envoy');
const { frame, unframe } = require('../core/core');
const { prng } = require('../core/chunking');
const W = require('../core/wire');
const { allCases, allCasesAllSets, generateFor } = require('../realschema/cases');
const { Oracle } = require('../realschema/oracle');
const { foreignize } = require('../realschema/generate');
const { FIELDS } = require('../../schema/fields');

jest.setTimeout(120000);

/** The sample: TiKV unary and BatchCommands commands, PD routing, keyspace, meta storage, etcd. */
const SAMPLE = [
  '/tikvpb.Tikv/KvGet', '/tikvpb.Tikv/KvPrewrite', '/tikvpb.Tikv/KvScan', '/tikvpb.Tikv/RawBatchPut',
  '/tikvpb.Tikv/GetHealthFeedback', '/tikvpb.Tikv/Coprocessor',
  '/tikvpb.Tikv/BatchCommands Get (1)', '/tikvpb.Tikv/BatchCommands GetHealthFeedback (39)', '/tikvpb.Tikv/BatchCommands RawBatchPut (16)',
  '/pdpb.PD/GetRegion', '/pdpb.PD/ScanRegions', '/keyspacepb.Keyspace/LoadKeyspace',
  '/meta_storagepb.MetaStorage/Get', '/etcdserverpb.KV/Range', '/etcdserverpb.KV/Txn',
];
/** From the newest kvproto: GetStore's per-keyspace DFS statistics. */
const SAMPLE_NEXT = ['/pdpb.PD/GetStore'];
const ks = W.keyspace({ id: 1 });
const cases = [
  ...allCases().filter((c) => SAMPLE.includes(c.name)),
  ...allCasesAllSets().filter((c) => c.set === 'next' && SAMPLE_NEXT.includes(c.name)),
];

/** The scripted upstream: answers call `x-case` with responses[x-case]; records each request body. */
function startUpstream() {
  const server = http2.createServer();
  const state = { responses: new Map(), requests: new Map() };
  server.on('stream', (st, headers) => {
    const id = headers['x-case'];
    const body = [];
    st.on('data', (c) => body.push(c));
    st.on('error', () => {});
    st.on('end', () => {
      state.requests.set(id, Buffer.concat(body));
      if (st.destroyed || st.closed) return;
      try {
        st.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        st.on('wantTrailers', () => st.sendTrailers({ 'grpc-status': '0' }));
        st.end(state.responses.get(id) || Buffer.alloc(0));
      } catch { /* the client went away */ }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: server.address().port, state })));
}

/** One call through Envoy; resolves to { status, body }. */
function callOn(session, p, id, body) {
  return new Promise((resolve) => {
    const req = session.request({ ':method': 'POST', ':path': p, 'content-type': 'application/grpc', te: 'trailers', 'x-case': id });
    let headers = {}, trailers = {};
    const data = [];
    req.on('response', (h) => { headers = h; });
    req.on('trailers', (t) => { trailers = t; });
    req.on('data', (c) => data.push(c));
    req.on('error', () => {});
    req.on('close', () => {
      const st = trailers['grpc-status'] !== undefined ? trailers['grpc-status'] : headers['grpc-status'];
      resolve({ status: st === undefined ? null : Number(st), body: Buffer.concat(data) });
    });
    req.end(body);
  });
}

let upstream, envoy, session;
/** Envoy's count of response elements the filter dropped for cluster1. */
const filtered = async () => (await envoy.stats())['wasmcustom.tidb_mesh.tenant.cluster1.responses_filtered'] || 0;
beforeAll(async () => {
  upstream = await startUpstream();
  envoy = await startEnvoy({ upstream: { port: upstream.port }, pluginConfig: twoTenantConfig(), node: tidbNode('cluster1') });
  session = http2.connect(`http://127.0.0.1:${envoy.port}`);
  session.on('error', () => {});
});
afterAll(async () => {
  if (session) session.close();
  if (envoy) await envoy.stop();
  if (upstream) await new Promise((r) => upstream.server.close(r));
});

test('the sample covers TiKV, BatchCommands, PD, meta storage and etcd', () => {
  expect(cases.map((c) => c.name).sort()).toEqual([...SAMPLE, ...SAMPLE_NEXT].sort());
});

describe('a sample of methods through a real Envoy, every field set', () => {
  test.each(cases.map((c) => [c.name, c]))('%s', async (_, c) => {
    const oracle = new Oracle({ fields: FIELDS, ks });
    const seed = [...c.name].reduce((a, ch) => (a * 31 + ch.charCodeAt(0)) >>> 0, 0);
    const req = generateFor(c, 'request', { fields: FIELDS, rnd: prng(seed), ks });
    const resp = generateFor(c, 'response', { fields: FIELDS, rnd: prng(seed + 1), ks });
    const id = `${c.name}-own`;
    upstream.state.responses.set(id, frame(W.encode(resp.node)));
    const r = await callOn(session, c.path, id, frame(W.encode(req.node)));
    expect({ c: c.name, status: r.status }).toEqual({ c: c.name, status: 0 });
    oracle.check(req.type, req.node, unframe(upstream.state.requests.get(id))[0], 'request', c.tag ? 'txn' : c.kind);
    oracle.check(resp.type, resp.node, unframe(r.body)[0], 'response', c.tag ? 'txn' : c.kind);

    // The same response with a foreign key in one slot.
    const g = generateFor(c, 'response', { fields: FIELDS, rnd: prng(seed + 1), ks });
    const pick = prng(seed + 2);
    const slot = g.gen.slots[Math.floor(pick() * g.gen.slots.length)];
    const f = foreignize(slot, ks, pick);
    const fid = `${c.name}-foreign`;
    upstream.state.responses.set(fid, frame(W.encode(g.node)));
    const before = await filtered();
    const fr = await callOn(session, c.path, fid, frame(W.encode(req.node)));
    const where = `${c.name}: foreign ${slot.c.cls} in ${slot.t.fullName.slice(1)}.${slot.f.name}`;
    for (const needle of f.needles) expect([where, fr.body.includes(needle)]).toEqual([where, false]);
    // A failed unary call ends with INTERNAL (13); a failed stream whose response headers
    // already went out is reset (no status).
    if (fr.status !== 0) expect([where, c.streaming ? [13, null].includes(fr.status) : fr.status === 13]).toEqual([where, true]);
    else if (f.dropOrFail) expect([where, (await filtered()) > before]).toEqual([where, true]);
  });
});
