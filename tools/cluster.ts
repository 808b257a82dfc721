// Live-cluster IO through @kubernetes/client-node (kubeconfig or in-cluster credentials):
// list inputs, load/save the registry ConfigMaps, server-side apply, read live objects for diff.
import { KubeConfig, KubernetesObject, KubernetesObjectApi } from '@kubernetes/client-node';
import { MANAGED_BY_LABEL } from './direction';
import { EXIT, RegistryError, ToolError } from './errors';
import { FIELD_MANAGER } from './istio/common';
import { emptyRegistry, parseRegistry, Registry } from './registry';
import { registryText } from './source';
import { V1_API } from './tidb/v1';
import { V2_API, V2_KINDS } from './tidb/v2';
import { KubeObject } from './types';

/** Kinds listed by listManaged (the API versions the tool generates). */
const MANAGED_KINDS: Array<[string, string]> = [
  ['extensions.istio.io/v1alpha1', 'WasmPlugin'], ['networking.istio.io/v1alpha3', 'EnvoyFilter'], ['security.istio.io/v1beta1', 'PeerAuthentication'],
];

/** Name and data key of the registry ConfigMap (one per storage-layer namespace). */
export const REGISTRY_CONFIGMAP = 'tidb-mesh-tenants';
export const REGISTRY_KEY = 'tenants.json';

/** Loads credentials: `kubeconfig` file if given, else $KUBECONFIG / ~/.kube/config / in-cluster. */
export function loadKubeConfig(kubeconfig?: string, context?: string): KubeConfig {
  const kc = new KubeConfig();
  if (kubeconfig) kc.loadFromFile(kubeconfig); else kc.loadFromDefault();
  if (context) kc.setCurrentContext(context);
  return kc;
}

function status(e: unknown): number | undefined {
  return (e as any)?.statusCode ?? (e as any)?.response?.statusCode;
}

function apiError(what: string, e: unknown): ToolError {
  const body = (e as any)?.body;
  const msg = body?.message ?? (e as Error)?.message ?? String(e);
  return new ToolError(`${what}: ${status(e) ? `HTTP ${status(e)} ` : ''}${msg}`, EXIT.IO, 'API_ERROR');
}

/** Registry loaded from ConfigMaps, with the resourceVersions needed for a conflict-safe save. */
export interface LiveRegistry {
  registry: Registry;
  /** namespace -> resourceVersion of its ConfigMap (absent = did not exist). */
  versions: Map<string, string>;
}

/** A connection to one Kubernetes API server. */
export class Cluster {
  readonly api: KubernetesObjectApi;
  constructor(kc: KubeConfig) {
    this.api = KubernetesObjectApi.makeApiClient(kc);
  }

  private async list(apiVersion: string, kind: string, namespace?: string, labelSelector?: string): Promise<KubeObject[]> {
    try {
      const res = await this.api.list(apiVersion, kind, namespace, undefined, undefined, undefined, undefined, labelSelector);
      return ((res.body as any).items ?? []).map((o: any) => ({ ...o, apiVersion, kind })) as KubeObject[];
    } catch (e) {
      // CRD not installed: discovery of the group fails (404) or the kind is unknown.
      if (status(e) === 404 || /Unrecognized API version and kind/.test((e as Error)?.message ?? '')) return [];
      throw apiError(`list ${kind}`, e);
    }
  }

  /**
   * Lists v1 TidbClusters and v2 Cluster/PDGroup/TiKVGroup/TiDBGroup in `namespace` (all
   * namespaces if undefined). API groups that are not installed yield nothing.
   */
  async listInputs(namespace?: string): Promise<KubeObject[]> {
    const out = await this.list(V1_API, 'TidbCluster', namespace);
    for (const k of V2_KINDS) out.push(...(await this.list(V2_API, k, namespace)));
    return out;
  }

  /**
   * Lists the objects tidb-mesh may have created that enforce a direction (WasmPlugin,
   * EnvoyFilter, PeerAuthentication labelled app.kubernetes.io/managed-by=tidb-mesh) in
   * `namespaces`. Kinds whose CRD is not installed yield nothing.
   */
  async listManaged(namespaces: string[]): Promise<KubeObject[]> {
    const out: KubeObject[] = [];
    for (const ns of [...new Set(namespaces)].sort()) {
      for (const [apiVersion, kind] of MANAGED_KINDS) out.push(...(await this.list(apiVersion, kind, ns, `${MANAGED_BY_LABEL}=tidb-mesh`)));
    }
    return out;
  }

  /** Reads an object; undefined if it does not exist (404). */
  async read(o: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }): Promise<KubeObject | undefined> {
    try {
      const res = await this.api.read({ apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.metadata.name, namespace: o.metadata.namespace } } as any);
      return res.body as unknown as KubeObject;
    } catch (e) {
      if (status(e) === 404) return undefined;
      throw apiError(`read ${o.kind} ${o.metadata.namespace}/${o.metadata.name}`, e);
    }
  }

  /** Namespaces that hold a registry ConfigMap (list across all namespaces by name). */
  async registryNamespaces(): Promise<string[]> {
    try {
      const res = await this.api.list('v1', 'ConfigMap', undefined, undefined, undefined, undefined, `metadata.name=${REGISTRY_CONFIGMAP}`);
      return ((res.body as any).items ?? []).map((c: any) => c.metadata.namespace as string).sort();
    } catch (e) {
      throw apiError('list registry ConfigMaps', e);
    }
  }

  /** Merges the registry ConfigMaps of `namespaces` into one registry. */
  async loadRegistry(namespaces: string[]): Promise<LiveRegistry> {
    const versions = new Map<string, string>();
    const tenants: Registry['tenants'] = [];
    for (const ns of [...new Set(namespaces)].sort()) {
      const cm = await this.read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: REGISTRY_CONFIGMAP, namespace: ns } });
      if (!cm) continue;
      versions.set(ns, String(cm.metadata.resourceVersion ?? ''));
      const text = (cm as any).data?.[REGISTRY_KEY];
      if (!text) continue;
      let doc: unknown;
      try { doc = JSON.parse(text); } catch {
        throw new RegistryError('REGISTRY_INVALID', `ConfigMap ${ns}/${REGISTRY_CONFIGMAP}: ${REGISTRY_KEY} is not JSON`, 'Restore the ConfigMap from backup.');
      }
      tenants.push(...parseRegistry(doc, `ConfigMap ${ns}/${REGISTRY_CONFIGMAP}`).tenants);
    }
    return { registry: parseRegistry({ ...emptyRegistry(), tenants }, 'cluster'), versions };
  }

  /**
   * Writes each namespace's part of the registry to its ConfigMap. Existing ConfigMaps are
   * server-side applied with their resourceVersion (HTTP 409 if someone else changed them
   * meanwhile); new ones are created (HTTP 409 if created concurrently). Conflicts throw
   * RegistryError REGISTRY_CONFLICT.
   */
  async saveRegistry(live: LiveRegistry, registry: Registry): Promise<void> {
    const byNs = new Map<string, Registry['tenants']>();
    for (const t of registry.tenants) {
      const ns = t.storageLayer.split('/')[0];
      byNs.set(ns, [...(byNs.get(ns) ?? []), t]);
    }
    for (const [ns, tenants] of [...byNs].sort(([a], [b]) => a.localeCompare(b))) {
      const rv = live.versions.get(ns);
      const cm: KubernetesObject & { data: Record<string, string> } = {
        apiVersion: 'v1', kind: 'ConfigMap',
        metadata: { name: REGISTRY_CONFIGMAP, namespace: ns, labels: { 'app.kubernetes.io/managed-by': 'tidb-mesh' }, ...(rv ? { resourceVersion: rv } : {}) },
        data: { [REGISTRY_KEY]: registryText({ ...registry, tenants }) },
      };
      try {
        if (rv) await this.serverSideApply(cm as unknown as KubeObject, false);
        else await this.api.create(cm, undefined, undefined, FIELD_MANAGER);
      } catch (e) {
        if (status(e) === 409) {
          throw new RegistryError('REGISTRY_CONFLICT', `ConfigMap ${ns}/${REGISTRY_CONFIGMAP} changed while allocating keyspace ids`, 'Run the command again (it re-reads the registry).');
        }
        throw apiError(`save registry ${ns}/${REGISTRY_CONFIGMAP}`, e);
      }
    }
  }

  /** Server-side apply of one object (PATCH application/apply-patch+yaml, fieldManager tidb-mesh). */
  async serverSideApply(o: KubeObject, force: boolean): Promise<KubeObject> {
    const res = await this.api.patch(o as KubernetesObject, undefined, undefined, FIELD_MANAGER, force,
      { headers: { 'content-type': 'application/apply-patch+yaml' } });
    return res.body as unknown as KubeObject;
  }

  /** Applies `objs` in order; throws ToolError (IO) on the first failure, naming the object. */
  async applyAll(objs: KubeObject[], force: boolean, log: (line: string) => void): Promise<void> {
    for (const o of objs) {
      const id = `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`;
      try {
        await this.serverSideApply(o, force);
        log(`applied ${id}`);
      } catch (e) {
        if (status(e) === 409) {
          throw new ToolError(`apply ${id}: field conflict with another manager (${(e as any)?.body?.message ?? ''})`, EXIT.IO, 'APPLY_CONFLICT');
        }
        throw apiError(`apply ${id}`, e);
      }
    }
  }
}
