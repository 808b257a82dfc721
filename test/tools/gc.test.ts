// `tidb-mesh gc` and `tenants retire --destroy-data` without a cluster: one controller round
// against a fake PD (its etcd, service safe points, keyspaces) records what moved and why; the
// keyspace-bounded pieces (etcd ranges, key ranges, durations, the memcomparable codec) are
// checked directly. The real PD + TiKV + TiDB run is test/tidb/lifecycle.test.js.
import { gcRound, DEFAULT_OPTIONS, GcOptions, SAVED_SAFE_POINT_KEY } from '../../tools/gc/controller';
import { etcdRanges } from '../../tools/gc/destroy-keyspace';
import { parseDuration, gcOptions } from '../../tools/gc/command';
import { parseArgs } from '../../tools/options';
import { decodeRegionKey, encodeRegionKey, keyspaceRange, tsOfMs } from '../../tools/storage/codec';
import type { PdClient, ServiceSafePoint } from '../../tools/storage/pd-client';

const MIN = 60_000;
const NOW_MS = 1_800_000_000_000;
const NOW = tsOfMs(NOW_MS);
const ago = (ms: number) => tsOfMs(NOW_MS - ms);

/** A PD with an etcd, service safe points and a GC safe point, recording the calls that write. */
function fakePd(init: { etcd?: Record<string, string>; services?: ServiceSafePoint[]; gc?: bigint; keyspaces?: number[] }) {
  const etcd = new Map(Object.entries(init.etcd ?? {}));
  const services = new Map((init.services ?? []).map((s) => [s.serviceId, s]));
  const calls: string[] = [];
  let gc = init.gc ?? 0n;
  const pd = {
    tso: async () => NOW,
    gcSafePoint: async () => gc,
    serviceSafePoints: async () => [...services.values()],
    keyspaces: async () => [0, ...(init.keyspaces ?? [1, 2])].map((id) => ({ id, name: `ks${id}`, state: 'ENABLED' })),
    etcdRange: async (key: Buffer, end: Buffer = Buffer.alloc(0)) => [...etcd.entries()].sort()
      .filter(([k]) => (end.length ? Buffer.compare(Buffer.from(k), key) >= 0 && Buffer.compare(Buffer.from(k), end) < 0 : k === key.toString()))
      .map(([k, v]) => ({ key: Buffer.from(k), value: Buffer.from(v) })),
    etcdPut: async (k: Buffer, v: Buffer) => { calls.push(`put ${k} ${v}`); etcd.set(k.toString(), v.toString()); },
    deleteServiceSafePoint: async (id: string) => { calls.push(`delete ${id}`); services.delete(id); },
    updateServiceSafePoint: async (id: string, _ttl: bigint, sp: bigint) => {
      calls.push(`service ${id} ${sp}`);
      const min = [...services.values()].reduce((a, s) => (s.safePoint < a.safePoint ? s : a), { serviceId: id, safePoint: sp, expiredAt: 0n });
      if (sp >= min.safePoint) services.set(id, { serviceId: id, safePoint: sp, expiredAt: (1n << 63n) - 1n });
      return { min: min.safePoint < sp ? min.safePoint : sp, minService: min.safePoint < sp ? min.serviceId : id };
    },
    updateGCSafePoint: async (sp: bigint) => { calls.push(`gc ${sp}`); if (sp > gc) gc = sp; return gc; },
  };
  return { pd: pd as unknown as PdClient, calls, etcd, services };
}

const resolved: Array<[number, bigint]> = [];
const opts = (o: Partial<GcOptions> = {}): GcOptions => ({
  ...DEFAULT_OPTIONS, lifeTimeByKeyspace: new Map(), safePointWaitMs: 0, sleep: async () => {},
  resolve: async (_pd, ks, t) => { resolved.push([ks, t]); return { regions: 1, locks: ks, txns: 1, committed: 0, rolledBack: 1 }; },
  ...o,
});
const server = (ks: number, id: string, startedAgoMs: number, minStart?: bigint) => ({
  [`/keyspaces/tidb/${ks}/tidb/server/info/${id}`]: JSON.stringify({ start_timestamp: Math.floor((NOW_MS - startedAgoMs) / 1000) }),
  ...(minStart === undefined ? {} : { [`/keyspaces/tidb/${ks}/tidb/server/minstartts/${id}`]: String(minStart) }),
});
const noLog = () => {};

beforeEach(() => { resolved.length = 0; });

describe('gc round', () => {
  it('moves to the oldest need of all keyspaces, resolving locks below it first, then publishing it, then PD', async () => {
    const f = fakePd({ etcd: { ...server(1, 'a', 60 * MIN, ago(12 * MIN)), ...server(2, 'b', 60 * MIN, ago(3 * MIN)) } });
    const r = await gcRound(f.pd, opts({ lifeTimeMs: 10 * MIN }), noLog);
    const target = ago(12 * MIN) - 1n;
    expect(r.applied).toBe(target);
    expect(r.heldBy).toMatchObject({ keyspace: 1, what: 'oldest transaction of TiDB a' });
    expect(resolved).toEqual([[1, target], [2, target]]);
    expect(f.calls).toEqual([`service gc_worker ${target}`, `put ${SAVED_SAFE_POINT_KEY} ${target}`, `gc ${target}`]);
  });

  it('a tenant\'s service safe point (its tidb_gc_life_time) holds the point; another keyspace cannot move past it', async () => {
    const f = fakePd({ services: [{ serviceId: 'tidb-mesh-2-gc_worker', safePoint: ago(30 * MIN), expiredAt: (1n << 63n) - 1n }] });
    const r = await gcRound(f.pd, opts({ lifeTimeMs: 0 }), noLog);
    expect(r.applied).toBe(ago(30 * MIN));
    expect(r.heldBy.what).toBe('service safe point tidb-mesh-2-gc_worker');
  });

  it('a server that has not reported its oldest transaction yet bounds at its start time', async () => {
    const f = fakePd({ etcd: server(1, 'new', 2 * MIN) });
    const r = await gcRound(f.pd, opts({ lifeTimeMs: 0 }), noLog);
    expect(r.applied).toBe(tsOfMs(Math.floor((NOW_MS - 2 * MIN) / 1000) * 1000 - DEFAULT_OPTIONS.clockSkewMs));
  });

  it('bounds older than --max-hold are ignored and such service safe points deleted; platform service safe points never are', async () => {
    const f = fakePd({
      etcd: server(1, 'a', 90 * MIN, ago(80 * MIN)),
      services: [
        { serviceId: 'tidb-mesh-2-gc_worker', safePoint: ago(70 * MIN), expiredAt: (1n << 63n) - 1n },
        { serviceId: 'br-backup-1', safePoint: ago(50 * MIN), expiredAt: (1n << 63n) - 1n },
      ],
    });
    const r = await gcRound(f.pd, opts({ lifeTimeMs: 0, maxHoldMs: 60 * MIN }), noLog);
    expect(r.ignored.map((b) => b.what).sort()).toEqual(['oldest transaction of TiDB a', 'service safe point tidb-mesh-2-gc_worker']);
    expect(f.calls[0]).toBe('delete tidb-mesh-2-gc_worker');
    expect(r.applied).toBe(ago(50 * MIN));
    expect(r.heldBy.what).toBe('platform service safe point br-backup-1');
  });

  it('does nothing when the point would not move, and never lowers it', async () => {
    const f = fakePd({ gc: ago(5 * MIN), etcd: server(1, 'a', 60 * MIN, ago(20 * MIN)) });
    const r = await gcRound(f.pd, opts({ lifeTimeMs: 0 }), noLog);
    expect(r.applied).toBeNull();
    expect(f.calls).toEqual([]);
    expect(resolved).toEqual([]);
  });

  it('a failed lock resolution leaves the global point where it was', async () => {
    const f = fakePd({});
    await expect(gcRound(f.pd, opts({ lifeTimeMs: MIN, resolve: async () => { throw new Error('region error'); } }), noLog)).rejects.toThrow('region error');
    expect(f.calls.filter((c) => c.startsWith('gc ') || c.startsWith('put '))).toEqual([]);
  });

  it('refuses to run next to a TiDB without keyspace (its GC worker writes the global point too)', async () => {
    const f = fakePd({ etcd: { '/tidb/server/info/x': '{}' } });
    await expect(gcRound(f.pd, opts(), noLog)).rejects.toThrow(/TiDB without keyspace/);
  });
});

describe('keyspace-bounded pieces', () => {
  it('the etcd key space of a keyspace under each namespace rule', () => {
    const s = (rs: Array<[Buffer, Buffer]>) => rs.map(([a, b]) => [a.toString('latin1'), b.toString('latin1')]);
    expect(s(etcdRanges('/keyspaces/tidb/{id}', 1))).toEqual([['/keyspaces/tidb/1\x00', '/keyspaces/tidb/10'], ['/keyspaces/tidb/1:', '/keyspaces/tidb/2']]);
    expect(s(etcdRanges('/keyspaces/tidb/{id}/', 1))).toEqual([['/keyspaces/tidb/1/', '/keyspaces/tidb/10']]);
    expect(s(etcdRanges('/keyspaces/tidb/{name}', 1, 'acme'))).toEqual([['/keyspaces/tidb/acme/', '/keyspaces/tidb/acme0']]);
  });

  it('key ranges of a keyspace; the last id has no end and is refused', () => {
    expect(keyspaceRange('txn', 1)).toEqual({ start: Buffer.from('78000001', 'hex'), end: Buffer.from('78000002', 'hex') });
    expect(keyspaceRange('raw', 255)).toEqual({ start: Buffer.from('720000ff', 'hex'), end: Buffer.from('72000100', 'hex') });
    expect(() => keyspaceRange('txn', 0xffffff)).toThrow(/no end key/);
  });

  it('memcomparable region keys round-trip (TiDB codec.EncodeBytes)', () => {
    for (const k of ['', 'x', '78000001', '7800000174800000000000007f5f72']) {
      const raw = Buffer.from(k, 'hex');
      expect(decodeRegionKey(encodeRegionKey(raw)).equals(raw)).toBe(true);
    }
    expect(encodeRegionKey(Buffer.from('78000001', 'hex')).toString('hex')).toBe('7800000100000000fb');
  });

  it('durations and options', () => {
    expect(parseDuration('1h30m', 'x')).toBe(90 * MIN);
    expect(parseDuration('100ms', 'x')).toBe(100);
    expect(() => parseDuration('10 minutes', 'x')).toThrow(/not a duration/);
    const g = gcOptions(parseArgs(['gc', '--pd', 'http://pd:2379', '--life-time', '0s', '--life-time', '3=2h', '--max-hold', '1h', '--safe-point-wait', '5s']));
    expect([g.lifeTimeMs, g.lifeTimeByKeyspace.get(3), g.maxHoldMs, g.safePointWaitMs]).toEqual([0, 2 * 60 * MIN, 60 * MIN, 5000]);
  });
});
