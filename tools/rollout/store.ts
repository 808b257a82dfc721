// Where rollout state lives: one JSON file per rollout (files mode), or one ConfigMap per
// rollout (cluster mode). Both refuse a save based on an older version (optimistic concurrency),
// so two runners of one rollout cannot both proceed: the second gets ROLLOUT_CONFLICT.
import * as fs from 'fs';
import * as path from 'path';
import { Cluster } from '../cluster';
import { EXIT, ToolError } from '../errors';
import { boundedName } from '../naming';
import { KubeObject } from '../types';
import { parseState, RolloutState } from './state';

/** One rollout's persisted state. */
export interface StateStore {
  /** Human-readable location (messages). */
  where: string;
  /** The stored state, or undefined if this rollout was never saved. */
  load(): Promise<RolloutState | undefined>;
  /**
   * Stores `s` with revision + 1 if the stored copy still has `s.revision` (a new rollout:
   * revision 0 and nothing stored). Returns the stored state. Throws ToolError ROLLOUT_CONFLICT
   * (exit 4) if someone else saved in between.
   */
  save(s: RolloutState): Promise<RolloutState>;
}

/** All rollouts of one place (status without a name, lookup by name). */
export interface RolloutStores {
  where: string;
  /** The store of a new or existing rollout `name` (cluster mode: in the configured namespace). */
  open(name: string): StateStore;
  /** Every stored rollout with its store, in a stable order. */
  list(): Promise<Array<{ state: RolloutState; store: StateStore }>>;
}

/** Canonical text of a state document (2-space JSON, trailing newline). */
export function stateText(s: RolloutState): string {
  return JSON.stringify(s, null, 2) + '\n';
}

function conflict(name: string, where: string): ToolError {
  return new ToolError(`rollout ${name}: ${where} was changed by someone else (another runner of this rollout?)`, EXIT.REGISTRY, 'ROLLOUT_CONFLICT',
    `Make sure only one \`tidb-mesh rollout\` runs ${name}, then resume it (tidb-mesh rollout resume ${name}).`);
}

function parseText(text: string, where: string): RolloutState {
  let doc: unknown;
  try { doc = JSON.parse(text); } catch (e) {
    throw new ToolError(`rollout state ${where}: not JSON (${(e as Error).message})`, EXIT.REGISTRY, 'ROLLOUT_STATE_INVALID');
  }
  return parseState(doc, where);
}

/** Files mode: `<dir>/<name>.json`, written atomically (temp file + rename). */
export function fileStores(dir: string): RolloutStores {
  const open = (name: string): StateStore => {
    const file = path.join(dir, `${name}.json`);
    const read = () => (fs.existsSync(file) ? parseText(fs.readFileSync(file, 'utf8'), file) : undefined);
    return {
      where: file,
      async load() { return read(); },
      async save(s) {
        const cur = read();
        if ((cur?.revision ?? 0) !== s.revision || (!cur && s.revision !== 0)) throw conflict(s.name, file);
        const next = { ...s, revision: s.revision + 1 };
        fs.mkdirSync(dir, { recursive: true });
        const tmp = `${file}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, stateText(next));
        fs.renameSync(tmp, file);
        return next;
      },
    };
  };
  return {
    where: dir,
    open,
    async list() {
      if (!fs.existsSync(dir)) return [];
      const out: Array<{ state: RolloutState; store: StateStore }> = [];
      for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
        const state = parseText(fs.readFileSync(path.join(dir, f), 'utf8'), path.join(dir, f));
        out.push({ state, store: open(state.name) });
      }
      return out;
    },
  };
}

export const ROLLOUT_CONFIGMAP_PREFIX = 'tidb-mesh-rollout-';
export const ROLLOUT_KEY = 'rollout.json';
export const ROLLOUT_LABEL = 'tidb-mesh.io/component';

/** ConfigMap name of rollout `name` (capped at 63 characters with a hash suffix). */
export function rolloutConfigMapName(name: string): string {
  return boundedName(`${ROLLOUT_CONFIGMAP_PREFIX}${name}`);
}

const status = (e: unknown): number | undefined => (e as any)?.statusCode ?? (e as any)?.response?.statusCode;
function apiError(what: string, e: unknown): ToolError {
  return new ToolError(`${what}: ${status(e) ? `HTTP ${status(e)} ` : ''}${(e as any)?.body?.message ?? (e as Error)?.message ?? String(e)}`, EXIT.IO, 'API_ERROR');
}

/**
 * Cluster mode: ConfigMap `tidb-mesh-rollout-<name>` (key rollout.json, labels
 * app.kubernetes.io/managed-by=tidb-mesh, tidb-mesh.io/component=rollout) in `namespace`
 * (listing: all namespaces when undefined). New ConfigMaps are created (409 if created
 * concurrently), existing ones replaced with the resourceVersion last read or written (409 if
 * changed meanwhile); both are ROLLOUT_CONFLICT.
 */
export function configMapStores(cluster: Cluster, namespace: string | undefined): RolloutStores {
  const openIn = (ns: string, name: string): StateStore => {
    const cmName = rolloutConfigMapName(name);
    const where = `ConfigMap ${ns}/${cmName}`;
    let rv: string | undefined;
    return {
      where,
      async load() {
        const cm = await cluster.read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: cmName, namespace: ns } });
        if (!cm) { rv = undefined; return undefined; }
        rv = String(cm.metadata.resourceVersion ?? '');
        return parseText(String((cm as any).data?.[ROLLOUT_KEY] ?? ''), where);
      },
      async save(s) {
        const next = { ...s, revision: s.revision + 1 };
        const cm = {
          apiVersion: 'v1', kind: 'ConfigMap',
          metadata: { name: cmName, namespace: ns, labels: { 'app.kubernetes.io/managed-by': 'tidb-mesh', [ROLLOUT_LABEL]: 'rollout' }, ...(rv ? { resourceVersion: rv } : {}) },
          data: { [ROLLOUT_KEY]: stateText(next) },
        };
        if (!rv && s.revision !== 0) throw conflict(s.name, where);
        try {
          // Replace (PUT) with the resourceVersion read, or create: both refuse a stale write (409), and
          // a replace never conflicts on field ownership (a non-forced server-side apply after a
          // create does: the create's manager owns every field).
          const res = await cluster.writeConfigMap(cm as KubeObject);
          rv = String(res.metadata.resourceVersion ?? '');
        } catch (e) {
          if (status(e) === 409) throw conflict(s.name, where);
          throw apiError(`save ${where}`, e);
        }
        return next;
      },
    };
  };
  return {
    where: namespace ? `namespace ${namespace}` : 'all namespaces',
    open(name) {
      if (!namespace) throw new ToolError('cluster mode: give -n NAMESPACE for the rollout state ConfigMap', EXIT.USAGE, 'USAGE');
      return openIn(namespace, name);
    },
    async list() {
      try {
        const res = await cluster.api.list('v1', 'ConfigMap', namespace, undefined, undefined, undefined, undefined, `${ROLLOUT_LABEL}=rollout`);
        const items = ((res.body as any).items ?? []) as KubeObject[];
        return items.sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`))
          .map((cm) => {
            const state = parseText(String((cm as any).data?.[ROLLOUT_KEY] ?? ''), `ConfigMap ${cm.metadata.namespace}/${cm.metadata.name}`);
            return { state, store: openIn(String(cm.metadata.namespace), state.name) };
          });
      } catch (e) {
        if (e instanceof ToolError) throw e;
        throw apiError('list rollout ConfigMaps', e);
      }
    },
  };
}
