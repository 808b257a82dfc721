// Inputs (any Kubernetes objects) -> Topology: storage layers and the tenants that reference them.
import { KubeObject, TenantSource, Topology, Workload } from '../types';
import { isV1TidbCluster, readV1 } from './v1';
import { isV2Object, readV2 } from './v2';

/**
 * Finds storage layers and tenants among `objects` (v1 TidbClusters and v2 groups). Objects of
 * other kinds are skipped silently; TidbClusters that are neither are listed in `ignored`.
 * Output is sorted by namespace/name so generation is deterministic.
 */
export function discover(objects: KubeObject[]): Topology {
  const t: Topology = { storageLayers: [], tenants: [], ignored: [], findings: [] };
  for (const o of objects.filter(isV1TidbCluster)) {
    const r = readV1(o);
    if (r.storage) t.storageLayers.push(r.storage);
    if (r.tenant) t.tenants.push(r.tenant);
    if (r.ignored) t.ignored.push(r.ignored);
    t.findings.push(...r.findings);
  }
  const v2 = readV2(objects.filter(isV2Object));
  t.storageLayers.push(...v2.storage);
  t.tenants.push(...v2.tenants);
  t.ignored.push(...v2.ignored);
  t.findings.push(...v2.findings);
  const key = (x: { namespace: string; name: string }) => `${x.namespace}/${x.name}`;
  t.storageLayers.sort((a, b) => key(a).localeCompare(key(b)));
  t.tenants.sort((a, b) => key(a).localeCompare(key(b)));
  return t;
}

/** "namespace/name" key of a storage layer or storage reference. */
export function storageKey(x: { namespace: string; name: string }): string {
  return `${x.namespace}/${x.name}`;
}

/** A tenant's workloads; without a list, its one TiDB workload (podSelector, serviceAccount). */
export function workloadsOf(t: TenantSource): Workload[] {
  return t.workloads ?? [{ component: 'tidb', source: t.source, name: t.name, podSelector: t.podSelector, serviceAccount: t.serviceAccount, config: t.tidbConfig }];
}
