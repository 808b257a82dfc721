'use strict';
// The keyspace codec (assembly/keyspace/{codec,keyspace}.ts): memcomparable vectors from
// keyfields.md §1.4, decode validation, prefixes and next prefixes, and prefix mode.
const { Core, S, frame, unframe } = require('./core');
const { runMatrix } = require('./chunking');
const W = require('./wire');
const { E, node } = W;

let core;
beforeAll(() => { core = new Core(); });
afterAll(() => expect(core.traps).toBe(0));

const hex = (s) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('memcomparable region keys (keyfields §1.4)', () => {
  const P = '78000001';
  test.each([
    ['""', '', '0000000000000000 f7'],
    ['P', P, '7800000100000000 fb'],
    ['P‖"t"', P + '74', '7800000174000000 fc'],
    ['P‖"abcd"', P + '61626364', '7800000161626364 ff 0000000000000000 f7'],
    ['P‖"abcdefgh"', P + '6162636465666768', '7800000161626364 ff 6566676800000000 fb'],
  ])('%s', (_, key, encoded) => {
    expect(core.encodeRegion(hex(key)).toString('hex')).toBe(hex(encoded).toString('hex'));
    const d = core.decodeRegion(hex(encoded));
    expect(d.status).toBe(S.OK);
    expect(d.out.toString('hex')).toBe(key);
  });

  test('round trip for every length 0..40 and 0xFF-heavy keys; JS model agrees', () => {
    for (let n = 0; n <= 40; n++) {
      for (const fill of [0x00, 0x61, 0xff]) {
        const k = Buffer.alloc(n, fill);
        const e = core.encodeRegion(k);
        expect(e.length).toBe((Math.floor(n / 8) + 1) * 9);
        expect(e.equals(W.encodeRegionKey(k))).toBe(true);
        const d = core.decodeRegion(e);
        expect(d.status).toBe(S.OK);
        expect(d.out.equals(k)).toBe(true);
      }
    }
  });

  test('trailing bytes after the terminating group are ignored (e.g. a timestamp suffix)', () => {
    const e = Buffer.concat([core.encodeRegion(hex(P + '74')), hex('00000000000000ff')]);
    expect(core.decodeRegion(e)).toEqual({ status: S.OK, out: hex(P + '74') });
  });

  test.each([
    ['empty', ''],
    ['shorter than one group', '7800000100000000'],
    ['marker with padding 9 (0xF6)', '0000000000000000 f6'],
    ['marker 0x00', '7800000100000000 00'],
    ['non-zero padding byte', '7800000174000001 fc'],
    ['full group then nothing', '7800000161626364 ff'],
    ['full group then a short one', '7800000161626364 ff 00000000'],
  ])('malformed: %s -> REGION_KEY', (_, b) => {
    expect(core.decodeRegion(hex(b)).status).toBe(S.REGION_KEY);
    expect(W.decodeRegionKey(hex(b))).toBeNull();
  });
});

describe('prefixes', () => {
  test.each([
    [1, '78000001', '78000002'],
    [2, '78000002', '78000003'],
    [255, '780000ff', '78000100'],
    [0xffff, '7800ffff', '78010000'],
    [0xfffffe, '78fffffe', '78ffffff'],
  ])('keyspace %i: P = %s, N = %s', (id, p, n) => {
    const b = core.apiV2Bounds(id);
    expect(b.prefix.toString('hex')).toBe(p);
    expect(b.end.toString('hex')).toBe(n);
  });

  test('configuration bounds: ids 1..0xFFFFFE only', () => {
    expect(core.configure({ tenants: [{ name: 'a', keyspaceId: 0xfffffe }] })).toBe('');
    expect(core.configure({ tenants: [{ name: 'a', keyspaceId: 0xffffff }] })).toMatch(/keyspaceId/);
    expect(core.configure({ tenants: [{ name: 'a', keyspaceId: 0 }] })).toMatch(/keyspaceId/);
  });

  test('the largest id: keys get 78 ff ff fe, an empty end becomes 78 ff ff ff, raw keys 72 ff ff fe', () => {
    expect(core.configure({ tenants: [{ name: 'a', keyspaceId: 0xfffffe }] })).toBe('');
    const ks = W.keyspace({ id: 0xfffffe });
    const scan = node('kvrpcpb.ScanRequest', [E.msg(1, node('kvrpcpb.Context', [])), E.bytes(2, 'a')]);
    const r = runMatrix([frame(W.encode(scan))], (c) => core.run(0, '/tikvpb.Tikv/KvScan', true, c));
    const d = W.decode('kvrpcpb.ScanRequest', unframe(r.out)[0]);
    expect(d.start_key.toString('hex')).toBe('78fffffe61');
    expect(d.end_key.toString('hex')).toBe('78ffffff');
    expect(d.context).toMatchObject({ api_version: 2, keyspace_id: 0xfffffe });
    const raw = node('kvrpcpb.RawGetRequest', [E.bytes(2, 'a')]);
    const rr = core.run(0, '/tikvpb.Tikv/RawGet', true, [frame(W.encode(raw))]);
    expect(unframe(rr.out)[0].equals(W.expected(raw, ks, 'raw', true).bytes)).toBe(true);
    expect(W.decode('kvrpcpb.RawGetRequest', unframe(rr.out)[0]).key.toString('hex')).toBe('72fffffe61');
  });
});

describe('prefix mode', () => {
  const cases = [['7400', '7401'], ['74ff', '75'], ['01ffff', '02']];
  test.each(cases)('prefix %s: keys get the prefix, an empty end becomes %s, Context is left alone', (pfx, end) => {
    expect(core.configure({ mode: 'prefix', tenants: [{ name: 'a', prefix: pfx }] })).toBe('');
    const ks = W.keyspace({ prefixHex: pfx });
    expect(ks.txnEnd.toString('hex')).toBe(end);
    const ctx = node('kvrpcpb.Context', [E.varint(1, 3), E.varint(21, 0), E.varint(32, 0xffffffff)]);
    for (const [path, n, kind] of [
      ['/tikvpb.Tikv/KvScan', node('kvrpcpb.ScanRequest', [E.msg(1, ctx), E.bytes(2, 'a')]), 'txn'],
      ['/tikvpb.Tikv/RawScan', node('kvrpcpb.RawScanRequest', [E.msg(1, ctx), E.bytes(2, 'b'), E.varint(6, 1)]), 'raw'],
      ['/tikvpb.Tikv/KvGet', node('kvrpcpb.GetRequest', [E.msg(1, ctx), E.bytes(2, 'c')]), 'txn'],
    ]) {
      const exp = W.expected(n, ks, kind, true);
      const r = runMatrix([frame(W.encode(n))], (c) => core.run(0, path, true, c));
      expect(r.status).toBe(S.OK);
      expect(unframe(r.out)[0].toString('hex')).toBe(exp.bytes.toString('hex'));
    }
    // and responses are stripped of the configured prefix
    const resp = node('kvrpcpb.ScanResponse', [E.msg(2, node('kvrpcpb.KvPair', [E.bytes(2, Buffer.concat([ks.txn, Buffer.from('k')]))]))]);
    const rr = core.run(0, '/tikvpb.Tikv/KvScan', false, [frame(W.encode(resp))]);
    expect(W.decode('kvrpcpb.ScanResponse', unframe(rr.out)[0]).pairs[0].key.toString()).toBe('k');
  });

  test('the coprocessor inside BatchCommands is refused in prefix mode (UNSUPPORTED)', () => {
    expect(core.configure({ mode: 'prefix', tenants: [{ name: 'a', prefix: '7400' }] })).toBe('');
    const n = node('tikvpb.BatchCommandsRequest', [E.msg(1, node('tikvpb.BatchCommandsRequest.Request', [E.msg(22, node('coprocessor.Request', []))]))]);
    expect(core.run(0, '/tikvpb.Tikv/BatchCommands', true, [frame(W.encode(n))]).status).toBe(S.UNSUPPORTED);
  });

  test('prefixes of only 0xFF bytes and overlapping prefixes are refused', () => {
    expect(core.configure({ mode: 'prefix', tenants: [{ name: 'a', prefix: 'ffff' }] })).toMatch(/no end/);
    expect(core.configure({ mode: 'prefix', tenants: [{ name: 'a', prefix: '74' }, { name: 'b', prefix: '7400' }] })).toMatch(/overlaps/);
  });
});
