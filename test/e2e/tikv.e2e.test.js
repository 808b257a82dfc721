// End-to-end: real Envoy + the tidb-mesh Wasm filter (dist/tidb-mesh.wasm) in front of the TiKV TEST
// server (test/servers/tikv-test-server.js, an in-memory imitation, not TiKV).
//
// Two tenants (cluster1 -> keyspace 1, cluster2 -> keyspace 2) each get their own Envoy, exactly as
// one sidecar per TiDB pod: same filter configuration, different node metadata. A third Envoy has
// labels that match no tenant. The clients speak like a TiDB WITHOUT keyspace (API v1 contexts,
// unprefixed keys, keyspace_id = 0xFFFFFFFF as client-go codecV1 sets it).
'use strict';

const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const tikvServer = require('../servers/tikv-test-server');
const { startEnvoy, twoTenantConfig, tidbNode } = require('../harness/envoy');
const { tikvClient } = require('../harness/tikv-client');
const { grpcFrame, parseFrames, rawGrpcCall } = require('../harness/grpc-raw');
const { loadTikv } = require('../proto');

jest.setTimeout(60000);

const S = grpc.status;
const b = (s) => Buffer.from(s);
const hex = (k) => Buffer.from(k).toString('hex');
const P = (mode, id) => Buffer.from([mode === 'raw' ? 0x72 : 0x78, (id >> 16) & 0xff, (id >> 8) & 0xff, id & 0xff]);
// What a TiDB without keyspace (client-go codecV1) puts in Context.
const v1ctx = () => ({ region_id: 2, region_epoch: { conf_ver: 1, version: 1 }, peer: { id: 3, store_id: 1 }, keyspace_id: 0xffffffff });
const USER_KEYS = ['t_user_1', 't_user_2', 't_user_3'];
const VALUE = { cluster1: (k) => `alice ${k} from cluster1`, cluster2: (k) => `bob ${k} from cluster2` };
// Codes a client may see when the filter kills a response mid-stream (reset after headers).
const STREAM_ERROR_CODES = [S.INTERNAL, S.CANCELLED, S.UNAVAILABLE, S.UNKNOWN];

async function grpcError(promise) {
  try {
    const r = await promise;
    return { ok: true, value: r };
  } catch (e) {
    return { ok: false, code: e.code, details: e.details || e.message, error: e };
  }
}

let server; let envoys = []; let c1; let c2; let cx; let cSmall; let setupError = null;
let startTs = 10;
const nextTs = () => { startTs += 10; return startTs; };
const READ_TS = 1e9;

async function txnWrite(client, pairs) {
  const start = nextTs();
  const keys = pairs.map(([k]) => b(k));
  const pw = await client.KvPrewrite({
    context: v1ctx(), mutations: pairs.map(([k, v]) => ({ op: 0, key: b(k), value: b(v) })),
    primary_lock: keys[0], start_version: start, lock_ttl: 3000,
  });
  expect(pw.region_error).toBeFalsy();
  expect(pw.errors).toEqual([]);
  const cm = await client.KvCommit({ context: v1ctx(), keys, start_version: start, commit_version: start + 1 });
  expect(cm.region_error).toBeFalsy();
  expect(cm.error).toBeFalsy();
  return start;
}

beforeAll(async () => {
  server = await tikvServer.start();
  const config = twoTenantConfig();
  envoys = await Promise.all([
    startEnvoy({ upstream: { port: server.port }, pluginConfig: config, node: tidbNode('cluster1') }),
    startEnvoy({ upstream: { port: server.port }, pluginConfig: config, node: tidbNode('cluster2') }),
    startEnvoy({ upstream: { port: server.port }, pluginConfig: config, node: tidbNode('cluster9') }),
    // Same tenant as envoys[0] but with a 1 KiB message limit.
    startEnvoy({ upstream: { port: server.port }, pluginConfig: twoTenantConfig({ maxMessageBytes: 1024 }), node: tidbNode('cluster1') }),
  ]);
  c1 = tikvClient(envoys[0].port, { deadlineMs: 5000 });
  c2 = tikvClient(envoys[1].port, { deadlineMs: 5000 });
  cx = tikvClient(envoys[2].port, { deadlineMs: 5000 });
  cSmall = tikvClient(envoys[3].port, { deadlineMs: 5000 });
  // Both tenants write the SAME user keys with different values. A failure here is recorded, not
  // thrown, so that each test reports it at once (instead of every test waiting for its own
  // deadline against a broken filter) and the filter-independent harness test still runs.
  try {
    await txnWrite(c1, USER_KEYS.map((k) => [k, VALUE.cluster1(k)]));
    await txnWrite(c2, USER_KEYS.map((k) => [k, VALUE.cluster2(k)]));
  } catch (e) {
    setupError = e;
  }
});

function needSetup() {
  if (setupError) throw new Error(`the initial Prewrite+Commit of both tenants through the filter failed, so this test cannot run: ${setupError.message}`);
}

afterAll(async () => {
  for (const c of [c1, c2, cx, cSmall]) if (c) c.close();
  // Keep the Envoy logs (filter log lines included) for post-mortems: .tmp/e2e-logs/tikv-<tenant>.log
  const dir = path.join(__dirname, '..', '..', '.tmp', 'e2e-logs');
  fs.mkdirSync(dir, { recursive: true });
  ['cluster1', 'cluster2', 'nomatch', 'cluster1-small'].forEach((n, i) => { if (envoys[i]) fs.writeFileSync(path.join(dir, `tikv-${n}.log`), envoys[i].logs()); });
  const failed = envoys.filter(Boolean);
  await Promise.all(failed.map((e) => e.stop()));
  if (server) await server.stop();
});

describe('storage layout', () => {
  test('the TiKV test server only holds keyspace-prefixed keys, one copy per tenant', () => {
    needSetup();
    const raw = server.rawKeys().map(hex);
    for (const k of USER_KEYS) {
      expect(raw).toContain(hex(Buffer.concat([P('txn', 1), b(k)])));
      expect(raw).toContain(hex(Buffer.concat([P('txn', 2), b(k)])));
      expect(raw).not.toContain(hex(b(k)));
    }
    for (const k of raw) expect(k.startsWith('78000001') || k.startsWith('78000002') || k.startsWith('72000001') || k.startsWith('72000002')).toBe(true);
  });

});

/** First Wasm VM failure in an Envoy log (with the in-VM backtrace), or null. */
function vmCrash(log) {
  const i = log.search(/\[critical\]\[wasm\]|Uncaught RuntimeError|Plugin configured to fail closed failed to load|VM failed/);
  return i < 0 ? null : log.slice(Math.max(0, log.lastIndexOf('\n', i) + 1), i + 700);
}

function keysOf(req) {
  const out = [];
  const walk = (o, name) => {
    if (!o || typeof o !== 'object') return;
    if (Buffer.isBuffer(o)) {
      if (['key', 'keys', 'start_key', 'end_key', 'primary_lock', 'primary_key', 'secondaries', 'start', 'end', 'split_keys'].includes(name)) out.push(o);
      return;
    }
    if (Array.isArray(o)) { for (const x of o) walk(x, name); return; }
    for (const [k, v] of Object.entries(o)) if (k !== 'context') walk(v, k);
  };
  walk(req, '');
  return out;
}

describe('each tenant sees only its own keyspace', () => {
  test.each([['cluster1', () => c1], ['cluster2', () => c2]])('KvGet (%s)', async (tenant, client) => {
    needSetup();
    for (const k of USER_KEYS) {
      const r = await client().KvGet({ context: v1ctx(), key: b(k), version: READ_TS });
      expect(r.region_error).toBeFalsy();
      expect(r.error).toBeFalsy();
      expect(r.value.toString()).toBe(VALUE[tenant](k));
    }
    const missing = await client().KvGet({ context: v1ctx(), key: b('t_user_404'), version: READ_TS });
    expect(missing.not_found).toBe(true);
  });

  test('KvBatchGet returns unprefixed keys with the tenant\'s own values', async () => {
    needSetup();
    for (const [tenant, client] of [['cluster1', c1], ['cluster2', c2]]) {
      const r = await client.KvBatchGet({ context: v1ctx(), keys: [...USER_KEYS, 't_user_404'].map(b), version: READ_TS });
      expect(r.region_error).toBeFalsy();
      expect(r.error).toBeFalsy();
      expect(r.pairs.map((p) => [p.key.toString(), p.value.toString()])).toEqual(USER_KEYS.map((k) => [k, VALUE[tenant](k)]));
    }
  });

  test('KvScan forward: bounded, unbounded end, and limit', async () => {
    needSetup();
    for (const [tenant, client] of [['cluster1', c1], ['cluster2', c2]]) {
      const bounded = await client.KvScan({ context: v1ctx(), start_key: b('t_user_'), end_key: b('t_user_3'), limit: 100, version: READ_TS });
      expect(bounded.pairs.map((p) => [p.key.toString(), p.value.toString()])).toEqual(USER_KEYS.slice(0, 2).map((k) => [k, VALUE[tenant](k)]));
      // An empty end means "to the end of MY keyspace", never into the next tenant's keys.
      const open = await client.KvScan({ context: v1ctx(), start_key: b(''), end_key: b(''), limit: 100, version: READ_TS });
      expect(open.region_error).toBeFalsy();
      expect(open.error).toBeFalsy();
      expect(open.pairs.map((p) => p.key.toString())).toEqual(USER_KEYS);
      for (const p of open.pairs) expect(p.value.toString()).toBe(VALUE[tenant](p.key.toString()));
      const limited = await client.KvScan({ context: v1ctx(), start_key: b('t_user_2'), limit: 1, version: READ_TS });
      expect(limited.pairs.map((p) => p.key.toString())).toEqual(['t_user_2']);
    }
  });

  test('KvScan reverse: start_key is the exclusive upper bound, end_key the inclusive lower bound', async () => {
    needSetup();
    for (const [tenant, client] of [['cluster1', c1], ['cluster2', c2]]) {
      const r = await client.KvScan({ context: v1ctx(), reverse: true, start_key: b('t_user_3'), end_key: b('t_user_1'), limit: 100, version: READ_TS });
      expect(r.pairs.map((p) => [p.key.toString(), p.value.toString()])).toEqual([['t_user_2', VALUE[tenant]('t_user_2')], ['t_user_1', VALUE[tenant]('t_user_1')]]);
      // Empty upper bound = end of my keyspace; empty lower bound = start of my keyspace.
      const all = await client.KvScan({ context: v1ctx(), reverse: true, start_key: b(''), end_key: b(''), limit: 100, version: READ_TS });
      expect(all.region_error).toBeFalsy();
      expect(all.error).toBeFalsy();
      expect(all.pairs.map((p) => p.key.toString())).toEqual([...USER_KEYS].reverse());
      for (const p of all.pairs) expect(p.value.toString()).toBe(VALUE[tenant](p.key.toString()));
    }
  });

  test('Prewrite locks are per keyspace and KeyError keys come back unprefixed', async () => {
    needSetup();
    const start = nextTs();
    const pw = await c1.KvPrewrite({ context: v1ctx(), mutations: [{ op: 0, key: b('t_lock_1'), value: b('locked by cluster1') }], primary_lock: b('t_lock_1'), start_version: start, lock_ttl: 3000 });
    expect(pw.errors).toEqual([]);
    // cluster1 reading its own locked key sees the lock, with unprefixed key and primary.
    const g1 = await c1.KvGet({ context: v1ctx(), key: b('t_lock_1'), version: READ_TS });
    expect(g1.error && g1.error.locked).toBeTruthy();
    expect(g1.error.locked.key.toString()).toBe('t_lock_1');
    expect(g1.error.locked.primary_lock.toString()).toBe('t_lock_1');
    expect(g1.error.locked.lock_version).toBe(start);
    // cluster2 does not see cluster1's lock at all.
    const g2 = await c2.KvGet({ context: v1ctx(), key: b('t_lock_1'), version: READ_TS });
    expect(g2.error).toBeFalsy();
    expect(g2.not_found).toBe(true);
    // KvScanLock / KvCheckTxnStatus report it unprefixed to cluster1 and not to cluster2.
    const sl1 = await c1.KvScanLock({ context: v1ctx(), max_version: READ_TS, start_key: b(''), end_key: b(''), limit: 100 });
    expect(sl1.locks.map((l) => [l.key.toString(), l.primary_lock.toString()])).toEqual([['t_lock_1', 't_lock_1']]);
    const sl2 = await c2.KvScanLock({ context: v1ctx(), max_version: READ_TS, start_key: b(''), end_key: b(''), limit: 100 });
    expect(sl2.locks).toEqual([]);
    const cs = await c1.KvCheckTxnStatus({ context: v1ctx(), primary_key: b('t_lock_1'), lock_ts: start, caller_start_ts: start, current_ts: start });
    expect(cs.lock_info.key.toString()).toBe('t_lock_1');
    // A conflicting prewrite from cluster1 reports the lock with unprefixed keys.
    const pw2 = await c1.KvPrewrite({ context: v1ctx(), mutations: [{ op: 0, key: b('t_lock_1'), value: b('x') }], primary_lock: b('t_lock_1'), start_version: nextTs(), lock_ttl: 3000 });
    expect(pw2.errors).toHaveLength(1);
    expect(pw2.errors[0].locked.key.toString()).toBe('t_lock_1');
    // The same user key in cluster2 is free.
    await txnWrite(c2, [['t_lock_1', 'cluster2 is not blocked']]);
    // Commit in cluster1; now visible there, and cluster2 keeps its own value.
    const cm = await c1.KvCommit({ context: v1ctx(), keys: [b('t_lock_1')], start_version: start, commit_version: start + 1, primary_key: b('t_lock_1') });
    expect(cm.error).toBeFalsy();
    expect((await c1.KvGet({ context: v1ctx(), key: b('t_lock_1'), version: READ_TS })).value.toString()).toBe('locked by cluster1');
    expect((await c2.KvGet({ context: v1ctx(), key: b('t_lock_1'), version: READ_TS })).value.toString()).toBe('cluster2 is not blocked');
  });

  test('write conflicts report unprefixed key and primary', async () => {
    needSetup();
    const old = nextTs();
    await txnWrite(c1, [['t_conflict', 'v1']]); // commits after `old`
    const pw = await c1.KvPrewrite({ context: v1ctx(), mutations: [{ op: 0, key: b('t_conflict'), value: b('v2') }], primary_lock: b('t_conflict'), start_version: old, lock_ttl: 3000 });
    expect(pw.errors).toHaveLength(1);
    expect(pw.errors[0].conflict.key.toString()).toBe('t_conflict');
    expect(pw.errors[0].conflict.primary.toString()).toBe('t_conflict');
  });

  test('raw KV uses the r prefix per tenant', async () => {
    needSetup();
    await c1.RawPut({ context: v1ctx(), key: b('raw_a'), value: b('raw from cluster1') });
    await c2.RawPut({ context: v1ctx(), key: b('raw_a'), value: b('raw from cluster2') });
    expect((await c1.RawGet({ context: v1ctx(), key: b('raw_a') })).value.toString()).toBe('raw from cluster1');
    expect((await c2.RawGet({ context: v1ctx(), key: b('raw_a') })).value.toString()).toBe('raw from cluster2');
    const scan = await c1.RawScan({ context: v1ctx(), start_key: b(''), end_key: b(''), limit: 100 });
    expect(scan.region_error).toBeFalsy();
    expect(scan.kvs.map((p) => [p.key.toString(), p.value.toString()])).toEqual([['raw_a', 'raw from cluster1']]);
    const bg = await c2.RawBatchGet({ context: v1ctx(), keys: [b('raw_a'), b('raw_b')] });
    expect(bg.pairs.map((p) => [p.key.toString(), p.value.toString()])).toEqual([['raw_a', 'raw from cluster2']]);
    const raw = server.rawKeys().map(hex);
    expect(raw).toContain(hex(Buffer.concat([P('raw', 1), b('raw_a')])));
    expect(raw).toContain(hex(Buffer.concat([P('raw', 2), b('raw_a')])));
  });

  test('Coprocessor ranges are confined to the keyspace and the paging range comes back unprefixed', async () => {
    needSetup();
    for (const [tenant, client] of [['cluster1', c1], ['cluster2', c2]]) {
      const r = await client.Coprocessor({ context: v1ctx(), tp: 103, data: b('dag'), start_ts: READ_TS, ranges: [{ start: b('t_user_'), end: b('t_user_~') }] });
      expect(r.region_error).toBeFalsy();
      expect(r.other_error).toBe('');
      const doc = JSON.parse(r.data.toString());
      expect(doc.apiVersion).toBe(2);
      expect(doc.rows.map((x) => [x.key, x.value])).toEqual(USER_KEYS.map((k) => [k, VALUE[tenant](k)]));
      expect(r.range.start.toString()).toBe('t_user_');
      expect(r.range.end.toString()).toBe('t_user_~');
      // Empty bounds: the whole keyspace and nothing else.
      const all = await client.Coprocessor({ context: v1ctx(), tp: 103, data: b('dag'), start_ts: READ_TS, ranges: [{ start: b(''), end: b('') }] });
      const rows = JSON.parse(all.data.toString()).rows;
      expect(rows.length).toBeGreaterThanOrEqual(USER_KEYS.length);
      for (const row of rows) expect(row.value).not.toMatch(tenant === 'cluster1' ? /cluster2/ : /cluster1/);
    }
  });
});

describe('BatchCommands', () => {
  const { def } = loadTikv();
  const bc = def['tikvpb.Tikv'].BatchCommands;

  test('several Gets in one stream, several batches back to back, request ids preserved', async () => {
    needSetup();
    for (const [tenant, client] of [['cluster1', c1], ['cluster2', c2]]) {
      const batches = [];
      let id = 100;
      for (let i = 0; i < 4; i++) {
        batches.push({
          requests: USER_KEYS.map((k) => ({ Get: { context: v1ctx(), key: b(k), version: READ_TS } })),
          request_ids: USER_KEYS.map(() => id++),
        });
      }
      batches.push({
        requests: [
          { BatchGet: { context: v1ctx(), keys: USER_KEYS.map(b), version: READ_TS } },
          { Scan: { context: v1ctx(), start_key: b('t_user_'), end_key: b('t_user_~'), limit: 10, version: READ_TS } },
          { Coprocessor: { context: v1ctx(), tp: 103, start_ts: READ_TS, ranges: [{ start: b('t_user_'), end: b('t_user_~') }] } },
          { Empty: { test_id: 42 } },
        ],
        request_ids: [900, 901, 902, 903],
      });
      const resps = await client.batchCommands(batches);
      const byId = new Map();
      for (const r of resps) r.responses.forEach((x, i) => byId.set(Number(r.request_ids[i]), x));
      expect(byId.size).toBe(16);
      for (let i = 0; i < 12; i++) {
        const g = byId.get(100 + i);
        expect(g.cmd).toBe('Get');
        expect(g.Get.error).toBeFalsy();
        expect(g.Get.value.toString()).toBe(VALUE[tenant](USER_KEYS[i % 3]));
      }
      expect(byId.get(900).BatchGet.pairs.map((p) => [p.key.toString(), p.value.toString()])).toEqual(USER_KEYS.map((k) => [k, VALUE[tenant](k)]));
      const scanKeys = byId.get(901).Scan.pairs.map((p) => p.key.toString());
      expect(scanKeys).toEqual(USER_KEYS);
      for (const p of byId.get(901).Scan.pairs) expect(p.value.toString()).not.toMatch(tenant === 'cluster1' ? /cluster2/ : /cluster1/);
      const cop = byId.get(902).Coprocessor;
      expect(JSON.parse(cop.data.toString()).rows.map((x) => x.value)).toEqual(USER_KEYS.map((k) => VALUE[tenant](k)));
      expect(cop.range.start.toString()).toBe('t_user_');
      expect(byId.get(903).Empty.test_id).toBe(42);
    }
  });

  test('many gRPC frames in one DATA chunk and a frame split across chunks', async () => {
    needSetup();
    const frames = [];
    for (let i = 0; i < 5; i++) {
      frames.push(grpcFrame(bc.requestSerialize({
        requests: USER_KEYS.map((k) => ({ Get: { context: v1ctx(), key: b(k), version: READ_TS } })),
        request_ids: USER_KEYS.map((_, j) => i * 10 + j),
      })));
    }
    const all = Buffer.concat(frames);
    // chunk 1: frames 0-2 whole + 3 bytes of frame 3's header; chunk 2: the rest.
    const cut = frames[0].length + frames[1].length + frames[2].length + 3;
    const r = await rawGrpcCall(envoys[0].port, '/tikvpb.Tikv/BatchCommands', [all.subarray(0, cut), all.subarray(cut)], { delayMs: 30 });
    expect({ status: r.status, reset: r.reset }).toEqual({ status: 0, reset: null });
    const got = r.frames.map((f) => bc.responseDeserialize(f.payload));
    const values = [];
    for (const g of got) g.responses.forEach((x, i) => values.push([Number(g.request_ids[i]), x.Get.value.toString()]));
    values.sort((a, z) => a[0] - z[0]);
    expect(values).toEqual([0, 1, 2, 3, 4].flatMap((i) => USER_KEYS.map((k, j) => [i * 10 + j, VALUE.cluster1(k)])));
  });

  test('a batch of 128 Gets in one message', async () => {
    needSetup();
    const n = 128;
    const resps = await c2.batchCommands([{
      requests: Array.from({ length: n }, (_, i) => ({ Get: { context: v1ctx(), key: b(USER_KEYS[i % 3]), version: READ_TS } })),
      request_ids: Array.from({ length: n }, (_, i) => i),
    }]);
    const flat = resps.flatMap((r) => r.responses.map((x, i) => [Number(r.request_ids[i]), x.Get.value.toString()]));
    expect(flat).toHaveLength(n);
    for (const [id, v] of flat) expect(v).toBe(VALUE.cluster2(USER_KEYS[id % 3]));
  });
});

describe('responses carrying another keyspace\'s key fail closed', () => {
  const foreign = (k) => Buffer.concat([P('txn', 2), b(k)]);

  test('KvGet with a KeyError.locked whose key lives in keyspace 2 -> INTERNAL', async () => {
    needSetup();
    server.inject({ method: 'KvGet', foreignLock: foreign('t_user_1') });
    const r = await grpcError(c1.KvGet({ context: v1ctx(), key: b('t_user_1'), version: READ_TS }));
    expect(r.ok).toBe(false);
    expect(r.code).toBe(S.INTERNAL);
    expect(r.details).toMatch(/^tidb-mesh: /);
  });

  test('KvScan with an extra pair from keyspace 2 -> INTERNAL', async () => {
    needSetup();
    server.inject({ method: 'KvScan', extraPair: { key: foreign('t_user_9'), value: b('secret of cluster2') } });
    const r = await grpcError(c1.KvScan({ context: v1ctx(), start_key: b('t_'), end_key: b(''), limit: 100, version: READ_TS }));
    expect(r.ok).toBe(false);
    expect(r.code).toBe(S.INTERNAL);
  });

  test('KvBatchGet with an unprefixed pair -> INTERNAL', async () => {
    needSetup();
    server.inject({ method: 'KvBatchGet', extraPair: { key: b('t_user_1'), value: b('no prefix at all') } });
    const r = await grpcError(c1.KvBatchGet({ context: v1ctx(), keys: [b('t_user_1')], version: READ_TS }));
    expect(r.ok).toBe(false);
    expect(r.code).toBe(S.INTERNAL);
  });

  test('Coprocessor with a paging range in keyspace 2 -> INTERNAL', async () => {
    needSetup();
    server.inject({ method: 'Coprocessor', range: { start: foreign('t_'), end: foreign('t_~') } });
    const r = await grpcError(c1.Coprocessor({ context: v1ctx(), tp: 103, start_ts: READ_TS, ranges: [{ start: b('t_'), end: b('t_~') }] }));
    expect(r.ok).toBe(false);
    expect(r.code).toBe(S.INTERNAL);
  });

  test('BatchCommands Get with a foreign lock -> the stream fails and no foreign key is delivered', async () => {
    needSetup();
    server.inject({ method: 'KvGet', foreignLock: foreign('t_user_2') });
    const r = await grpcError(c1.batchCommands([{ requests: [{ Get: { context: v1ctx(), key: b('t_user_2'), version: READ_TS } }], request_ids: [1] }]));
    expect(r.ok).toBe(false);
    expect(STREAM_ERROR_CODES).toContain(r.code);
    for (const resp of r.error.partial || []) {
      for (const x of resp.responses) {
        const lock = x.Get && x.Get.error && x.Get.error.locked;
        if (lock) expect(hex(lock.key)).not.toContain('78000002');
      }
    }
  });
});

describe('responses carrying another keyspace\'s key fail closed (mid-stream)', () => {
  test('BatchCommands: a foreign key in a LATER response, after good responses went out, ends the stream', async () => {
    needSetup();
    server.inject({ method: 'KvGet', skip: 1, foreignLock: Buffer.concat([P('txn', 2), b('t_user_3')]) });
    // One stream, two batches written back to back; the server answers each batch separately, so
    // the response headers and the first response are already out when the bad one arrives.
    const r = await grpcError(c1.batchCommands([
      { requests: [{ Get: { context: v1ctx(), key: b('t_user_1'), version: READ_TS } }], request_ids: [1] },
      { requests: [{ Get: { context: v1ctx(), key: b('t_user_3'), version: READ_TS } }], request_ids: [2] },
    ]));
    expect(r.ok).toBe(false);
    expect(STREAM_ERROR_CODES).toContain(r.code);
    const delivered = (r.error.partial || []).flatMap((x) => x.responses.map((y, i) => [Number(x.request_ids[i]), y]));
    for (const [id, y] of delivered) {
      expect(id).toBe(1);
      expect(y.Get.value.toString()).toBe(VALUE.cluster1('t_user_1'));
    }
  });
});

describe('policy', () => {
  test('an unknown method is refused by the filter with UNIMPLEMENTED', async () => {
    needSetup();
    const before = server.requests().length;
    const r = await grpcError(c1.rawUnary('/tikvpb.Tikv/NoSuchMethod', Buffer.alloc(0)));
    expect(r.ok).toBe(false);
    expect(r.code).toBe(S.UNIMPLEMENTED);
    // grpc-js would also say UNIMPLEMENTED; the prefix proves the filter answered.
    expect(r.details).toMatch(/^tidb-mesh: /);
    expect(server.requests().length).toBe(before);
  });

  test('KvGC is denied with PERMISSION_DENIED and never reaches TiKV', async () => {
    needSetup();
    const r = await grpcError(c1.KvGC({ context: v1ctx(), safe_point: 5 }));
    expect(r.ok).toBe(false);
    expect(r.code).toBe(S.PERMISSION_DENIED);
    expect(r.details).toMatch(/^tidb-mesh: /);
    expect(server.requests().some((x) => x.method === 'KvGC')).toBe(false);
  });

  // Keyless KvResolveLock (client-go's whole-region resolve) is rewritten, never forwarded keyless
  // (assembly/proto/keyless.ts): into the keyed form with the keys of that transaction's locks
  // the tenant was shown, or, for a transaction it was never shown, into one without effect.
  test('KvResolveLock without keys: the tenant\'s own lock is resolved by key; another tenant\'s start_ts has no effect', async () => {
    needSetup();
    const start = nextTs();
    const pw = await c1.KvPrewrite({ context: v1ctx(), mutations: [{ op: 0, key: b('t_keyless_1'), value: b('v1') }, { op: 0, key: b('t_keyless_2'), value: b('v2') }], primary_lock: b('t_keyless_1'), start_version: start, lock_ttl: 3000 });
    expect(pw.errors).toEqual([]);
    // cluster2 guesses the start_ts: reaches the store as start_version 0 without keys -> nothing.
    const before = server.requests().length;
    const r2 = await c2.KvResolveLock({ context: v1ctx(), start_version: start, commit_version: start + 1 });
    expect(r2.error).toBeFalsy();
    const sent2 = server.requests().slice(before).filter((x) => x.method === 'KvResolveLock').map((x) => x.request);
    expect(sent2.map((q) => [Number(q.start_version), Number(q.commit_version), q.keys.length])).toEqual([[0, 0, 0]]);
    const sl = await c1.KvScanLock({ context: v1ctx(), max_version: READ_TS, start_key: b('t_keyless'), end_key: b('t_keyless_9'), limit: 100 });
    expect(sl.locks.map((l) => l.key.toString())).toEqual(['t_keyless_1', 't_keyless_2']);
    // cluster1 was shown both locks (the ScanLock above): its keyless resolve is sent keyed.
    const mid = server.requests().length;
    const r1 = await c1.KvResolveLock({ context: v1ctx(), start_version: start, commit_version: start + 1 });
    expect(r1.error).toBeFalsy();
    const sent1 = server.requests().slice(mid).filter((x) => x.method === 'KvResolveLock').map((x) => x.request);
    expect(sent1.map((q) => [Number(q.start_version), q.keys.map((k) => Buffer.from(k).toString('hex'))])).toEqual([
      [start, ['t_keyless_1', 't_keyless_2'].map((k) => Buffer.concat([P('txn', 1), b(k)]).toString('hex'))],
    ]);
    expect((await c1.KvGet({ context: v1ctx(), key: b('t_keyless_2'), version: READ_TS })).value.toString()).toBe('v2');
  });

  test('Raft (TiKV peer traffic) is denied', async () => {
    needSetup();
    const r = await grpcError(c1.Raft([{ region_id: 1 }]));
    expect(r.ok).toBe(false);
    expect(r.code).toBe(S.PERMISSION_DENIED);
    expect(server.requests().some((x) => x.method === 'Raft')).toBe(false);
  });

  test('a malformed request body -> INVALID_ARGUMENT', async () => {
    needSetup();
    // GetRequest field 2 (key) with a length that runs past the end of the message.
    const r = await grpcError(c1.rawUnary('/tikvpb.Tikv/KvGet', Buffer.from([0x12, 0x7f, 0x74])));
    expect(r.ok).toBe(false);
    expect(r.code).toBe(S.INVALID_ARGUMENT);
  });

  test('a compressed gRPC frame -> UNIMPLEMENTED', async () => {
    needSetup();
    const { def } = loadTikv();
    const payload = def['tikvpb.Tikv'].KvGet.requestSerialize({ context: v1ctx(), key: b('t_user_1'), version: READ_TS });
    const r = await rawGrpcCall(envoys[0].port, '/tikvpb.Tikv/KvGet', [grpcFrame(payload, true)], { headers: { 'grpc-encoding': 'gzip' } });
    expect(r.status).toBe(S.UNIMPLEMENTED);
    expect(r.frames).toEqual([]);
  });

  test('messages over maxMessageBytes -> RESOURCE_EXHAUSTED (request and response)', async () => {
    needSetup();
    const big = 'v'.repeat(2048);
    const req = await grpcError(cSmall.RawPut({ context: v1ctx(), key: b('raw_big'), value: b(big) }));
    expect(req.ok).toBe(false);
    expect(req.code).toBe(S.RESOURCE_EXHAUSTED);
    // Written through the normal Envoy, read through the 1 KiB one: the response is too big.
    await txnWrite(c1, [['t_big', big]]);
    const small = await cSmall.KvGet({ context: v1ctx(), key: b('t_user_1'), version: READ_TS });
    expect(small.value.toString()).toBe(VALUE.cluster1('t_user_1'));
    const resp = await grpcError(cSmall.KvGet({ context: v1ctx(), key: b('t_big'), version: READ_TS }));
    expect(resp.ok).toBe(false);
    expect([S.RESOURCE_EXHAUSTED, ...STREAM_ERROR_CODES]).toContain(resp.code);
  });

  test('unsafe commands inside BatchCommands never reach TiKV as they were sent', async () => {
    needSetup();
    const before = server.requests().length;
    const r = await grpcError(c1.batchCommands([{
      requests: [{ GC: { context: v1ctx(), safe_point: 5 } }, { ResolveLock: { context: v1ctx(), start_version: 1, commit_version: 0 } }],
      request_ids: [1, 2],
    }]));
    const reached = server.requests().slice(before);
    expect(reached.map((x) => x.method)).not.toContain('KvGC');
    // The keyless ResolveLock of a transaction the tenant was never shown goes without effect.
    for (const x of reached.filter((q) => q.method === 'KvResolveLock')) expect([Number(x.request.start_version), x.request.keys.length]).toEqual([0, 0]);
    if (!r.ok) expect(r.code).toBe(S.PERMISSION_DENIED);
  });

  test('repeated denials keep the Wasm VM alive (a fresh Envoy: 5 x KvGC, then KvGet)', async () => {
    needSetup();
    const e = await startEnvoy({ upstream: { port: server.port }, pluginConfig: twoTenantConfig(), node: tidbNode('cluster1') });
    const c = tikvClient(e.port, { deadlineMs: 5000 });
    try {
      const codes = [];
      for (let i = 0; i < 5; i++) codes.push((await grpcError(c.KvGC({ context: v1ctx(), safe_point: 5 }))).code);
      const get = await grpcError(c.KvGet({ context: v1ctx(), key: b('t_user_1'), version: READ_TS }));
      const crash = vmCrash(e.logs());
      expect({ codes, get: get.ok ? get.value.value.toString() : `error ${get.code}`, crash }).toEqual({
        codes: [7, 7, 7, 7, 7], get: VALUE.cluster1('t_user_1'), crash: null,
      });
    } finally {
      c.close();
      await e.stop();
    }
  });

  test('an Envoy whose node labels match no tenant gets PERMISSION_DENIED for everything', async () => {
    needSetup();
    const before = server.requests().length;
    const calls = [
      cx.KvGet({ context: v1ctx(), key: b('t_user_1'), version: READ_TS }),
      cx.KvScan({ context: v1ctx(), start_key: b(''), end_key: b(''), limit: 10, version: READ_TS }),
      cx.KvPrewrite({ context: v1ctx(), mutations: [{ op: 0, key: b('t_x'), value: b('x') }], primary_lock: b('t_x'), start_version: nextTs() }),
      cx.RawGet({ context: v1ctx(), key: b('raw_a') }),
      cx.Coprocessor({ context: v1ctx(), tp: 103, ranges: [{ start: b('t_'), end: b('t_~') }] }),
      cx.batchCommands([{ requests: [{ Get: { context: v1ctx(), key: b('t_user_1'), version: READ_TS } }], request_ids: [1] }]),
    ];
    for (const p of calls) {
      const r = await grpcError(p);
      expect(r.ok).toBe(false);
      expect(r.code).toBe(S.PERMISSION_DENIED);
    }
    expect(server.requests().length).toBe(before);
  });

  test('UnsafeDestroyRange with empty bounds never touches the other tenant', async () => {
    needSetup();
    await txnWrite(c1, [['t_destroy_me', 'x']]);
    const r = await grpcError(c1.UnsafeDestroyRange({ context: v1ctx(), start_key: b(''), end_key: b('') }));
    if (!r.ok) expect(r.code).toBe(S.PERMISSION_DENIED); // refusing it is a valid policy
    for (const k of USER_KEYS) {
      const g = await c2.KvGet({ context: v1ctx(), key: b(k), version: READ_TS });
      expect(g.value.toString()).toBe(VALUE.cluster2(k));
    }
    const raw = server.rawKeys().map(hex);
    expect(raw.filter((k) => k.startsWith('78000002')).length).toBeGreaterThanOrEqual(USER_KEYS.length);
  });
});

describe('audit of everything the TiKV test server received', () => {
  test('every request reaching the server carries api_version=2, its keyspace_id, and keys of that keyspace', () => {
    needSetup();
    const log = server.requests();
    expect(log.length).toBeGreaterThan(0);
    for (const entry of log) {
      if (entry.method === 'Raft') continue;
      expect({ method: entry.method, api: entry.context.api_version }).toEqual({ method: entry.method, api: 2 });
      expect([1, 2]).toContain(entry.context.keyspace_id);
      const id = entry.context.keyspace_id;
      for (const key of keysOf(entry.request)) {
        const ok = key.length === 0
          || (key.length >= 4 && key.subarray(1, 4).equals(P('txn', id).subarray(1)) && (key[0] === 0x78 || key[0] === 0x72))
          || key.equals(P('txn', id + 1)) || key.equals(P('raw', id + 1));
        if (!ok) throw new Error(`${entry.method} for keyspace ${id} carried key ${hex(key)}`);
      }
    }
  });
});

describe('stability', () => {
  test('no Wasm VM crashed in any Envoy during this file', () => {
    needSetup();
    const crashes = envoys.map((e, i) => [['cluster1', 'cluster2', 'nomatch', 'cluster1-small'][i], vmCrash(e.logs())]).filter(([, c]) => c);
    expect(crashes).toEqual([]);
  });
});

describe('harness sanity (independent of the filter)', () => {
  test('an Envoy without the wasm filter forwards bytes untouched to the TiKV test server', async () => {
    const plain = await startEnvoy({ upstream: { port: server.port }, wasm: null, node: tidbNode('cluster1') });
    const c = tikvClient(plain.port);
    try {
      const r = await c.KvGet({ context: {}, key: b('t_plain'), version: READ_TS });
      expect(r.not_found).toBe(true);
      const last = server.requests().pop();
      expect(last.method).toBe('KvGet');
      expect(last.context.api_version).toBe(0);
      expect(last.request.key.toString()).toBe('t_plain');
      const st = await plain.stats();
      expect(st['cluster.upstream.upstream_rq_total']).toBeGreaterThanOrEqual(1);
      expect(parseFrames(Buffer.alloc(0))).toEqual([]);
    } finally {
      c.close();
      await plain.stop();
    }
  });
});
