'use strict';
// Every tikvpb method on the allowlist and every BatchCommands command, through the pure core
// and the chunking matrix. Messages come from the generator in wire.js (random fields, order,
// unknown fields, duplicates) and are checked three ways: byte for byte against the oracle,
// decoded with protobufjs, and every key field of the decoded output inspected.
const { Core, S, frame, unframe, DEFAULT_TENANTS } = require('./core');
const { runMatrix, prng } = require('./chunking');
const W = require('./wire');
const K = require('./kvproto');
const { E, node } = W;

const TIKV = '/tikvpb.Tikv/';
const KSS = DEFAULT_TENANTS.map((t) => W.keyspace({ id: t.keyspaceId }));
let core;
beforeAll(() => { core = new Core(); expect(core.configure({})).toBe(''); });
afterAll(() => expect(core.traps).toBe(0));

/** Runs a node through the matrix for tenant index `ti` and checks it against the oracle. */
function check(method, n, { ti = 0, isRequest = true, kind, matrix = {} } = {}) {
  const ks = KSS[ti];
  const k = kind || (K.isRawMethod(method) ? 'raw' : 'txn');
  const exp = W.expected(n, ks, k, isRequest);
  const bytes = W.encode(n);
  const r = runMatrix([frame(bytes)], (chunks) => core.run(ti, TIKV + method, isRequest, chunks), matrix);
  expect({ method, status: r.status, why: exp.why }).toEqual({ method, status: exp.status, why: exp.why });
  if (exp.status !== S.OK) return { status: r.status };
  const out = unframe(r.out)[0];
  expect(out.toString('hex')).toBe(exp.bytes.toString('hex'));
  expect(r.filtered).toBe(exp.filtered);
  const [reqType, respType] = K.METHODS[method];
  const decoded = W.decode(isRequest ? reqType : respType, out);
  return { status: r.status, out, decoded, ks, kind: k };
}

/** Request key fields in decoded output all carry the tenant's prefix (or are N / empty where allowed). */
function assertRequestKeys(typeName, decoded, ks, kind) {
  const checkMsg = (t, obj, k) => W.visitKeys(t, obj, (role, v, path) => {
    const { P, N } = W.bounds(ks, k);
    if (role === 'key_ne' && v.length === 0) return;
    if (role === 'end' || role === 'start') { if (v.equals(N)) return; }
    if (!W.hasPrefix(v, P)) throw new Error(`${path} = ${v.toString('hex')} lacks prefix ${P.toString('hex')}`);
  });
  if (typeName === 'tikvpb.BatchCommandsRequest') {
    for (const r of decoded.requests || []) {
      for (const [name, v] of Object.entries(r)) {
        const f = K.type('tikvpb.BatchCommandsRequest.Request').fields[name];
        if (f) checkMsg(f.resolvedType, v, /^Raw/.test(name) ? 'raw' : 'txn');
      }
    }
  } else {
    checkMsg(K.type(typeName), decoded, kind);
  }
}

const SEEDS = 6;

describe('every rewritten method: generated requests and responses', () => {
  test.each(Object.keys(K.METHODS))('%s', (method) => {
    const [reqType, respType] = K.METHODS[method];
    for (let seed = 1; seed <= SEEDS; seed++) {
      const ti = seed % KSS.length;
      const ks = KSS[ti];
      const kind = K.isRawMethod(method) ? 'raw' : 'txn';
      const rnd = prng(seed * 1000 + method.length);
      const req = W.generate(reqType, rnd, { dir: 'req', ks, kind });
      const r = check(method, req, { ti, matrix: { randomRuns: 1 } });
      if (r.status === S.OK) assertRequestKeys(reqType, r.decoded, ks, kind);
      const resp = W.generate(respType, rnd, { dir: 'resp', ks, kind, foreign: seed % 3 === 0 ? 0.1 : 0 });
      check(method, resp, { ti, isRequest: false, matrix: { randomRuns: 1 } });
    }
  });

  test('denied methods are not opened (-2), unknown ones neither (-1)', () => {
    for (const m of K.DENIED_METHODS) expect([m, core.open(0, TIKV + m, true)]).toEqual([m, -2]);
    expect(core.open(0, '/tikvpb.Tikv/NoSuchMethod', true)).toBe(-1);
    expect(core.open(0, '/tikvpb.Tikv/kvget', true)).toBe(-1);
    expect(core.open(0, 'tikvpb.Tikv/KvGet', true)).toBe(-1);
  });
});

describe('every BatchCommands command', () => {
  const wrapReq = (tag, msg) => node('tikvpb.BatchCommandsRequest', [
    E.msg(1, node('tikvpb.BatchCommandsRequest.Request', [E.msg(tag, msg)])), E.bytes(2, W.varint(77)),
  ]);
  const wrapResp = (tag, msg) => node('tikvpb.BatchCommandsResponse', [
    E.msg(1, node('tikvpb.BatchCommandsResponse.Response', [E.msg(tag, msg)])), E.bytes(2, W.varint(77)),
  ]);
  test.each(K.BATCH_CMDS.map(([tag, name, rq, rs]) => [name, tag, rq, rs]))('%s (tag %i)', (name, tag, rq, rs) => {
    for (let seed = 1; seed <= SEEDS; seed++) {
      const ti = seed % KSS.length;
      const ks = KSS[ti];
      const kind = /^Raw/.test(name) ? 'raw' : 'txn';
      const rnd = prng(seed * 31 + tag);
      const req = wrapReq(tag, W.generate(rq, rnd, { dir: 'req', ks, kind }));
      const r = check('BatchCommands', req, { ti, matrix: { randomRuns: 1 } });
      if (r.status === S.OK) assertRequestKeys('tikvpb.BatchCommandsRequest', r.decoded, ks, kind);
      check('BatchCommands', wrapResp(tag, W.generate(rs, rnd, { dir: 'resp', ks, kind, foreign: seed % 3 === 0 ? 0.1 : 0 })), { ti, isRequest: false, matrix: { randomRuns: 1 } });
    }
  });

  test.each(K.DENIED_BATCH_CMDS)('tag %i (%s) is denied', (tag) => {
    const n = node('tikvpb.BatchCommandsRequest', [
      E.msg(1, node('tikvpb.BatchCommandsRequest.Request', [E.msg(1, node('kvrpcpb.GetRequest', [E.bytes(2, 'k')]))])),
      E.msg(1, node('tikvpb.BatchCommandsRequest.Request', [E.msg(tag, node(null, [E.varint(2, 1)]))])),
    ]);
    expect(check('BatchCommands', n).status).toBe(S.DENIED);
  });

  test.each([[27], [41], [254], [1000], [1199], [100000]])('unknown command tag %i -> UNKNOWN_COMMAND (request and response)', (tag) => {
    const req = node('tikvpb.BatchCommandsRequest', [E.msg(1, node('tikvpb.BatchCommandsRequest.Request', [E.msg(tag, node(null, []))]))]);
    expect(check('BatchCommands', req).status).toBe(S.UNKNOWN_COMMAND);
    const resp = node('tikvpb.BatchCommandsResponse', [E.msg(1, node('tikvpb.BatchCommandsResponse.Response', [E.msg(tag, node(null, []))]))]);
    expect(check('BatchCommands', resp, { isRequest: false }).status).toBe(S.UNKNOWN_COMMAND);
    // a varint in the oneof wrapper is not a command either
    const v = node('tikvpb.BatchCommandsRequest', [E.msg(1, node('tikvpb.BatchCommandsRequest.Request', [E.varint(1, 1)]))]);
    expect(core.run(0, TIKV + 'BatchCommands', true, [frame(W.encode(v))]).status).toBe(S.WIRE_TYPE);
  });

  test('two commands in one Request (last member wins in TiKV): both are rewritten', () => {
    const n = node('tikvpb.BatchCommandsRequest', [E.msg(1, node('tikvpb.BatchCommandsRequest.Request', [
      E.msg(1, node('kvrpcpb.GetRequest', [E.bytes(2, 'g')])), E.msg(13, node('kvrpcpb.RawGetRequest', [E.bytes(2, 'r')])),
    ]))]);
    const r = check('BatchCommands', n);
    const d = r.decoded.requests[0];
    expect(d.RawGet.key.toString('hex')).toBe('72000001' + Buffer.from('r').toString('hex'));
  });
});

describe('requests: ranges and special keys', () => {
  const ctx = () => E.msg(1, node('kvrpcpb.Context', [E.varint(1, 9)]));
  const scan = (start, end, reverse) => node('kvrpcpb.ScanRequest', [
    ctx(), ...(start !== null ? [E.bytes(2, start)] : []), ...(end !== null ? [E.bytes(7, end)] : []), ...(reverse ? [E.varint(6, 1)] : []),
  ]);
  const P = '78000001', N = '78000002';
  test.each([
    ['forward', 'a', 'b', false, P + '61', P + '62'],
    ['forward, empty end -> N', 'a', '', false, P + '61', N],
    ['forward, no end field -> N', 'a', null, false, P + '61', N],
    ['forward, empty start -> P', '', 'b', false, P, P + '62'],
    ['reverse: start is the upper bound', 'b', 'a', true, P + '62', P + '61'],
    ['reverse, empty start -> N', '', 'a', true, N, P + '61'],
    ['reverse, empty end -> P', 'b', '', true, P + '62', P],
  ])('KvScan %s', (_, s, e, rev, start, end) => {
    const r = check('KvScan', scan(s, e, rev));
    expect(r.decoded.start_key.toString('hex')).toBe(start);
    expect(r.decoded.end_key.toString('hex')).toBe(end);
  });

  test('tenant 255: an empty end is the 4-byte N = 78 00 01 00 (codecV2), not 78 00 01', () => {
    const r = check('KvScan', scan('a', '', false), { ti: 3 });
    expect(r.decoded.end_key.toString('hex')).toBe('78000100');
    const raw = check('RawScan', node('kvrpcpb.RawScanRequest', [ctx(), E.bytes(2, 'a')]), { ti: 3 });
    expect(raw.decoded.end_key.toString('hex')).toBe('72000100');
  });

  test('CommitRequest.primary_key: empty stays empty, non-empty is prefixed; keys always', () => {
    let r = check('KvCommit', node('kvrpcpb.CommitRequest', [ctx(), E.bytes(3, 'k1'), E.bytes(3, ''), E.bytes(7, '')]));
    expect(r.decoded.primary_key.length).toBe(0);
    expect(r.decoded.keys.map((k) => k.toString('hex'))).toEqual([P + '6b31', P]);
    r = check('KvCommit', node('kvrpcpb.CommitRequest', [ctx(), E.bytes(7, 'p')]));
    expect(r.decoded.primary_key.toString('hex')).toBe(P + '70');
    r = check('KvFlush', node('kvrpcpb.FlushRequest', [ctx(), E.bytes(3, '')]));
    expect(r.decoded.primary_key.length).toBe(0);
  });

  test('ResolveLock without keys, no lock of the tenant known: sent without its transaction (no effect); with keys it is rewritten', () => {
    const none = check('KvResolveLock', node('kvrpcpb.ResolveLockRequest', [ctx(), E.varint(2, 5), E.varint(3, 9)]));
    expect(none.status).toBe(S.OK);
    expect([String(none.decoded.start_version || 0), String(none.decoded.commit_version || 0), (none.decoded.keys || []).length]).toEqual(['0', '0', 0]);
    const r = check('KvResolveLock', node('kvrpcpb.ResolveLockRequest', [ctx(), E.varint(2, 5), E.bytes(5, 'k')]));
    expect(r.decoded.keys[0].toString('hex')).toBe(P + '6b');
    const batch = node('tikvpb.BatchCommandsRequest', [E.msg(1, node('tikvpb.BatchCommandsRequest.Request', [E.msg(10, node('kvrpcpb.ResolveLockRequest', [ctx(), E.varint(2, 5)]))]))]);
    expect(check('BatchCommands', batch).status).toBe(S.OK);
  });

  test('Coprocessor ranges, tasks[].ranges and versioned ranges are all prefixed', () => {
    const kr = (s, e) => node('coprocessor.KeyRange', [E.bytes(1, s), E.bytes(2, e)]);
    const n = node('coprocessor.Request', [ctx(), E.varint(2, 103), E.bytes(3, 'dag'), E.msg(4, kr('t1', 't2')),
      E.msg(11, node('coprocessor.StoreBatchTask', [E.varint(1, 8), E.msg(4, kr('t3', ''))])),
      E.msg(15, node('coprocessor.VersionedKeyRange', [E.msg(1, kr('t5', 't6'))]))]);
    const r = check('Coprocessor', n);
    expect(r.decoded.ranges[0].start.toString('hex')).toBe(P + '7431');
    expect(r.decoded.tasks[0].ranges[0].end.toString('hex')).toBe(N);
    expect(r.decoded.versioned_ranges[0].range.end.toString('hex')).toBe(P + '7436');
    expect(r.decoded.data.toString()).toBe('dag');
  });

  test('GetStoreSafeTS (no Context): an empty range becomes [P, N)', () => {
    const r = check('GetStoreSafeTS', node('kvrpcpb.StoreSafeTSRequest', [E.msg(1, node('kvrpcpb.KeyRange', []))]));
    expect(r.decoded.key_range.start_key.toString('hex')).toBe(P);
    expect(r.decoded.key_range.end_key.toString('hex')).toBe(N);
  });
});

describe('responses', () => {
  const ks = KSS[0];
  const P = ks.txn;
  const pk = (s) => Buffer.concat([P, Buffer.from(s)]);
  const other = (s) => Buffer.concat([KSS[1].txn, Buffer.from(s)]);
  const lock = (primary, key, secondaries = []) => node('kvrpcpb.LockInfo', [E.bytes(1, primary), E.bytes(3, key), ...secondaries.map((s) => E.bytes(10, s))]);

  test('KvPair, LockInfo, KeyError nested keys are stripped', () => {
    const ke = node('kvrpcpb.KeyError', [
      E.msg(1, lock(pk('p'), pk('k'), [pk('s1'), pk('s2')])),
      E.msg(4, node('kvrpcpb.WriteConflict', [E.bytes(3, pk('wk')), E.bytes(4, pk('wp'))])),
      E.msg(6, node('kvrpcpb.Deadlock', [E.bytes(2, pk('lk')), E.msg(4, node('deadlock.WaitForEntry', [E.bytes(4, pk('wait'))])), E.bytes(5, pk('dk'))])),
      E.msg(100, node('kvrpcpb.DebugInfo', [E.msg(1, node('kvrpcpb.MvccDebugInfo', [E.bytes(1, pk('m')), E.msg(2, node('kvrpcpb.MvccInfo', [E.msg(1, node('kvrpcpb.MvccLock', [E.bytes(3, pk('mp'))]))]))]))])),
    ]);
    const n = node('kvrpcpb.ScanResponse', [E.msg(2, node('kvrpcpb.KvPair', [E.bytes(2, pk('a')), E.bytes(3, 'va')])),
      E.msg(2, node('kvrpcpb.KvPair', [E.msg(1, ke), E.bytes(2, Buffer.alloc(0))])), E.msg(3, ke)]);
    const r = check('KvScan', n, { isRequest: false });
    expect(r.decoded.pairs[0].key.toString()).toBe('a');
    expect(r.decoded.pairs[1].key.length).toBe(0);
    const e = r.decoded.error;
    expect(e.locked.secondaries.map(String)).toEqual(['s1', 's2']);
    expect(e.deadlock.wait_chain[0].key.toString()).toBe('wait');
    expect(e.debug_info.mvcc_info[0].mvcc.lock.primary.toString()).toBe('mp');
  });

  test.each([
    ['another keyspace', other('x')],
    ['the next keyspace N', KSS[0].txnEnd],
    ['a raw key in a txn response', Buffer.concat([KSS[0].raw, Buffer.from('k')])],
    ['an unprefixed v1 key', Buffer.from('t\x80\x00')],
    ['a proper prefix of P', P.subarray(0, 3)],
  ])('a foreign key (%s) anywhere fails the response with OUT_OF_KEYSPACE', (_, bad) => {
    const places = [
      node('kvrpcpb.ScanResponse', [E.msg(2, node('kvrpcpb.KvPair', [E.bytes(2, bad)]))]),
      node('kvrpcpb.ScanResponse', [E.msg(3, node('kvrpcpb.KeyError', [E.msg(1, lock(pk('p'), pk('k'), [pk('a'), bad]))]))]),
      node('kvrpcpb.ScanResponse', [E.msg(1, node('errorpb.Error', [E.msg(4, node('errorpb.KeyNotInRegion', [E.bytes(1, bad)]))]))]),
    ];
    for (const n of places) expect(check('KvScan', n, { isRequest: false }).status).toBe(S.OUT_OF_KEYSPACE);
  });

  const region = (id, s, e) => node('metapb.Region', [E.varint(1, id), E.bytes(2, s), E.bytes(3, e), E.msg(4, node('metapb.RegionEpoch', [E.varint(1, 1), E.varint(2, 3)]))]);
  const R = W.encodeRegionKey;

  test('EpochNotMatch: regions outside the keyspace are dropped, boundary regions clamped', () => {
    const n = node('kvrpcpb.GetResponse', [E.msg(1, node('errorpb.Error', [E.str(1, 'epoch not match'), E.msg(5, node('errorpb.EpochNotMatch', [
      E.msg(1, region(1, R(Buffer.from('7200000a', 'hex')), R(P))), // before the keyspace: dropped
      E.msg(1, region(2, R(Buffer.from('77', 'hex')), R(pk('m')))), // starts before: start clamped to ""
      E.msg(1, region(3, R(pk('m')), R(KSS[0].txnEnd))), // ends at N: end clamped to ""
      E.msg(1, region(4, R(pk('a')), R(pk('b')))), // inside
      E.msg(1, region(5, R(KSS[0].txnEnd), Buffer.alloc(0))), // after: dropped
    ]))]))]);
    const r = check('KvGet', n, { isRequest: false });
    const regions = r.decoded.region_error.epoch_not_match.current_regions;
    expect(regions.map((x) => x.id)).toEqual(['2', '3', '4']);
    expect(regions[0].start_key.length).toBe(0);
    expect(regions[0].end_key.equals(R(Buffer.from('m')))).toBe(true);
    expect(regions[1].end_key.length).toBe(0);
    expect(regions[2].start_key.equals(R(Buffer.from('a')))).toBe(true);
    expect(r.decoded.region_error.message).toBe('epoch not match');
  });

  test('KeyNotInRegion: key stripped, region bounds decoded/clamped/re-encoded; foreign region -> error', () => {
    let r = check('KvGet', node('kvrpcpb.GetResponse', [E.msg(1, node('errorpb.Error', [E.msg(4, node('errorpb.KeyNotInRegion', [
      E.bytes(1, pk('k')), E.varint(2, 7), E.bytes(3, R(pk('a'))), E.bytes(4, R(KSS[0].txnEnd))]))]))]), { isRequest: false });
    const kn = r.decoded.region_error.key_not_in_region;
    expect(kn.key.toString()).toBe('k');
    expect(kn.start_key.equals(R(Buffer.from('a')))).toBe(true);
    expect(kn.end_key.length).toBe(0);
    r = check('KvGet', node('kvrpcpb.GetResponse', [E.msg(1, node('errorpb.Error', [E.msg(4, node('errorpb.KeyNotInRegion', [
      E.bytes(3, R(KSS[1].txn)), E.bytes(4, R(KSS[1].txnEnd))]))]))]), { isRequest: false });
    expect(r.status).toBe(S.OUT_OF_KEYSPACE);
    r = check('KvGet', node('kvrpcpb.GetResponse', [E.msg(1, node('errorpb.Error', [E.msg(4, node('errorpb.KeyNotInRegion', [
      E.bytes(3, Buffer.from('7800000100', 'hex'))]))]))]), { isRequest: false });
    expect(r.status).toBe(S.REGION_KEY);
  });

  test('BucketVersionNotMatch: DecodeBucketKeys (first below P -> "", last at/after N -> "", foreign dropped)', () => {
    const n = node('kvrpcpb.GetResponse', [E.msg(1, node('errorpb.Error', [E.msg(21, node('errorpb.BucketVersionNotMatch', [E.varint(1, 4),
      E.bytes(2, R(Buffer.from('77', 'hex'))), E.bytes(2, R(P)), E.bytes(2, R(pk('b'))), E.bytes(2, R(other('z'))), E.bytes(2, R(KSS[0].txnEnd))]))]))]);
    const r = check('KvGet', n, { isRequest: false });
    const keys = r.decoded.region_error.bucket_version_not_match.keys;
    expect(keys.map((k) => k.toString('hex'))).toEqual(['', R(Buffer.from('b')).toString('hex'), '']);
  });

  test('Coprocessor: range (raw DecodeRange), locked, batch_responses', () => {
    const n = node('coprocessor.Response', [E.bytes(1, 'rows'), E.msg(3, lock(pk('p'), pk('k'))),
      E.msg(5, node('coprocessor.KeyRange', [E.bytes(1, Buffer.from('77', 'hex')), E.bytes(2, pk('e'))])),
      E.msg(13, node('coprocessor.StoreBatchTaskResponse', [E.bytes(1, 'd'), E.msg(3, lock(pk('p2'), pk('k2'))), E.varint(5, 3)]))]);
    const r = check('Coprocessor', n, { isRequest: false });
    expect(r.decoded.range.start.length).toBe(0);
    expect(r.decoded.range.end.toString()).toBe('e');
    expect(r.decoded.batch_responses[0].locked.key.toString()).toBe('k2');
    const bad = node('coprocessor.Response', [E.msg(13, node('coprocessor.StoreBatchTaskResponse', [E.msg(3, lock(other('p'), other('k')))]))]);
    expect(check('Coprocessor', bad, { isRequest: false }).status).toBe(S.OUT_OF_KEYSPACE);
    const after = node('coprocessor.Response', [E.msg(5, node('coprocessor.KeyRange', [E.bytes(1, KSS[0].txnEnd), E.bytes(2, Buffer.alloc(0))]))]);
    expect(check('Coprocessor', after, { isRequest: false }).status).toBe(S.OUT_OF_KEYSPACE);
  });

  test.each([
    ['PhysicalScanLock', (ls) => node('kvrpcpb.PhysicalScanLockResponse', ls.map((l) => E.msg(2, l))), (d) => d.locks],
    ['CheckLockObserver', (ls) => node('kvrpcpb.CheckLockObserverResponse', [E.varint(2, 1), ...ls.map((l) => E.msg(3, l))]), (d) => d.locks],
  ])('store-wide %s: other keyspaces\' locks are filtered out', (method, mk, get) => {
    const r = check(method, mk([lock(pk('p'), pk('a')), lock(other('p'), other('b')), lock(pk('p'), pk('c')), lock(pk('p'), other('d'))]), { isRequest: false });
    expect(get(r.decoded).map((l) => l.key.toString())).toEqual(['a', 'c']);
  });

  test('store-wide GetLockWaitInfo: foreign wait entries are filtered out', () => {
    const w = (k) => node('deadlock.WaitForEntry', [E.varint(1, 1), E.bytes(4, k)]);
    const r = check('GetLockWaitInfo', node('kvrpcpb.GetLockWaitInfoResponse', [E.msg(3, w(pk('a'))), E.msg(3, w(other('b'))), E.msg(3, w(Buffer.from('t')))]), { isRequest: false });
    expect(r.decoded.entries.map((e) => e.key.toString())).toEqual(['a']);
  });

  test('raw responses use the raw prefix: a txn-prefixed key in RawScan fails', () => {
    const ok = check('RawScan', node('kvrpcpb.RawPairsResponse', [E.msg(2, node('kvrpcpb.KvPair', [E.bytes(2, Buffer.concat([ks.raw, Buffer.from('r')]))]))]), { isRequest: false });
    expect(ok.decoded.pairs[0].key.toString()).toBe('r');
    expect(check('RawScan', node('kvrpcpb.RawPairsResponse', [E.msg(2, node('kvrpcpb.KvPair', [E.bytes(2, pk('r'))]))]), { isRequest: false }).status).toBe(S.OUT_OF_KEYSPACE);
  });

  test('SplitRegion: regions decoded and clamped; a region of another keyspace fails', () => {
    const r = check('SplitRegion', node('kvrpcpb.SplitRegionResponse', [E.msg(4, region(1, R(P), R(pk('m')))), E.msg(4, region(2, R(pk('m')), R(KSS[0].txnEnd)))]), { isRequest: false });
    expect(r.decoded.regions[0].start_key.length).toBe(0);
    expect(r.decoded.regions[1].start_key.equals(R(Buffer.from('m')))).toBe(true);
    expect(check('SplitRegion', node('kvrpcpb.SplitRegionResponse', [E.msg(4, region(1, R(KSS[1].txn), R(KSS[1].txnEnd)))]), { isRequest: false }).status).toBe(S.OUT_OF_KEYSPACE);
  });
});
