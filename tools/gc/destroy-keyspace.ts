// Destroys what a retired tenant left on the shared storage layer (`tidb-mesh tenants retire
// NS/NAME --destroy-data`), each part bounded to its keyspace by construction:
//   - its data: UnsafeDestroyRange on every store over [x<id>, x<id+1>) and [r<id>, r<id+1>)
//     (the range TiDB's GC worker sends for a dropped table, widened to the keyspace; TiKV
//     deletes every column family in it, locks included, without Raft);
//   - its service safe points ("tidb-mesh-<id>-…"), which would otherwise hold the global GC
//     back for ever (its GC worker registered with an infinite TTL);
//   - its etcd namespace, the same two ranges the filter confines it to (keyspace/etcd.ts);
//   - its PD rules: region label rules "tidb-mesh/<id>/…", placement groups and rules
//     "tidb-mesh-<id>-…" (the PD HTTP scopes, pdhttp/scope.ts).
// The keyspace itself stays in PD and its id stays reserved in the registry: a new tenant
// never reads an old tenant's leftovers under a reused id.
import { keyspaceRange } from '../storage/codec';
import { PdClient } from '../storage/pd-client';
import { TikvClient } from '../storage/tikv-client';
import { serviceScope } from './controller';

export interface DestroyReport {
  keyspace: number;
  ranges: string[];
  stores: number;
  serviceSafePoints: string[];
  etcdKeys: number;
  labelRules: string[];
  placementGroups: string[];
  tiflashRules: string[];
}

/** The tenant's etcd key space under the filter's rules for `template` (keyspace/keyspace.ts). */
export function etcdRanges(template: string, id: number, name = ''): Array<[Buffer, Buffer]> {
  const ns = Buffer.from(template.replace('{id}', String(id)).replace('{name}', name));
  const next = (b: Buffer) => {
    const c = Buffer.from(b);
    for (let i = c.length - 1; i >= 0; i--) if (c[i] !== 0xff) { c[i]++; return c.subarray(0, i + 1); }
    throw new Error('namespace has no end');
  };
  const w = (b: number) => Buffer.concat([ns, Buffer.from([b])]);
  if (template.endsWith('/')) return [[ns, next(ns)]];
  if (template.endsWith('{id}') && template.split('{').length === 2) return [[w(0x00), w(0x30)], [w(0x3a), next(ns)]];
  return [[w(0x2f), w(0x30)]];
}

export async function destroyKeyspace(pd: PdClient, id: number, tenantName: string, etcdNamespace: string, log: (l: string) => void): Promise<DestroyReport> {
  if (!Number.isInteger(id) || id < 1 || id > 16777214) throw new Error(`refusing to destroy keyspace ${id}: not a tenant keyspace id (1..16777214)`);
  const report: DestroyReport = { keyspace: id, ranges: [], stores: 0, serviceSafePoints: [], etcdKeys: 0, labelRules: [], placementGroups: [], tiflashRules: [] };
  const kv = new TikvClient(pd, id);
  const stores = await kv.allStores();
  report.stores = stores.length;
  for (const mode of ['txn', 'raw'] as const) {
    const { start, end } = keyspaceRange(mode, id);
    for (const s of stores) await kv.unsafeDestroyRange(s.address, start, end);
    report.ranges.push(`[${start.toString('hex')}, ${end.toString('hex')})`);
    log(`destroyed ${mode} keys [${start.toString('hex')}, ${end.toString('hex')}) on ${stores.length} store(s)`);
  }
  for (const s of await pd.serviceSafePoints()) {
    if (!s.serviceId.startsWith(serviceScope(id))) continue;
    await pd.deleteServiceSafePoint(s.serviceId);
    report.serviceSafePoints.push(s.serviceId);
  }
  for (const [a, b] of etcdRanges(etcdNamespace, id, tenantName)) report.etcdKeys += await pd.etcdDeleteRange(a, b);
  log(`deleted ${report.etcdKeys} etcd key(s) and ${report.serviceSafePoints.length} service safe point(s)`);
  const labels = await pd.http('GET', '/pd/api/v1/config/region-label/rules');
  if (labels.status === 200) {
    for (const r of JSON.parse(labels.text) ?? []) {
      if (typeof r.id !== 'string' || !r.id.startsWith(`tidb-mesh/${id}/`)) continue;
      const d = await pd.http('DELETE', `/pd/api/v1/config/region-label/rule/${encodeURIComponent(r.id)}`);
      if (d.status !== 200) throw new Error(`PD DELETE label rule ${r.id}: HTTP ${d.status}`);
      report.labelRules.push(r.id);
    }
  }
  const bundles = await pd.http('GET', '/pd/api/v1/config/placement-rule');
  if (bundles.status === 200) {
    for (const g of JSON.parse(bundles.text) ?? []) {
      if (typeof g.group_id !== 'string') continue;
      if (g.group_id.startsWith(serviceScope(id))) {
        const d = await pd.http('DELETE', `/pd/api/v1/config/placement-rule/${encodeURIComponent(g.group_id)}`);
        if (d.status !== 200) throw new Error(`PD DELETE placement group ${g.group_id}: HTTP ${d.status}`);
        report.placementGroups.push(g.group_id);
      } else if (g.group_id === 'tiflash') {
        for (const r of g.rules ?? []) {
          if (typeof r.id !== 'string' || !r.id.startsWith(serviceScope(id))) continue;
          const d = await pd.http('DELETE', `/pd/api/v1/config/rule/tiflash/${encodeURIComponent(r.id)}`);
          if (d.status !== 200) throw new Error(`PD DELETE TiFlash rule ${r.id}: HTTP ${d.status}`);
          report.tiflashRules.push(r.id);
        }
      }
    }
  }
  log(`deleted ${report.labelRules.length} label rule(s), ${report.placementGroups.length} placement group(s), ${report.tiflashRules.length} TiFlash rule(s)`);
  return report;
}
