// One enforcement direction per storage layer. The filter has no "verify only" mode: a call that
// passes an outbound filter (tenant TiDB sidecar) and an inbound one (PD/TiKV sidecar) is
// prefixed twice (`x\0\0\1 x\0\0\1 k`), which corrupts data. These pure helpers tell which
// direction a tidb-mesh object enforces, so generation can assert it never emits both and
// diff/apply can find leftovers of the other direction (in the inputs or in the live cluster).
import { Finding, KubeObject } from './types';

export type Direction = 'outbound' | 'inbound';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const STORAGE_LAYER_LABEL = 'tidb-mesh.io/storage-layer';

const otherOf = (d: Direction): Direction => (d === 'outbound' ? 'inbound' : 'outbound');

/** True for the objects that install the filter (WasmPlugin, EnvoyFilter). */
export function isPlugin(o: KubeObject): boolean {
  return o.kind === 'WasmPlugin' || o.kind === 'EnvoyFilter';
}

/**
 * Directions a tidb-mesh-managed object enforces: WasmPlugin `match[].mode` (CLIENT = outbound,
 * SERVER = inbound; `pluginConfig.direction` if no mode), EnvoyFilter `configPatches[].match.context`
 * (SIDECAR_OUTBOUND / SIDECAR_INBOUND), PeerAuthentication = inbound (its STRICT mTLS exists for
 * the inbound principal). Empty for other objects and for objects not managed by tidb-mesh.
 */
export function directionsOf(o: KubeObject): Direction[] {
  if (o.metadata?.labels?.[MANAGED_BY_LABEL] !== 'tidb-mesh') return [];
  const spec = (o as any).spec ?? {};
  const found = new Set<Direction>();
  if (o.kind === 'WasmPlugin') {
    for (const m of Array.isArray(spec.match) ? spec.match : []) {
      if (m?.mode === 'CLIENT') found.add('outbound');
      if (m?.mode === 'SERVER') found.add('inbound');
    }
    const d = spec.pluginConfig?.direction;
    if (!found.size && (d === 'outbound' || d === 'inbound')) found.add(d);
  } else if (o.kind === 'EnvoyFilter') {
    for (const p of Array.isArray(spec.configPatches) ? spec.configPatches : []) {
      if (p?.match?.context === 'SIDECAR_OUTBOUND') found.add('outbound');
      if (p?.match?.context === 'SIDECAR_INBOUND') found.add('inbound');
    }
  } else if (o.kind === 'PeerAuthentication') {
    found.add('inbound');
  }
  return [...found].sort();
}

/** "namespace/name" of the storage layer a tidb-mesh object belongs to (its label), if any. */
export function storageLayerOf(o: KubeObject): string | undefined {
  const l = o.metadata?.labels?.[STORAGE_LAYER_LABEL];
  return l ? `${o.metadata.namespace ?? ''}/${l}` : undefined;
}

/**
 * Throws if `objs` hold filter plugins of both directions for one storage layer (the double
 * prefix). Generation calls it on its own output; tests call it on every variant.
 */
export function assertOneDirection(objs: KubeObject[]): void {
  const seen = new Map<string, Set<Direction>>();
  for (const o of objs.filter(isPlugin)) {
    const layer = storageLayerOf(o) ?? '?';
    const s = seen.get(layer) ?? new Set<Direction>();
    for (const d of directionsOf(o)) s.add(d);
    seen.set(layer, s);
    if (s.size > 1) throw new Error(`internal: both outbound and inbound tidb-mesh plugins for storage layer ${layer} (keys would be prefixed twice)`);
  }
}

/**
 * tidb-mesh objects among `objs` that enforce the direction other than `direction`, for one of
 * the storage layers in `layers` ("namespace/name"), sorted by kind/namespace/name.
 */
export function otherDirection(objs: KubeObject[], direction: Direction, layers: Set<string>): KubeObject[] {
  const other = otherOf(direction);
  return objs
    .filter((o) => directionsOf(o).includes(other) && layers.has(storageLayerOf(o) ?? ''))
    .sort((a, b) => `${a.kind}/${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.namespace}/${b.metadata.name}`));
}

/** "Kind namespace/name". */
export function objectId(o: KubeObject): string {
  return `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`;
}

/** `kubectl delete` command line for `o`. */
export function deleteCommand(o: KubeObject): string {
  const group = o.apiVersion.includes('/') ? `.${o.apiVersion.split('/')[0]}` : '';
  return `kubectl delete ${o.kind.toLowerCase()}${group} -n ${o.metadata.namespace} ${o.metadata.name}`;
}

/**
 * Findings for objects of the other direction. `where` = "inputs" (objects passed with -f: only
 * a warning, the tool does not apply its inputs) or "live" (objects in the cluster). Live filter
 * plugins are errors when `refuse` is set (apply): applying would put both directions in place.
 * A live PeerAuthentication (inbound only) is a warning: STRICT mTLS does not rewrite anything.
 */
export function directionFindings(stale: KubeObject[], direction: Direction, where: 'inputs' | 'live', refuse: boolean): Finding[] {
  return stale.map((o) => {
    const plugin = isPlugin(o);
    const other = otherOf(direction);
    const layer = storageLayerOf(o);
    if (where === 'inputs') {
      return { code: 'DIRECTION_CONFLICT', severity: 'warning' as const, object: objectId(o),
        message: plugin
          ? `the inputs contain a tidb-mesh ${other} plugin for storage layer ${layer}, but this run generates --direction ${direction}; applying both prefixes every key twice`
          : `the inputs contain a tidb-mesh ${other} object for storage layer ${layer} that --direction ${direction} does not generate (it rewrites nothing, but is stale)`,
        fix: `Remove it from the -f inputs (and from the cluster: ${deleteCommand(o)}), or generate with --direction ${other}.` };
    }
    if (!plugin) {
      return { code: 'DIRECTION_CONFLICT', severity: 'warning' as const, object: objectId(o),
        message: `live ${other} leftover for storage layer ${layer} (not generated with --direction ${direction}); it rewrites nothing, so apply leaves it in place and diff lists it as to-be-removed`,
        fix: `Delete it if STRICT mTLS is no longer wanted: ${deleteCommand(o)}` };
    }
    return { code: 'DIRECTION_CONFLICT', severity: refuse ? 'error' as const : 'warning' as const, object: objectId(o),
      message: `live ${other} tidb-mesh plugin for storage layer ${layer}; with the ${direction} plugins also installed every key would be prefixed twice (data corruption)${refuse ? '; nothing applied' : ''}`,
      fix: `Switching direction needs a pause: stop the tenants' TiDB traffic, ${deleteCommand(o)} (and the other ${other} objects listed), then \`tidb-mesh apply --direction ${direction}\`, then resume. Or keep --direction ${other}.` };
  });
}
