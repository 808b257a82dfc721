'use strict';
// The protobuf wire walk (assembly/proto/{wire,writer,rewrite}.ts): unknown fields, order,
// duplicates, hostile wire types and varints, truncation, nesting depth, and length
// bookkeeping when a rewrite grows or shrinks a message across a varint boundary. Every case
// runs through the chunking matrix; successful outputs are compared byte for byte with the
// oracle in wire.js and decoded with protobufjs.
const { Core, S, frame, unframe } = require('./core');
const { runMatrix } = require('./chunking');
const W = require('./wire');
const { E, node } = W;

const ks = W.keyspace({ id: 1 });
const P = ks.txn;
let core;
beforeAll(() => { core = new Core(); expect(core.configure({})).toBe(''); });
afterAll(() => expect(core.traps).toBe(0));

const ctx = (...extra) => E.msg(1, node('kvrpcpb.Context', [E.varint(1, 5), ...extra]));

/** Runs payload `bytes` as one frame (and as 3 frames) through every chunking. */
function runBytes(path, bytes, isRequest = true) {
  const one = runMatrix([frame(bytes)], (chunks) => core.run(0, path, isRequest, chunks));
  const three = runMatrix([frame(bytes), frame(bytes), frame(bytes)], (chunks) => core.run(0, path, isRequest, chunks));
  expect(three.status).toBe(one.status);
  if (one.status === S.OK) expect(three.out.equals(Buffer.concat([one.out, one.out, one.out]))).toBe(true);
  return { status: one.status, payload: one.status === S.OK ? unframe(one.out)[0] : null };
}

/** Runs message node `n` and checks status and bytes against the oracle. */
function check(path, n, { isRequest = true, kind = 'txn' } = {}) {
  const exp = W.expected(n, ks, kind, isRequest);
  const got = runBytes(path, W.encode(n), isRequest);
  expect(got.status).toBe(exp.status);
  if (exp.status === S.OK) expect(got.payload.toString('hex')).toBe(exp.bytes.toString('hex'));
  return got.payload;
}

const GET = '/tikvpb.Tikv/KvGet';
const PREWRITE = '/tikvpb.Tikv/KvPrewrite';
const SCAN = '/tikvpb.Tikv/KvScan';

describe('unknown fields and order', () => {
  test('the oracle agrees with a hand-computed GetRequest', () => {
    const out = check(GET, node('kvrpcpb.GetRequest', [ctx(), E.bytes(2, 'k')]));
    // 0a 08 | 08 05 (region_id) a8 01 02 (api_version=2) 80 02 01 (keyspace_id=1) | 12 05 78 00 00 01 6b
    expect(out.toString('hex')).toBe('0a080805a80102800201' + '1205780000016b');
  });

  test('unknown fields of wire types 0, 1, 2, 5 are copied byte for byte, at every level', () => {
    const unknown = () => [
      E.varint(900, 300), E.fixed64(901, Buffer.from('0102030405060708', 'hex')),
      E.bytes(902, Buffer.from('opaque \x12\x05 not walked')), E.fixed32(903, Buffer.from('a1b2c3d4', 'hex')),
      E.varint(536870911, 1), // the largest field number: a 5-byte tag
    ];
    const n = node('kvrpcpb.PrewriteRequest', [
      ...unknown(),
      E.msg(1, node('kvrpcpb.Context', [...unknown(), E.varint(1, 9)])),
      E.msg(2, node('kvrpcpb.Mutation', [E.varint(1, 0), ...unknown(), E.bytes(2, 'mk'), E.bytes(3, 'value')])),
      E.bytes(3, 'primary'),
      ...unknown(),
    ]);
    const out = check(PREWRITE, n);
    for (const u of unknown()) expect(out.includes(W.encodeEntry(u))).toBe(true);
    expect(W.decode('kvrpcpb.PrewriteRequest', out).mutations[0].key.equals(Buffer.concat([P, Buffer.from('mk')]))).toBe(true);
  });

  test('fields in any order: key before context, context last, values between', () => {
    const n = node('kvrpcpb.GetRequest', [E.varint(3, 99), E.bytes(2, 'first'), E.varint(700, 1), ctx()]);
    const out = check(GET, n);
    const d = W.decode('kvrpcpb.GetRequest', out);
    expect(d.key.toString('hex')).toBe(Buffer.concat([P, Buffer.from('first')]).toString('hex'));
    expect(d.context).toMatchObject({ region_id: '5', api_version: 2, keyspace_id: 1 });
  });

  test('a repeated singular key: every occurrence is rewritten (TiKV uses the last)', () => {
    const out = check(GET, node('kvrpcpb.GetRequest', [E.bytes(2, 'one'), ctx(), E.bytes(2, 'two')]));
    expect(out.toString('hex')).toContain(Buffer.concat([P, Buffer.from('one')]).toString('hex'));
    expect(W.decode('kvrpcpb.GetRequest', out).key.equals(Buffer.concat([P, Buffer.from('two')]))).toBe(true);
  });

  test('a repeated Context: each occurrence is normalized; smuggled keyspace fields are dropped', () => {
    const smuggle = [E.varint(21, 1), E.str(31, 'other'), E.varint(32, 2), E.bytes(38, '\x08\x02')];
    const n = node('kvrpcpb.GetRequest', [
      E.msg(1, node('kvrpcpb.Context', [E.varint(1, 5), ...smuggle])),
      E.bytes(2, 'k'),
      E.msg(1, node('kvrpcpb.Context', [...smuggle, E.varint(32, 0xffffffff)])),
    ]);
    const out = check(GET, n);
    const d = W.decode('kvrpcpb.GetRequest', out);
    expect(d.context.api_version).toBe(2);
    expect(d.context.keyspace_id).toBe(1);
    expect(d.context.keyspace_name).toBeUndefined();
    expect(d.context.keyspace_identity).toBeUndefined();
  });

  test('10-byte varints are accepted (non-canonical ones copied as they are)', () => {
    const n = node('kvrpcpb.GetRequest', [
      E.msg(1, node('kvrpcpb.Context', [E.varint(1, 5, W.paddedVarint(5, 10))])), // region_id as 10 bytes
      E.varint(3, -1), // negative int: 10 bytes
      E.varint(800, 1n << 63n),
      E.bytes(2, 'k'),
    ]);
    check(GET, n);
    // a key whose length is a padded (non-canonical) varint is re-emitted canonically
    const bytes = Buffer.concat([W.tag(2, 2), W.paddedVarint(3, 4), Buffer.from('abc')]);
    const got = runBytes(GET, bytes);
    // No Context on the wire: the filter adds one (api_version 2, keyspace_id 1) at the end.
    expect(got.payload.toString('hex')).toBe('1207' + P.toString('hex') + '616263' + '0a06a80102800201');
  });
});

describe('hostile bytes are refused with a status', () => {
  const k = W.encodeEntry(E.bytes(2, 'k'));
  const cases = [
    ['group start (wire type 3) at the top', Buffer.concat([k, W.tag(700, 3), W.tag(700, 4)]), S.WIRE_TYPE],
    ['group end (wire type 4) at the top', Buffer.concat([W.tag(700, 4), k]), S.WIRE_TYPE],
    ['group inside Context', W.encode(node('kvrpcpb.GetRequest', [E.msg(1, node(null, [E.raw(W.tag(5, 3)), E.raw(W.tag(5, 4))]))])), S.WIRE_TYPE],
    ['wire type 6', Buffer.concat([W.tag(700, 6), Buffer.alloc(8)]), S.WIRE_TYPE],
    ['wire type 7', Buffer.concat([k, W.tag(700, 7), Buffer.alloc(4)]), S.WIRE_TYPE],
    ['key sent as a varint', Buffer.concat([W.tag(2, 0), Buffer.from([1])]), S.WIRE_TYPE],
    ['Context sent as fixed32', Buffer.concat([W.tag(1, 5), Buffer.alloc(4)]), S.WIRE_TYPE],
    ['11-byte varint value', Buffer.concat([W.tag(700, 0), Buffer.alloc(10, 0x80), Buffer.from([0])]), S.VARINT],
    ['11-byte varint tag', Buffer.concat([Buffer.alloc(10, 0xff), Buffer.from([1])]), S.VARINT],
    ['11-byte varint length', Buffer.concat([W.tag(2, 2), Buffer.alloc(10, 0x80), Buffer.from([0])]), S.VARINT],
    ['length >= 2^31', Buffer.concat([W.tag(2, 2), W.varint(0x80000000)]), S.VARINT],
    ['key length past the end', Buffer.concat([W.tag(2, 2), W.varint(10), Buffer.from('abc')]), S.TRUNCATED],
    ['Context length past the end', Buffer.concat([W.tag(1, 2), W.varint(3), Buffer.from([8])]), S.TRUNCATED],
    ['nested length past the Context end', W.encode(node('kvrpcpb.GetRequest', [E.msg(1, node(null, [E.raw(Buffer.from([0x12, 0x09, 0x08]))]))])), S.TRUNCATED],
    ['unknown length past the end', Buffer.concat([k, W.tag(700, 2), W.varint(100)]), S.TRUNCATED],
    ['truncated varint at the end', Buffer.concat([k, W.tag(700, 0), Buffer.from([0x80])]), S.TRUNCATED],
    ['truncated tag', Buffer.concat([k, Buffer.from([0x80])]), S.TRUNCATED],
    ['truncated fixed64', Buffer.concat([W.tag(700, 1), Buffer.alloc(7)]), S.TRUNCATED],
    ['truncated fixed32', Buffer.concat([W.tag(700, 5), Buffer.alloc(3)]), S.TRUNCATED],
    ['field number 0', Buffer.concat([Buffer.from([0x02, 0x00]), k]), S.FIELD_NUMBER],
    ['field number >= 2^32 (tag > 32 bits)', Buffer.concat([W.varint(1n << 35n), k]), S.FIELD_NUMBER],
  ];
  test.each(cases)('%s', (_, bytes, status) => {
    expect(runBytes(GET, bytes).status).toBe(status);
  });

  test('groups and bad varints in a response fail the same way', () => {
    expect(runBytes(GET, Buffer.concat([W.tag(700, 3)]), false).status).toBe(S.WIRE_TYPE);
    expect(runBytes(GET, Buffer.concat([W.tag(700, 0), Buffer.alloc(11, 0x81)]), false).status).toBe(S.VARINT);
  });

  test('nesting deeper than 32 walked levels -> DEPTH; 30 levels are fine', () => {
    const nest = (levels) => {
      let li = node('kvrpcpb.LockInfo', [E.bytes(3, Buffer.concat([P, Buffer.from('k')]))]);
      for (let i = 0; i < levels; i++) li = node('kvrpcpb.LockInfo', [E.msg(12, li)]);
      return node('kvrpcpb.GetResponse', [E.msg(2, node('kvrpcpb.KeyError', [E.msg(1, li)]))]);
    };
    check(GET, nest(28), { isRequest: false });
    expect(runBytes(GET, W.encode(nest(40)), false).status).toBe(S.DEPTH);
  });
});

describe('length bookkeeping', () => {
  /** Finds the length varint of the first field `num` in a payload: [length, varint bytes]. */
  function lenOf(payload, num) {
    let i = 0;
    while (i < payload.length) {
      let t = 0n, s = 0n, b;
      do { b = payload[i++]; t |= BigInt(b & 0x7f) << s; s += 7n; } while (b & 0x80);
      const wt = Number(t & 7n);
      if (wt !== 2) throw new Error('test helper expects LEN fields');
      const start = i;
      let n = 0, m = 1;
      do { b = payload[i++]; n += (b & 0x7f) * m; m *= 128; } while (b & 0x80);
      if (Number(t >> 3n) === num) return [n, i - start];
      i += n;
    }
    return null;
  }

  test.each([
    [123, 127, 1], // grows to 127: still one byte
    [124, 128, 2], // 127 -> 128 boundary crossed
    [126, 130, 2], // the example: 126 -> 130
    [16380, 16384, 3], // 16383 -> 16384 boundary (2 -> 3 bytes)
  ])('a Mutation of %i bytes grows to %i (length varint %i bytes); the frame length is fixed', (before, after, varintBytes) => {
    const mutation = (key) => node('kvrpcpb.Mutation', [E.varint(1, 0), E.bytes(2, key), E.bytes(3, 'v')]);
    const fixed = W.encode(mutation(Buffer.alloc(0))).length; // op + key(0) + value
    const keyLen = before - fixed - (before - fixed > 127 + 2 ? 1 : 0);
    let m = mutation(Buffer.alloc(keyLen, 0x61));
    // adjust so that the mutation body is exactly `before` bytes
    let body = W.encode(m).length;
    m = mutation(Buffer.alloc(keyLen + (before - body), 0x61));
    body = W.encode(m).length;
    expect(body).toBe(before);
    const n = node('kvrpcpb.PrewriteRequest', [ctx(), E.msg(2, m), E.bytes(3, 'p')]);
    const out = check(PREWRITE, n);
    expect(lenOf(out, 2)).toEqual([after, varintBytes]);
    const d = W.decode('kvrpcpb.PrewriteRequest', out);
    expect(d.mutations[0].key.length).toBe(P.length + keyLen + (before - W.encode(mutation(Buffer.alloc(keyLen, 0x61))).length));
  });

  test('a response shrinks across the boundaries: KvPair 130 -> 126 and 16385 -> 16381 bytes', () => {
    for (const [before, after] of [[130, 126], [16385, 16381]]) {
      const pair = (k) => node('kvrpcpb.KvPair', [E.bytes(2, k), E.bytes(3, 'v')]);
      const base = W.encode(pair(P)).length;
      let k = Buffer.concat([P, Buffer.alloc(before - base, 0x62)]);
      while (W.encode(pair(k)).length > before) k = k.subarray(0, k.length - 1);
      expect(W.encode(pair(k)).length).toBe(before);
      const out = check(SCAN, node('kvrpcpb.ScanResponse', [E.msg(2, pair(k)), E.msg(2, pair(Buffer.concat([P, Buffer.from('z')])))]), { isRequest: false });
      expect(lenOf(out, 2)[0]).toBe(after);
      expect(W.decode('kvrpcpb.ScanResponse', out).pairs).toHaveLength(2);
    }
  });

  test('many growing keys in one BatchCommands frame: nested lengths at three levels', () => {
    const get = (key) => node('tikvpb.BatchCommandsRequest.Request', [E.msg(1, node('kvrpcpb.GetRequest', [ctx(), E.bytes(2, key)]))]);
    const reqs = [];
    for (let i = 0; i < 60; i++) reqs.push(E.msg(1, get(Buffer.alloc(100 + i, 0x63))));
    const n = node('tikvpb.BatchCommandsRequest', [...reqs, E.bytes(2, W.varint(1))]);
    const out = check('/tikvpb.Tikv/BatchCommands', n);
    const d = W.decode('tikvpb.BatchCommandsRequest', out);
    expect(d.requests).toHaveLength(60);
    d.requests.forEach((r, i) => expect(r.Get.key.length).toBe(104 + i));
  });
});
