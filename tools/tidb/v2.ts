// tidb-operator v2 (core.pingcap.com/v1alpha1 Cluster, PDGroup, TiKVGroup, TiDBGroup,
// TiProxyGroup) -> storage layers and tenants. Pure.
//
// What a tenant is in v2: groups name their Cluster by `spec.cluster.name` (same namespace) and
// a Cluster has no field for another Cluster's PD, so a tenant cannot be "a Cluster of its own
// referencing shared PD/TiKV groups". A Cluster with at least one PDGroup and one TiKVGroup is
// a storage layer, and its TiDBGroups are its tenants: each TiDBGroup is one tenant named after
// it, unless TiDBGroups carry the label `tidb-mesh.io/tenant: <name>`, which makes every group
// with that value one tenant (one keyspace) named <name>. TiProxyGroups are assigned to a tenant
// by their labels (tiproxy.ts). Every group of a tenant becomes a workload with its own plugin.
import { Finding, KubeObject, Labels, StorageLayer, TenantSource, Workload } from '../types';
import { serverLabels } from './config-labels';
import { ANN_KEYSPACE_NAME, pinnedIdOf, tenantSetsFrom, v2PodLabels } from './labels';
import { associateTiProxy, TENANT_LABEL, TidbGroupLabels } from './tiproxy';

export const V2_API = 'core.pingcap.com/v1alpha1';
export const V2_KINDS = ['Cluster', 'PDGroup', 'TiKVGroup', 'TiDBGroup', 'TiProxyGroup'] as const;

type Spec = Record<string, any>;

/** True for the v2 kinds this tool reads. */
export function isV2Object(o: KubeObject): boolean {
  return o.apiVersion === V2_API && (V2_KINDS as readonly string[]).includes(o.kind);
}

function groupSa(g: KubeObject | undefined): string {
  const s: Spec = (g?.spec as Spec) ?? {};
  return s.template?.spec?.overlay?.pod?.spec?.serviceAccountName || 'default';
}

const spec = (g: KubeObject): Spec => (g.spec as Spec) ?? {};
const byName = (a: KubeObject, b: KubeObject) => a.metadata.name.localeCompare(b.metadata.name);

/** The one value every group gives (undefined when none does), or a conflict message. */
function agreed<T>(groups: KubeObject[], what: string, of: (g: KubeObject) => T | undefined): { value?: T; conflict?: string } {
  const given = groups.map((g) => [g.metadata.name, of(g)] as const).filter(([, v]) => v !== undefined);
  const values = [...new Set(given.map(([, v]) => JSON.stringify(v)))];
  if (values.length > 1) return { conflict: `its TiDBGroups disagree on ${what}: ${given.map(([n, v]) => `${n}=${String(v)}`).join(', ')}` };
  return { value: given[0]?.[1] };
}

/** One tenant from the TiDBGroups that share its name (one group without the tenant label). */
function tenantOf(name: string, groups: KubeObject[], cluster: string, namespace: string, tls: boolean, findings: Finding[]): TenantSource {
  const source = groups.length === 1 ? `TiDBGroup ${namespace}/${groups[0].metadata.name}` : `TiDBGroups ${namespace}/${groups.map((g) => g.metadata.name).join(',')} (tenant ${name})`;
  const at = (g: KubeObject, where: string) => (groups.length === 1 ? where : `${g.metadata.name} ${where}`);
  const sets = tenantSetsFrom(source, groups.flatMap((g) => [{ where: at(g, 'metadata.labels'), labels: g.metadata.labels },
    { where: at(g, 'spec.template.metadata.labels'), labels: spec(g).template?.metadata?.labels as Labels | undefined }]));
  findings.push(...sets.findings);
  const pins = groups.map((g) => pinnedIdOf(g.metadata.annotations));
  if (pins.some((p) => p !== undefined && Number.isNaN(p))) {
    findings.push({ code: 'BAD_KEYSPACE_ANNOTATION', severity: 'error', object: source,
      message: 'annotation tidb-mesh.io/keyspace-id must be a decimal integer', fix: 'Correct or remove the annotation.' });
  }
  const pin = agreed(groups, 'the keyspace-id annotation', (g) => { const p = pinnedIdOf(g.metadata.annotations); return p === undefined || Number.isNaN(p) ? undefined : p; });
  const ksName = agreed(groups, 'the keyspace name', (g) => g.metadata.annotations?.[ANN_KEYSPACE_NAME] ?? spec(g).template?.spec?.keyspace);
  for (const c of [pin.conflict, ksName.conflict].filter(Boolean)) {
    findings.push({ code: 'TENANT_GROUPS_DISAGREE', severity: 'error', object: source, message: c!,
      fix: `Give every TiDBGroup labelled ${TENANT_LABEL}: ${name} the same value, or only one of them.` });
  }
  const workloads: Workload[] = groups.map((g) => ({
    component: 'tidb', source: `TiDBGroup ${namespace}/${g.metadata.name}`, name: g.metadata.name,
    podSelector: v2PodLabels(cluster, 'tidb', g.metadata.name), serviceAccount: groupSa(g), config: spec(g).template?.spec?.config,
  }));
  return {
    operator: 'v2', name, namespace, source,
    storageRef: { name: cluster, namespace },
    tlsCluster: tls,
    serviceAccount: workloads[0].serviceAccount,
    podSelector: workloads[0].podSelector,
    tenantLabels: sets.sets,
    keyspaceName: ksName.value ?? name,
    pinnedKeyspaceId: pin.value,
    tidbConfig: workloads[0].config,
    hasOwnStorage: false,
    workloads,
  };
}

/**
 * Reads all v2 objects at once (groups refer to their Cluster by `spec.cluster.name`, same
 * namespace). Returns storage layers, tenants (with their TiDB and TiProxy workloads), ignored
 * objects and findings.
 */
export function readV2(objs: KubeObject[]): { storage: StorageLayer[]; tenants: TenantSource[]; ignored: string[]; findings: Finding[] } {
  const out = { storage: [] as StorageLayer[], tenants: [] as TenantSource[], ignored: [] as string[], findings: [] as Finding[] };
  const ns = (o: KubeObject) => o.metadata.namespace ?? 'default';
  const clusterOf = (o: KubeObject) => (spec(o).cluster?.name as string | undefined) ?? '';
  const groups = (kind: string, c: KubeObject) =>
    objs.filter((o) => o.kind === kind && ns(o) === ns(c) && clusterOf(o) === c.metadata.name).sort(byName);

  for (const c of objs.filter((o) => o.kind === 'Cluster')) {
    const name = c.metadata.name;
    const namespace = ns(c);
    const source = `Cluster ${namespace}/${name}`;
    const pd = groups('PDGroup', c);
    const tikv = groups('TiKVGroup', c);
    const tls = spec(c).tlsCluster?.enabled === true;
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
      tikvConfig: spec(tikv[0]).template?.spec?.config,
    });
    const byTenant = new Map<string, KubeObject[]>();
    for (const g of groups('TiDBGroup', c)) {
      const t = g.metadata.labels?.[TENANT_LABEL] ?? g.metadata.name;
      byTenant.set(t, [...(byTenant.get(t) ?? []), g]);
    }
    const tenants = [...byTenant].map(([t, gs]) => tenantOf(t, gs, name, namespace, tls, out.findings));
    const tidbLabels: TidbGroupLabels[] = [...byTenant].flatMap(([t, gs]) => gs.map((g) => ({
      group: g.metadata.name, tenant: t, labels: serverLabels(spec(g).template?.spec?.config, spec(g).template?.spec?.server?.labels).labels,
    })));
    for (const p of groups('TiProxyGroup', c)) {
      const psource = `TiProxyGroup ${namespace}/${p.metadata.name}`;
      const tpl: Spec = spec(p).template?.spec ?? {};
      const l = serverLabels(tpl.config, tpl.server?.labels);
      if (l.unreadable.length) {
        out.findings.push({ code: 'TIPROXY_CONFIG_UNREADABLE', severity: 'error', object: psource,
          message: `cannot read labels / balance.label-name from: ${l.unreadable.join(' | ')}`,
          fix: 'Write `[balance]` / `label-name = "..."` and `[labels]` / `key = "value"` lines (or template.spec.server.labels).' });
        continue;
      }
      const a = associateTiProxy({ source: psource, labelName: l.labelName, labels: l.labels, explicitTenant: p.metadata.labels?.[TENANT_LABEL] },
        tidbLabels, tenants.map((t) => t.name));
      out.findings.push(...a.findings);
      const owner = tenants.find((t) => t.name === a.tenant);
      owner?.workloads!.push({ component: 'tiproxy', source: psource, name: p.metadata.name,
        podSelector: v2PodLabels(name, 'tiproxy', p.metadata.name), serviceAccount: groupSa(p), config: tpl.config });
    }
    out.tenants.push(...tenants);
  }
  const clusters = new Set(objs.filter((o) => o.kind === 'Cluster').map((o) => `${ns(o)}/${o.metadata.name}`));
  for (const g of objs.filter((o) => o.kind !== 'Cluster')) {
    if (!clusters.has(`${ns(g)}/${clusterOf(g)}`)) {
      out.ignored.push(`${g.kind} ${ns(g)}/${g.metadata.name}: Cluster "${clusterOf(g)}" not among the inputs`);
    }
  }
  return out;
}
