// PD as the platform sees it (never through a tenant's filter): its HTTP API for lists and
// regions, its gRPC API for the GC safe points and timestamps (PD serves both on one port), and
// its embedded etcd through etcd's JSON gateway on the same port (/v3/kv/*).
import { bidiOnce, unary } from './grpc';
import { decodeRegionKey, encodeRegionKey } from './codec';

export type FetchLike = (url: string, init?: { method?: string; headers?: Record<string, string>; body?: string }) =>
  Promise<{ status: number; text(): Promise<string> }>;

/** A region by raw keys (end empty = no end), with its leader: what a TiKV request's Context needs. */
export interface Region {
  id: bigint;
  start: Buffer;
  end: Buffer;
  confVer: bigint;
  version: bigint;
  leaderId: bigint;
  storeId: bigint;
}

export interface ServiceSafePoint { serviceId: string; expiredAt: bigint; safePoint: bigint }
export interface Keyspace { id: number; name: string; state: string }
export interface Store { id: number; address: string; state: string }

/** JSON with the integers PD writes above 2^53 (timestamps, safe points) kept exact, as strings. */
function parseJson(text: string): any {
  return JSON.parse(text.replace(/("(?:safe_point|expired_at|gc_safe_point|min_safe_point)"\s*:\s*)(-?\d+)/g, '$1"$2"'));
}

const pct = (b: Buffer) => [...b].map((x) => '%' + x.toString(16).padStart(2, '0')).join('');

export class PdClient {
  readonly base: string;
  readonly target: string;
  private cluster?: bigint;

  constructor(url: string, private readonly fetchImpl: FetchLike = fetch as unknown as FetchLike) {
    this.base = url.replace(/\/+$/, '');
    const u = new URL(this.base);
    this.target = `${u.hostname}:${u.port || (u.protocol === 'https:' ? 443 : 80)}`;
  }

  async http(method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
    let res;
    try {
      res = await this.fetchImpl(`${this.base}${path}`, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (e) {
      throw new Error(`PD ${this.base}: ${(e as Error).message}`);
    }
    return { status: res.status, text: await res.text() };
  }

  private async getJson(path: string): Promise<any> {
    const r = await this.http('GET', path);
    if (r.status !== 200) throw new Error(`PD GET ${path}: HTTP ${r.status} ${r.text.trim().slice(0, 200)}`);
    return parseJson(r.text);
  }

  private async header(): Promise<{ cluster_id: bigint }> {
    if (this.cluster === undefined) {
      const r = await unary(this.target, '/pdpb.PD/GetMembers', 'pdpb.GetMembersRequest', 'pdpb.GetMembersResponse', { header: {} });
      this.cluster = r.header.cluster_id as bigint;
    }
    return { cluster_id: this.cluster };
  }

  private checkHeader(what: string, h: any): void {
    if (h && h.error && h.error.type !== 0) throw new Error(`PD ${what}: ${h.error.message || `error type ${h.error.type}`}`);
  }

  /** A fresh timestamp from PD's TSO. */
  async tso(): Promise<bigint> {
    const r = await bidiOnce(this.target, '/pdpb.PD/Tso', 'pdpb.TsoRequest', 'pdpb.TsoResponse', { header: await this.header(), count: 1 });
    this.checkHeader('Tso', r.header);
    return (BigInt(r.timestamp.physical) << 18n) + BigInt(r.timestamp.logical);
  }

  /** The global GC safe point (what every TiKV collects below). */
  async gcSafePoint(): Promise<bigint> {
    const r = await unary(this.target, '/pdpb.PD/GetGCSafePoint', 'pdpb.GetGCSafePointRequest', 'pdpb.GetGCSafePointResponse', { header: await this.header() });
    this.checkHeader('GetGCSafePoint', r.header);
    return r.safe_point as bigint;
  }

  /** Moves the global GC safe point (PD never lowers it); returns the value PD now has. */
  async updateGCSafePoint(sp: bigint): Promise<bigint> {
    const r = await unary(this.target, '/pdpb.PD/UpdateGCSafePoint', 'pdpb.UpdateGCSafePointRequest', 'pdpb.UpdateGCSafePointResponse', { header: await this.header(), safe_point: sp });
    this.checkHeader('UpdateGCSafePoint', r.header);
    return r.new_safe_point as bigint;
  }

  /** Registers service safe point `id`; returns PD's minimum over all of them (and its owner). */
  async updateServiceSafePoint(id: string, ttlSeconds: bigint, sp: bigint): Promise<{ min: bigint; minService: string }> {
    const r = await unary(this.target, '/pdpb.PD/UpdateServiceGCSafePoint', 'pdpb.UpdateServiceGCSafePointRequest', 'pdpb.UpdateServiceGCSafePointResponse',
      { header: await this.header(), service_id: Buffer.from(id), TTL: ttlSeconds, safe_point: sp });
    this.checkHeader('UpdateServiceGCSafePoint', r.header);
    return { min: r.min_safe_point as bigint, minService: Buffer.from(r.service_id).toString() };
  }

  /** Every service safe point PD holds (expired ones included; PD drops them lazily). */
  async serviceSafePoints(): Promise<ServiceSafePoint[]> {
    const j = await this.getJson('/pd/api/v1/gc/safepoint');
    return (j.service_gc_safe_points ?? []).map((s: any) => ({ serviceId: String(s.service_id), expiredAt: BigInt(s.expired_at), safePoint: BigInt(s.safe_point) }));
  }

  async deleteServiceSafePoint(id: string): Promise<void> {
    const r = await this.http('DELETE', `/pd/api/v1/gc/safepoint/${encodeURIComponent(id)}`);
    if (r.status !== 200) throw new Error(`PD DELETE service safe point ${id}: HTTP ${r.status} ${r.text.trim().slice(0, 200)}`);
  }

  async keyspaces(): Promise<Keyspace[]> {
    const out: Keyspace[] = [];
    let token = '';
    for (;;) {
      const j = await this.getJson(`/pd/api/v2/keyspaces?limit=100${token ? `&page_token=${encodeURIComponent(token)}` : ''}`);
      for (const k of j.keyspaces ?? []) out.push({ id: Number(k.id), name: String(k.name), state: String(k.state) });
      token = j.next_page_token ?? '';
      if (!token) return out;
    }
  }

  async stores(): Promise<Store[]> {
    const j = await this.getJson('/pd/api/v1/stores');
    return (j.stores ?? []).map((s: any) => ({ id: Number(s.store.id), address: String(s.store.address), state: String(s.store.state_name) }));
  }

  /** The regions overlapping raw [start, end) (end empty: to the end), in key order. */
  async regions(start: Buffer, end: Buffer): Promise<Region[]> {
    const out: Region[] = [];
    let from = start;
    for (;;) {
      const q = `key=${pct(encodeRegionKey(from))}&end_key=${end.length ? pct(encodeRegionKey(end)) : ''}&limit=256`;
      const j = await this.getJson(`/pd/api/v1/regions/key?${q}`);
      const rs: Region[] = (j.regions ?? []).map(regionOf);
      out.push(...rs);
      const last = rs[rs.length - 1];
      if (!last || last.end.length === 0 || (end.length && Buffer.compare(last.end, end) >= 0) || rs.length < 256) return out;
      from = last.end;
    }
  }

  /** The region holding raw key `key`. */
  async regionOfKey(key: Buffer): Promise<Region> {
    const r = await this.http('GET', `/pd/api/v1/region/key/${pct(encodeRegionKey(key))}`);
    if (r.status !== 200 || r.text.trim() === 'null') throw new Error(`PD: no region for key ${key.toString('hex')} (HTTP ${r.status})`);
    return regionOf(parseJson(r.text));
  }

  // ---- etcd (PD's embedded etcd, JSON gateway) ------------------------------------------

  /** Keys and values in [key, rangeEnd) (rangeEnd empty: the one key). */
  async etcdRange(key: Buffer, rangeEnd: Buffer = Buffer.alloc(0)): Promise<Array<{ key: Buffer; value: Buffer }>> {
    const r = await this.http('POST', '/v3/kv/range', { key: key.toString('base64'), range_end: rangeEnd.toString('base64') });
    if (r.status !== 200) throw new Error(`etcd range: HTTP ${r.status} ${r.text.trim().slice(0, 200)}`);
    const j = JSON.parse(r.text);
    return (j.kvs ?? []).map((kv: any) => ({ key: Buffer.from(kv.key, 'base64'), value: Buffer.from(kv.value ?? '', 'base64') }));
  }

  async etcdPut(key: Buffer, value: Buffer): Promise<void> {
    const r = await this.http('POST', '/v3/kv/put', { key: key.toString('base64'), value: value.toString('base64') });
    if (r.status !== 200) throw new Error(`etcd put: HTTP ${r.status} ${r.text.trim().slice(0, 200)}`);
  }

  /** Deletes [key, rangeEnd); returns how many keys went. */
  async etcdDeleteRange(key: Buffer, rangeEnd: Buffer): Promise<number> {
    const r = await this.http('POST', '/v3/kv/deleterange', { key: key.toString('base64'), range_end: rangeEnd.toString('base64') });
    if (r.status !== 200) throw new Error(`etcd deleterange: HTTP ${r.status} ${r.text.trim().slice(0, 200)}`);
    return Number(JSON.parse(r.text).deleted ?? 0);
  }
}

function regionOf(j: any): Region {
  const hex = (s: unknown) => (s ? decodeRegionKey(Buffer.from(String(s), 'hex')) : Buffer.alloc(0));
  const leader = j.leader ?? (j.peers ?? [])[0] ?? {};
  return {
    id: BigInt(j.id), start: hex(j.start_key), end: hex(j.end_key),
    confVer: BigInt(j.epoch?.conf_ver ?? 0), version: BigInt(j.epoch?.version ?? 0),
    leaderId: BigInt(leader.id ?? 0), storeId: BigInt(leader.store_id ?? 0),
  };
}
