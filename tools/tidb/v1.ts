// tidb-operator v1 (pingcap.com/v1alpha1 TidbCluster) -> storage layers and tenants. Pure.
import { Finding, KubeObject, StorageLayer, TenantSource, Workload } from '../types';
import { ANN_KEYSPACE_NAME, pinnedIdOf, tenantSetsFrom, v1PodLabels } from './labels';

export const V1_API = 'pingcap.com/v1alpha1';

type Spec = Record<string, any>;

function sa(spec: Spec, component: 'pd' | 'tikv' | 'tidb' | 'tiproxy'): string {
  return spec[component]?.serviceAccount || spec.serviceAccount || 'default';
}

/** True for `pingcap.com/v1alpha1` TidbCluster objects. */
export function isV1TidbCluster(o: KubeObject): boolean {
  return o.apiVersion === V1_API && o.kind === 'TidbCluster';
}

/**
 * Classifies one v1 TidbCluster. A storage layer has `spec.pd` and `spec.tikv`; a tenant has
 * `spec.cluster.name` and `spec.tidb`. Returns what it found plus findings for malformed input
 * (anything else is `ignored` with a reason).
 */
export function readV1(o: KubeObject): { storage?: StorageLayer; tenant?: TenantSource; ignored?: string; findings: Finding[] } {
  const spec: Spec = (o.spec as Spec) ?? {};
  const name = o.metadata.name;
  const namespace = o.metadata.namespace ?? 'default';
  const source = `TidbCluster ${namespace}/${name}`;
  const tls = spec.tlsCluster?.enabled === true;
  const findings: Finding[] = [];
  const ref = spec.cluster?.name as string | undefined;

  if (ref) {
    if (!spec.tidb) return { ignored: `${source}: references ${ref} but has no spec.tidb`, findings };
    const pinned = pinnedIdOf(o.metadata.annotations);
    const sets = tenantSetsFrom(source, [{ where: 'metadata.labels', labels: o.metadata.labels }]);
    findings.push(...sets.findings);
    if (pinned !== undefined && Number.isNaN(pinned)) {
      findings.push({ code: 'BAD_KEYSPACE_ANNOTATION', severity: 'error', object: source,
        message: `annotation tidb-mesh.io/keyspace-id must be a decimal integer`,
        fix: 'Correct or remove the annotation.' });
    }
    // The tenant's own TiProxy (spec.tiproxy) discovers TiDBs through the shared PD's etcd too:
    // it gets the tenant's filter on its own pods (operator label component=tiproxy).
    const workloads: Workload[] = [{ component: 'tidb', source, name, podSelector: v1PodLabels(name, 'tidb'), serviceAccount: sa(spec, 'tidb'), config: spec.tidb.config }];
    if (spec.tiproxy) workloads.push({ component: 'tiproxy', source, name, podSelector: v1PodLabels(name, 'tiproxy'), serviceAccount: sa(spec, 'tiproxy'), config: spec.tiproxy.config });
    return {
      tenant: {
        operator: 'v1', name, namespace, source,
        storageRef: { name: ref, namespace: spec.cluster.namespace || namespace },
        tlsCluster: tls,
        serviceAccount: sa(spec, 'tidb'),
        podSelector: v1PodLabels(name, 'tidb'),
        tenantLabels: sets.sets,
        keyspaceName: o.metadata.annotations?.[ANN_KEYSPACE_NAME] ?? name,
        pinnedKeyspaceId: pinned !== undefined && !Number.isNaN(pinned) ? pinned : undefined,
        tidbConfig: spec.tidb.config,
        hasOwnStorage: Boolean(spec.pd || spec.tikv),
        workloads,
      },
      findings,
    };
  }
  if (spec.pd && spec.tikv) {
    return {
      storage: {
        operator: 'v1', name, namespace, source, tlsCluster: tls,
        pdServiceAccount: sa(spec, 'pd'), tikvServiceAccount: sa(spec, 'tikv'),
        pdSelector: v1PodLabels(name, 'pd'), tikvSelector: v1PodLabels(name, 'tikv'),
        podSelector: { 'app.kubernetes.io/instance': name },
        pdPeerService: `${name}-pd-peer`,
        hasOwnTidb: Boolean(spec.tidb),
        tikvConfig: spec.tikv.config,
      },
      findings,
    };
  }
  return { ignored: `${source}: neither a storage layer (pd+tikv) nor a tenant (spec.cluster.name)`, findings };
}
