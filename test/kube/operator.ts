// A replay of tidb-operator v1's sync of the `<tc>-pd-peer` Service, as a test stand-in for the
// operator (which cannot run here): the same desired Service, the same comparison, the same
// write, under the operator's field manager (client-go's default: the binary name,
// tidb-controller-manager). From pingcap/tidb-operator release-1.x
// pkg/manager/member/pd_member_manager.go (syncPDHeadlessServiceForTidbCluster,
// getNewPDHeadlessServiceForTidbCluster), pkg/controller/service_control.go and
// controller.ServiceEqual: the Service is created with the spec copied into the annotation
// pingcap.com/last-applied-configuration; later syncs compare the wanted spec with that copy and,
// in v1.6, the wanted labels with the live ones; if either differs, the operator takes the live
// Service, replaces its whole spec (keeping clusterIP) and its labels with its own, rewrites the
// annotation and updates it (PUT). Anything another writer added to the spec is then gone.
import { CoreV1Api, KubeConfig, V1Service } from '@kubernetes/client-node';
import { kube } from './helpers';

export const OPERATOR_MANAGER = 'tidb-controller-manager';
const ANN = 'pingcap.com/last-applied-configuration';

/** What the operator wants for `<tc>-pd-peer` (ports named tcp-peer-*: PR pingcap/tidb-operator#4445). */
export function desiredPdPeer(tc: string, ns: string): V1Service {
  const selector = { 'app.kubernetes.io/component': 'pd', 'app.kubernetes.io/instance': tc, 'app.kubernetes.io/managed-by': 'tidb-operator', 'app.kubernetes.io/name': 'tidb-cluster' };
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: `${tc}-pd-peer`, namespace: ns, labels: { ...selector, 'app.kubernetes.io/used-by': 'peer' } },
    spec: {
      clusterIP: 'None', publishNotReadyAddresses: true, selector,
      ports: [
        { name: 'tcp-peer-2380', port: 2380, protocol: 'TCP', targetPort: 2380 as any },
        { name: 'tcp-peer-2379', port: 2379, protocol: 'TCP', targetPort: 2379 as any },
      ],
    },
  };
}

function api(): CoreV1Api {
  const kc = new KubeConfig();
  kc.loadFromFile(kube().adminKubeconfig);
  return kc.makeApiClient(CoreV1Api);
}

const canon = (v: unknown): string => JSON.stringify(v, (_k, x) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, x[k]])) : x));

/**
 * One operator sync of `<tc>-pd-peer` in `ns`: created, updated (spec and labels replaced) or
 * unchanged. `desired` overrides the wanted Service (an operator upgrade that changes it).
 */
export async function operatorSync(tc: string, ns: string, desired: V1Service = desiredPdPeer(tc, ns)): Promise<'created' | 'updated' | 'unchanged'> {
  const core = api();
  let old: V1Service | undefined;
  try { old = (await core.readNamespacedService(`${tc}-pd-peer`, ns)).body; } catch (e) { if ((e as any)?.statusCode !== 404) throw e; }
  if (!old) {
    const svc = { ...desired, metadata: { ...desired.metadata, annotations: { [ANN]: canon(desired.spec) } } };
    await core.createNamespacedService(ns, svc, undefined, undefined, OPERATOR_MANAGER);
    return 'created';
  }
  const specEqual = old.metadata?.annotations?.[ANN] !== undefined && canon(JSON.parse(old.metadata.annotations[ANN])) === canon(desired.spec);
  const labelsEqual = canon(old.metadata?.labels ?? {}) === canon(desired.metadata?.labels ?? {});
  if (specEqual && labelsEqual) return 'unchanged';
  const svc: V1Service = { ...old, metadata: { ...old.metadata, labels: desired.metadata!.labels, annotations: { ...(old.metadata?.annotations ?? {}), [ANN]: canon(desired.spec) } },
    spec: { ...desired.spec, clusterIP: old.spec?.clusterIP, clusterIPs: old.spec?.clusterIPs } };
  delete (svc.metadata as any).managedFields;
  await core.replaceNamespacedService(`${tc}-pd-peer`, ns, svc, undefined, undefined, OPERATOR_MANAGER);
  return 'updated';
}

/** The live `<tc>-pd-peer` Service (admin). */
export async function pdPeer(tc: string, ns: string): Promise<V1Service> {
  return (await api().readNamespacedService(`${tc}-pd-peer`, ns)).body;
}
