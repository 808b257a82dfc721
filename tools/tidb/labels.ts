// Label and annotation keys read from TidbClusters / TiDBGroups, and operator pod labels.
import { Labels } from '../types';

/** Prefix of TidbCluster labels that become tenant-set labels (`tenant.tidb-mesh.io/customer: acme`). */
export const TENANT_LABEL_PREFIX = 'tenant.tidb-mesh.io/';
/** Annotation pinning a tenant's keyspace id (for keyspaces that already exist). */
export const ANN_KEYSPACE_ID = 'tidb-mesh.io/keyspace-id';
/** Annotation overriding the keyspace name (default: the tenant name). */
export const ANN_KEYSPACE_NAME = 'tidb-mesh.io/keyspace-name';

/** tidb-operator v1 pod labels of component `component` of TidbCluster `tc` (pkg/apis/label/label.go). */
export function v1PodLabels(tc: string, component: 'pd' | 'tikv' | 'tidb'): Labels {
  return { 'app.kubernetes.io/component': component, 'app.kubernetes.io/instance': tc };
}

/** tidb-operator v2 pod labels (api/core/v1alpha1/common_types.go). */
export function v2PodLabels(cluster: string, component: 'pd' | 'tikv' | 'tidb', group?: string): Labels {
  const l: Labels = { 'pingcap.com/cluster': cluster, 'pingcap.com/component': component };
  if (group) l['pingcap.com/group'] = group;
  return l;
}

/** Tenant-set labels of an object: its `tenant.tidb-mesh.io/<key>` labels with the prefix removed. */
export function tenantLabelsOf(labels: Labels | undefined): Labels {
  const out: Labels = {};
  for (const [k, v] of Object.entries(labels ?? {})) {
    if (k.startsWith(TENANT_LABEL_PREFIX)) out[k.slice(TENANT_LABEL_PREFIX.length)] = v;
  }
  return out;
}

/**
 * Parses the keyspace-id annotation. Returns undefined if absent, NaN if malformed
 * (the caller reports it), else the integer.
 */
export function pinnedIdOf(annotations: Labels | undefined): number | undefined {
  const raw = annotations?.[ANN_KEYSPACE_ID];
  if (raw === undefined) return undefined;
  return /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
}
