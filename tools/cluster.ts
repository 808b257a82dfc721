// Live-cluster IO through @kubernetes/client-node (kubeconfig or in-cluster credentials):
// list inputs, load/save the registry ConfigMaps, server-side apply, read live objects for diff.
// Every call is retried while the API server answers 429 with Retry-After (kube/retry.ts).
import { KubeConfig, KubernetesObject, KubernetesObjectApi } from '@kubernetes/client-node';
import { MANAGED_BY_LABEL } from './direction';
import { EXIT, RegistryError, ToolError } from './errors';
import { FIELD_MANAGER } from './istio/common';
import { ApplyResult, classify } from './kube/apply-result';
import { loadKubeConfig } from './kube/kubeconfig';
import { withRetry } from './kube/retry';
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

export { loadKubeConfig };

function status(e: unknown): number | undefined {
  return (e as any)?.statusCode ?? (e as any)?.response?.statusCode;
}

function apiError(what: string, e: unknown): ToolError {
  const body = (e as any)?.body;
  const msg = body?.message ?? (e as Error)?.message ?? String(e);
  const hint = status(e) === 403 ? 'The credentials lack a permission: `tidb-mesh rbac` prints the Role the tool needs.' : undefined;
  return new ToolError(`${what}: ${status(e) ? `HTTP ${status(e)} ` : ''}${msg}`, EXIT.IO, 'API_ERROR', hint);
}

/** Registry loaded from ConfigMaps, with what a conflict-safe save needs. */
export interface LiveRegistry {
  registry: Registry;
  /** namespace -> resourceVersion of its ConfigMap (absent = did not exist). */
  versions: Map<string, string>;
  /** namespace -> the ConfigMap as read (replaced as a whole, with its resourceVersion). */
  configMaps?: Map<string, KubeObject>;
}

/** How a Cluster writes and reports. */
export interface ClusterOptions {
  /** Field manager of every write (kubectl's --field-manager). */
  fieldManager: string;
  /** Progress lines (429 retries). */
  log: (line: string) => void;
}

/** One object after `applyAll`: what happened and the object as the server answered. */
export interface Applied { object: KubeObject; result: ApplyResult | 'skipped'; reason?: string }

/** A connection to one Kubernetes API server. */
export class Cluster {
  readonly api: KubernetesObjectApi;
  readonly opts: ClusterOptions;
  constructor(kc: KubeConfig, opts: Partial<ClusterOptions> = {}) {
    this.api = KubernetesObjectApi.makeApiClient(kc);
    this.opts = { fieldManager: opts.fieldManager ?? FIELD_MANAGER, log: opts.log ?? ((l) => process.stderr.write(`${l}\n`)) };
  }

  /** Runs one API call, retried on 429 + Retry-After. */
  private call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return withRetry(what, fn, this.opts.log);
  }

  private async list(apiVersion: string, kind: string, namespace?: string, labelSelector?: string): Promise<KubeObject[]> {
    try {
      const res = await this.call(`list ${kind}`, () => this.api.list(apiVersion, kind, namespace, undefined, undefined, undefined, undefined, labelSelector));
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

  /**
   * Deletes the tidb-mesh objects (managed kinds) in `namespace` that carry every label of
   * `labels`; returns "Kind ns/name" of each deleted object.
   */
  async deleteManaged(namespace: string, labels: Record<string, string>): Promise<string[]> {
    const selector = [`${MANAGED_BY_LABEL}=tidb-mesh`, ...Object.entries(labels).map(([k, v]) => `${k}=${v}`)].join(',');
    const out: string[] = [];
    for (const [apiVersion, kind] of MANAGED_KINDS) {
      for (const o of await this.list(apiVersion, kind, namespace, selector)) {
        try {
          await this.call(`delete ${kind}`, () => this.api.delete({ apiVersion, kind, metadata: { name: o.metadata.name, namespace } } as any));
        } catch (e) {
          if (status(e) !== 404) throw apiError(`delete ${kind} ${namespace}/${o.metadata.name}`, e);
        }
        out.push(`${kind} ${namespace}/${o.metadata.name}`);
      }
    }
    return out;
  }

  /** Reads an object; undefined if it does not exist (404). */
  async read(o: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }): Promise<KubeObject | undefined> {
    try {
      const res = await this.call(`read ${o.kind}`, () => this.api.read({ apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.metadata.name, namespace: o.metadata.namespace } } as any));
      return res.body as unknown as KubeObject;
    } catch (e) {
      if (status(e) === 404) return undefined;
      throw apiError(`read ${o.kind} ${o.metadata.namespace}/${o.metadata.name}`, e);
    }
  }

  /** Namespaces that hold a registry ConfigMap (list across all namespaces by name). */
  async registryNamespaces(): Promise<string[]> {
    try {
      const res = await this.call('list ConfigMaps', () => this.api.list('v1', 'ConfigMap', undefined, undefined, undefined, undefined, `metadata.name=${REGISTRY_CONFIGMAP}`));
      return ((res.body as any).items ?? []).map((c: any) => c.metadata.namespace as string).sort();
    } catch (e) {
      throw apiError('list registry ConfigMaps', e);
    }
  }

  /** Merges the registry ConfigMaps of `namespaces` into one registry. */
  async loadRegistry(namespaces: string[]): Promise<LiveRegistry> {
    const versions = new Map<string, string>();
    const configMaps = new Map<string, KubeObject>();
    const tenants: Registry['tenants'] = [];
    for (const ns of [...new Set(namespaces)].sort()) {
      const cm = await this.read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: REGISTRY_CONFIGMAP, namespace: ns } });
      if (!cm) continue;
      versions.set(ns, String(cm.metadata.resourceVersion ?? ''));
      configMaps.set(ns, cm);
      const text = (cm as any).data?.[REGISTRY_KEY];
      if (!text) continue;
      let doc: unknown;
      try { doc = JSON.parse(text); } catch {
        throw new RegistryError('REGISTRY_INVALID', `ConfigMap ${ns}/${REGISTRY_CONFIGMAP}: ${REGISTRY_KEY} is not JSON`, 'Restore the ConfigMap from backup.');
      }
      tenants.push(...parseRegistry(doc, `ConfigMap ${ns}/${REGISTRY_CONFIGMAP}`).tenants);
    }
    return { registry: parseRegistry({ ...emptyRegistry(), tenants }, 'cluster'), versions, configMaps };
  }

  /**
   * Writes each namespace's part of the registry to its ConfigMap, as a compare-and-swap: an
   * existing ConfigMap is replaced (PUT) carrying the resourceVersion it was read with, so the
   * server refuses it (409) if anyone wrote it since; a new one is created (POST, 409 if created
   * concurrently). Both are RegistryError REGISTRY_CONFLICT, which the commands answer by reading
   * the registry again and resolving anew. A replace never conflicts on field ownership, so the
   * ConfigMap can be written any number of times, whoever created it. Unchanged parts are not
   * written.
   */
  async saveRegistry(live: LiveRegistry, registry: Registry): Promise<void> {
    const byNs = new Map<string, Registry['tenants']>();
    for (const t of registry.tenants) {
      const ns = t.storageLayer.split('/')[0];
      byNs.set(ns, [...(byNs.get(ns) ?? []), t]);
    }
    for (const [ns, tenants] of [...byNs].sort(([a], [b]) => a.localeCompare(b))) {
      const text = registryText({ ...registry, tenants });
      const old = live.configMaps?.get(ns);
      if (old && (old as any).data?.[REGISTRY_KEY] === text) continue;
      const rv = live.versions.get(ns);
      const base: KubeObject = old ?? { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: REGISTRY_CONFIGMAP, namespace: ns } };
      const cm = {
        ...base, apiVersion: 'v1', kind: 'ConfigMap',
        metadata: { ...base.metadata, labels: { ...(base.metadata.labels ?? {}), 'app.kubernetes.io/managed-by': 'tidb-mesh' }, ...(rv ? { resourceVersion: rv } : {}) },
        data: { ...((base as any).data ?? {}), [REGISTRY_KEY]: text },
      } as KubeObject;
      try {
        await this.writeConfigMap(cm);
      } catch (e) {
        if (status(e) === 409) {
          throw new RegistryError('REGISTRY_CONFLICT', `ConfigMap ${ns}/${REGISTRY_CONFIGMAP} changed while allocating keyspace ids`, 'Run the command again (it re-reads the registry).');
        }
        throw apiError(`save registry ${ns}/${REGISTRY_CONFIGMAP}`, e);
      }
    }
  }

  /**
   * Compare-and-swap write of a ConfigMap the tool owns: with metadata.resourceVersion, a PUT
   * that the server refuses (409) if the ConfigMap changed since that version; without, a POST
   * (409 if it exists). Returns the stored object. Errors propagate unchanged.
   */
  async writeConfigMap(cm: KubeObject): Promise<KubeObject> {
    const { managedFields: _m, ...meta } = cm.metadata as any;
    const body = { ...cm, metadata: meta } as unknown as KubernetesObject;
    const res = cm.metadata.resourceVersion
      ? await this.call('replace ConfigMap', () => this.api.replace(body, undefined, undefined, this.opts.fieldManager))
      : await this.call('create ConfigMap', () => this.api.create(body, undefined, undefined, this.opts.fieldManager));
    return res.body as unknown as KubeObject;
  }

  /** True if namespace `ns` exists. */
  async namespaceExists(ns: string): Promise<boolean> {
    return (await this.read({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })) !== undefined;
  }

  /**
   * Server-side apply of one object (PATCH application/apply-patch+yaml, the configured field
   * manager; `force` takes fields over from other managers; `dryRun` = the server validates and
   * answers without storing).
   */
  async serverSideApply(o: KubeObject, force: boolean, dryRun = false): Promise<KubeObject> {
    const res = await this.call(`apply ${o.kind}`, () => this.api.patch(o as KubernetesObject, undefined, dryRun ? 'All' : undefined, this.opts.fieldManager, force,
      { headers: { 'content-type': 'application/apply-patch+yaml' } }));
    return res.body as unknown as KubeObject;
  }

  /**
   * Applies `objs` in order and reports each as created / configured / unchanged (kubectl's
   * words; `dryRun`: the server's dry run). `onlyIfExists` objects (patches of objects another
   * controller creates) are skipped while absent. Throws ToolError on the first failure, naming
   * the object (APPLY_CONFLICT for a field another manager owns).
   */
  async applyAll(objs: KubeObject[], o: { force: boolean; dryRun: boolean; onlyIfExists?: (x: KubeObject) => boolean }, report: (a: Applied) => void): Promise<Applied[]> {
    const out: Applied[] = [];
    for (const obj of objs) {
      const id = `${obj.kind} ${obj.metadata.namespace}/${obj.metadata.name}`;
      const before = await this.read(obj);
      let a: Applied;
      if (!before && o.onlyIfExists?.(obj)) {
        a = { object: obj, result: 'skipped', reason: 'not created yet by its owner (tidb-operator); run apply again once it exists' };
      } else {
        try {
          const after = await this.serverSideApply(obj, o.force, o.dryRun);
          a = { object: after, result: classify(before, after, o.dryRun ? 'server' : 'none') };
        } catch (e) {
          if (status(e) === 409) {
            throw new ToolError(`apply ${id}: field conflict with another manager (${(e as any)?.body?.message ?? ''})`, EXIT.IO, 'APPLY_CONFLICT',
              'Another controller owns that field with another value; --force-conflicts takes it over (it may fight back).');
          }
          throw apiError(`apply ${id}`, e);
        }
      }
      out.push(a);
      report(a);
    }
    return out;
  }
}
