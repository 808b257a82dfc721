// The cluster is the source of truth for live tenants. A tenant whose filter is live enforces a
// keyspace id; a registry (a file next to the inputs, or a ConfigMap someone restored or
// deleted) that gives it another id, or none, would make the next apply renumber it, and that
// tenant would read another tenant's data. These pure helpers read the ids that are live and
// compare them with a registry; the commands stop (REGISTRY_DISAGREES_WITH_CLUSTER) before any
// id is allocated or anything is written.
import { MANAGED_BY_LABEL } from './direction';
import { RegistryError } from './errors';
import { findRecord, Registry, TenantRecord } from './registry';
import { KubeObject } from './types';

/** One tenant id that is live, and where it was seen. */
export interface LiveTenant { namespace: string; name: string; keyspaceId: number; where: string }

/** The filter configuration inside a tidb-mesh WasmPlugin or EnvoyFilter, if it has one. */
function pluginConfigOf(o: KubeObject): any {
  const spec = (o as any).spec ?? {};
  if (o.kind === 'WasmPlugin') return spec.pluginConfig;
  if (o.kind !== 'EnvoyFilter') return undefined;
  for (const p of spec.configPatches ?? []) {
    const v = p?.patch?.value?.typed_config?.config?.configuration?.value;
    if (typeof v === 'string') { try { return JSON.parse(v); } catch { return undefined; } }
  }
  return undefined;
}

/** Namespace of a tenant entry: outbound `match.namespace`, inbound the principal's `/ns/<ns>/`. */
function tenantNamespace(entry: any, fallback: string): string {
  if (typeof entry?.match?.namespace === 'string') return entry.match.namespace;
  for (const p of entry?.match?.principals ?? []) {
    const m = /\/ns\/([^/]+)\/sa\//.exec(String(p));
    if (m) return m[1];
  }
  return fallback;
}

/**
 * Every (tenant, keyspace id) enforced by live tidb-mesh plugins (labelled
 * app.kubernetes.io/managed-by=tidb-mesh): the tenant table of each plugin's configuration.
 */
export function liveTenants(objs: KubeObject[]): LiveTenant[] {
  const out: LiveTenant[] = [];
  for (const o of objs) {
    if (o.metadata?.labels?.[MANAGED_BY_LABEL] !== 'tidb-mesh') continue;
    const cfg = pluginConfigOf(o);
    for (const t of Array.isArray(cfg?.tenants) ? cfg.tenants : []) {
      if (typeof t?.name !== 'string' || !Number.isInteger(t?.keyspaceId)) continue;
      out.push({ namespace: tenantNamespace(t, o.metadata.namespace ?? ''), name: t.name, keyspaceId: t.keyspaceId, where: `${o.kind} ${o.metadata.namespace}/${o.metadata.name}` });
    }
  }
  return out;
}

/** Live records of a registry kept in the cluster (ConfigMaps), as LiveTenants. */
export function recordsAsLive(records: TenantRecord[], where: string): LiveTenant[] {
  return records.map((r) => ({ namespace: r.namespace, name: r.name, keyspaceId: r.keyspaceId, where }));
}

/** Every disagreement between `live` and `registry`, one line each (empty: they agree). */
export function liveIdProblems(registry: Registry, live: LiveTenant[]): string[] {
  const out = new Set<string>();
  for (const l of live) {
    const rec = findRecord(registry, l.namespace, l.name);
    if (!rec) out.add(`tenant ${l.namespace}/${l.name} is live with keyspace id ${l.keyspaceId} (${l.where}) but the registry has no record of it`);
    else if (rec.keyspaceId !== l.keyspaceId) out.add(`tenant ${l.namespace}/${l.name} is live with keyspace id ${l.keyspaceId} (${l.where}) but the registry gives it ${rec.keyspaceId}`);
  }
  return [...out].sort();
}

/** Throws RegistryError REGISTRY_DISAGREES_WITH_CLUSTER listing every problem. */
export function assertRegistryMatchesLive(registry: Registry, live: LiveTenant[], registryName: string, fileMode: boolean): void {
  const problems = liveIdProblems(registry, live);
  if (!problems.length) return;
  throw new RegistryError('REGISTRY_DISAGREES_WITH_CLUSTER',
    `${registryName} disagrees with the keyspace ids live in the cluster (nothing was allocated, saved or applied):\n  - ${problems.join('\n  - ')}`,
    fileMode
      ? 'The cluster is the source of truth for live tenants. Use the registry file those tenants were applied with (version control), or '
        + 'recreate it from the cluster: `tidb-mesh tenants list -o json -n NS > FILE` when the cluster keeps the registry ConfigMap, or run with --from-cluster.'
      : 'Restore the ConfigMap tidb-mesh-tenants from its backup; its records must match the ids the live plugins enforce.');
}
