// Label and annotation keys read from TidbClusters / TiDBGroups, and operator pod labels.
import { mergeSetLabels, setValueProblems, TENANT_SET_LABEL_PREFIX } from '../tenants/sets';
import { Finding, Labels } from '../types';

/** Prefix of TidbCluster labels that become tenant-set labels (`tenant.tidb-mesh.io/customer: acme`). */
export const TENANT_LABEL_PREFIX = TENANT_SET_LABEL_PREFIX;
/** Annotation pinning a tenant's keyspace id (for keyspaces that already exist). */
export const ANN_KEYSPACE_ID = 'tidb-mesh.io/keyspace-id';
/** Annotation overriding the keyspace name (default: the tenant name). */
export const ANN_KEYSPACE_NAME = 'tidb-mesh.io/keyspace-name';

/** tidb-operator v1 pod labels of component `component` of TidbCluster `tc` (pkg/apis/label/label.go). */
export function v1PodLabels(tc: string, component: 'pd' | 'tikv' | 'tidb' | 'tiproxy'): Labels {
  return { 'app.kubernetes.io/component': component, 'app.kubernetes.io/instance': tc };
}

/** tidb-operator v2 pod labels (api/core/v1alpha1/common_types.go). */
export function v2PodLabels(cluster: string, component: 'pd' | 'tikv' | 'tidb' | 'tiproxy', group?: string): Labels {
  const l: Labels = { 'pingcap.com/cluster': cluster, 'pingcap.com/component': component };
  if (group) l['pingcap.com/group'] = group;
  return l;
}

/**
 * A tenant's set values from one or more label maps (v1: the TidbCluster's labels; v2: the
 * TiDBGroup's and its pod template's), with an error finding for each set given two different
 * values (TENANT_SET_CONFLICT) and for invalid set names or empty values (TENANT_SET_INVALID).
 */
export function tenantSetsFrom(source: string, maps: Array<{ where: string; labels: Labels | undefined }>): { sets: Labels; findings: Finding[] } {
  const { sets, conflicts } = mergeSetLabels(maps);
  const findings: Finding[] = conflicts.map((message) => ({ code: 'TENANT_SET_CONFLICT', severity: 'error' as const, object: source, message,
    fix: `Give the set one value: make the ${TENANT_SET_LABEL_PREFIX}<set> labels agree (or remove one).` }));
  for (const message of setValueProblems(sets)) {
    findings.push({ code: 'TENANT_SET_INVALID', severity: 'error', object: source, message,
      fix: `Use ${TENANT_SET_LABEL_PREFIX}<set>: <value> with a non-empty label value; leave the label out for a tenant without a value.` });
  }
  return { sets, findings };
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
