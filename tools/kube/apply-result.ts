// What `apply` reports per object, in kubectl's words: `<resource>[.<group>]/<name> created |
// configured | unchanged`, with ` (dry run)` / ` (server dry run)` like kubectl. Pure.
import { KubeObject } from '../types';

export type ApplyResult = 'created' | 'configured' | 'unchanged';
export type DryRun = 'none' | 'client' | 'server';

/** kubectl's name for an object: `wasmplugin.extensions.istio.io/tidb-mesh-cluster1`, `service/x`. */
export function resourceRef(o: { apiVersion: string; kind: string; metadata: { name: string } }): string {
  const group = o.apiVersion.includes('/') ? `.${o.apiVersion.split('/')[0]}` : '';
  return `${o.kind.toLowerCase()}${group}/${o.metadata.name}`;
}

/** Server-managed metadata that says nothing about what the tool set. */
function comparable(o: KubeObject): string {
  const { status: _s, ...rest } = o as any;
  const { resourceVersion: _r, managedFields: _m, generation: _g, ...meta } = rest.metadata ?? {};
  return JSON.stringify(sortDeep({ ...rest, metadata: meta }));
}

function sortDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortDeep);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortDeep((v as any)[k])]));
  return v;
}

/**
 * Classifies one server-side apply. `before` is the live object read just before (undefined:
 * did not exist), `after` what the server answered. A real apply that changed nothing keeps the
 * resourceVersion; a server dry run never bumps it, so there the objects are compared instead.
 */
export function classify(before: KubeObject | undefined, after: KubeObject, dryRun: DryRun): ApplyResult {
  if (!before) return 'created';
  if (dryRun === 'none') return before.metadata.resourceVersion === after.metadata.resourceVersion ? 'unchanged' : 'configured';
  return comparable(before) === comparable(after) ? 'unchanged' : 'configured';
}

/** One output line, e.g. `wasmplugin.extensions.istio.io/tidb-mesh-cluster1 unchanged (server dry run)`. */
export function resultLine(o: KubeObject, r: ApplyResult | string, dryRun: DryRun): string {
  const suffix = dryRun === 'client' ? ' (dry run)' : dryRun === 'server' ? ' (server dry run)' : '';
  return `${resourceRef(o)} ${r}${suffix}`;
}
