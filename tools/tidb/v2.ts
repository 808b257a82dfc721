// tidb-operator v2 (core.pingcap.com/v1alpha1 Cluster, PDGroup, TiKVGroup, TiDBGroup) -> storage
// layers and tenants. Pure. Coverage: a Cluster with at least one PDGroup and one TiKVGroup is a
// storage layer; every TiDBGroup of it is a tenant (all groups live in the Cluster's namespace).
import { Finding, KubeObject, StorageLayer, TenantSource } from '../types';
import { ANN_KEYSPACE_NAME, pinnedIdOf, tenantSetsFrom, v2PodLabels } from './labels';

export const V2_API = 'core.pingcap.com/v1alpha1';
export const V2_KINDS = ['Cluster', 'PDGroup', 'TiKVGroup', 'TiDBGroup'] as const;

type Spec = Record<string, any>;

/** True for the v2 kinds this tool reads. */
export function isV2Object(o: KubeObject): boolean {
  return o.apiVersion === V2_API && (V2_KINDS as readonly string[]).includes(o.kind);
}

function groupSa(g: KubeObject | undefined): string {
  const s: Spec = (g?.spec as Spec) ?? {};
  return s.template?.spec?.overlay?.pod?.spec?.serviceAccountName || 'default';
}

/**
 * Reads all v2 objects at once (groups refer to their Cluster by `spec.cluster.name`, same
 * namespace). Returns storage layers, tenants, ignored objects and findings.
 */
export function readV2(objs: KubeObject[]): { storage: StorageLayer[]; tenants: TenantSource[]; ignored: string[]; findings: Finding[] } {
  const out = { storage: [] as StorageLayer[], tenants: [] as TenantSource[], ignored: [] as string[], findings: [] as Finding[] };
  const ns = (o: KubeObject) => o.metadata.namespace ?? 'default';
  const clusterOf = (o: KubeObject) => ((o.spec as Spec)?.cluster?.name as string | undefined) ?? '';
  const groups = (kind: string, c: KubeObject) =>
    objs.filter((o) => o.kind === kind && ns(o) === ns(c) && clusterOf(o) === c.metadata.name);

  for (const c of objs.filter((o) => o.kind === 'Cluster')) {
    const name = c.metadata.name;
    const namespace = ns(c);
    const source = `Cluster ${namespace}/${name}`;
    const pd = groups('PDGroup', c);
    const tikv = groups('TiKVGroup', c);
    const tidb = groups('TiDBGroup', c);
    const tls = (c.spec as Spec)?.tlsCluster?.enabled === true;
    if (pd.length === 0 || tikv.length === 0) {
      out.ignored.push(`${source}: no PDGroup/TiKVGroup`);
      continue;
    }
    out.storage.push({
      operator: 'v2', name, namespace, source, tlsCluster: tls,
      pdServiceAccount: groupSa(pd[0]), tikvServiceAccount: groupSa(tikv[0]),
      pdSelector: v2PodLabels(name, 'pd'), tikvSelector: v2PodLabels(name, 'tikv'),
      podSelector: { 'pingcap.com/cluster': name },
      hasOwnTidb: false,
      tikvConfig: (tikv[0].spec as Spec)?.template?.spec?.config,
    });
    for (const g of tidb) {
      const gs: Spec = (g.spec as Spec) ?? {};
      const pinned = pinnedIdOf(g.metadata.annotations);
      const gsource = `TiDBGroup ${namespace}/${g.metadata.name}`;
      // Set values from the group's labels and its pod template's; two different values of one set are refused.
      const sets = tenantSetsFrom(gsource, [{ where: 'metadata.labels', labels: g.metadata.labels },
        { where: 'spec.template.metadata.labels', labels: gs.template?.metadata?.labels }]);
      out.findings.push(...sets.findings);
      if (pinned !== undefined && Number.isNaN(pinned)) {
        out.findings.push({ code: 'BAD_KEYSPACE_ANNOTATION', severity: 'error', object: gsource,
          message: 'annotation tidb-mesh.io/keyspace-id must be a decimal integer', fix: 'Correct or remove the annotation.' });
      }
      out.tenants.push({
        operator: 'v2', name: g.metadata.name, namespace, source: gsource,
        storageRef: { name, namespace },
        tlsCluster: tls,
        serviceAccount: groupSa(g),
        podSelector: v2PodLabels(name, 'tidb', g.metadata.name),
        tenantLabels: sets.sets,
        keyspaceName: g.metadata.annotations?.[ANN_KEYSPACE_NAME] ?? gs.template?.spec?.keyspace ?? g.metadata.name,
        pinnedKeyspaceId: pinned !== undefined && !Number.isNaN(pinned) ? pinned : undefined,
        tidbConfig: gs.template?.spec?.config,
        hasOwnStorage: false,
      });
    }
  }
  const clusters = new Set(objs.filter((o) => o.kind === 'Cluster').map((o) => `${ns(o)}/${o.metadata.name}`));
  for (const g of objs.filter((o) => o.kind !== 'Cluster')) {
    if (!clusters.has(`${ns(g)}/${clusterOf(g)}`)) {
      out.ignored.push(`${g.kind} ${ns(g)}/${g.metadata.name}: Cluster "${clusterOf(g)}" not among the inputs`);
    }
  }
  return out;
}
