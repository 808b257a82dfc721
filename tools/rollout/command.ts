// `tidb-mesh rollout`: the IO edge of staged schema rollouts. Reads the migration directory, the
// registry and the stored state; plans (pure: plan.ts, state.ts); runs (runner.ts) through the
// tenants' MySQL endpoints; writes the state (store.ts) and the views (render.ts, progress.ts).
//
//   rollout [run] DIR [-l SEL] [--canary T]... [--batch-by SET[=v,...]] [--parallel N] [--name N]
//                     [--endpoint T=ADDR]... [--user U] [--to V] [--dry-run] [-o table|json] [--group-by SET]
//   rollout resume NAME [--endpoint T=ADDR]... [--parallel N] [--user U]
//   rollout status [NAME] [--group-by SET] [-w] [-o table|json]
// Exit: 0 done (or dry run / status), 6 a stage failed, 2 usage, 4 registry/state, 5 API.
import * as os from 'os';
import * as path from 'path';
import { Cluster, loadKubeConfig } from '../cluster';
import type { Io } from '../commands';
import { EXIT, ToolError } from '../errors';
import { isDnsLabel } from '../naming';
import { listFormat, Options } from '../options';
import { Registry } from '../registry';
import { loadRegistryFile } from '../source';
import { isSetName } from '../tenants/sets';
import { Connector } from './executor';
import { defaultEndpoint, Endpoint, parseEndpointFlags } from './endpoints';
import { readMigrationDir } from './migration-files';
import { Migration, parseMigrations } from './migrations';
import { mysqlConnector } from './mysql';
import { planStages } from './plan';
import { createProgress } from './progress';
import { listText, planJson, planText, statusJson, statusText, StatusView } from './render';
import { runRollout } from './runner';
import { initialState, reconcile, RolloutState, rolloutStatus } from './state';
import { configMapStores, fileStores, RolloutStores, StateStore } from './store';

/** Hooks a test (or another embedding) can give through `Io.rollout`; defaults are the real process. */
export interface RolloutHooks {
  /** stderr is a terminal (live redraw); default process.stderr.isTTY. */
  stderrIsTTY?: boolean;
  now?(): Date;
  /** Environment ($TIDB_MESH_PASSWORD); default process.env. */
  env?: Record<string, string | undefined>;
  /** Replaces mysql2 (unit tests). */
  connector?(endpoint: Endpoint, auth: { user: string; password?: string }): Connector;
  sleep?(ms: number): Promise<void>;
  host?: string;
  pid?: number;
  /** Whether a local process is alive (stale runner detection); default kill(pid, 0). */
  processAlive?(pid: number): boolean;
}

export const DEFAULT_PARALLEL = 2;
export const MAX_PARALLEL = 64;
export const STATE_DIR = 'tidb-mesh-rollouts';
export const PASSWORD_ENV = 'TIDB_MESH_PASSWORD';

const usage = (m: string) => new ToolError(m, EXIT.USAGE, 'USAGE');

function hooks(io: Io): Required<RolloutHooks> {
  const h = io.rollout ?? {};
  return {
    stderrIsTTY: h.stderrIsTTY ?? false,
    now: h.now ?? (() => new Date()),
    env: h.env ?? process.env,
    connector: h.connector ?? mysqlConnector,
    sleep: h.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
    host: h.host ?? os.hostname(),
    pid: h.pid ?? process.pid,
    processAlive: h.processAlive ?? ((pid) => { try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; } }),
  };
}

function connectCluster(o: Options, io: Io): Cluster {
  return io.connect ? io.connect(o.kubeconfig, o.context) : new Cluster(loadKubeConfig(o.kubeconfig, o.context));
}

async function loadRegistry(o: Options, io: Io): Promise<Registry> {
  if (o.registry) return loadRegistryFile(path.resolve(io.cwd, o.registry));
  if (o.state) throw usage('files mode needs --registry FILE (the tenants) besides --state DIR');
  const cluster = connectCluster(o, io);
  const namespaces = o.namespace ? [o.namespace] : await cluster.registryNamespaces();
  return (await cluster.loadRegistry(namespaces)).registry;
}

/**
 * The rollout stores. Files: --state DIR, default tidb-mesh-rollouts/ next to the registry file.
 * Cluster: ConfigMaps in -n NS, else in `defaultNamespace` (the targets' storage-layer namespace).
 */
function stores(o: Options, io: Io, defaultNamespace?: string): RolloutStores {
  if (o.state) return fileStores(path.resolve(io.cwd, o.state));
  if (o.registry) return fileStores(path.join(path.dirname(path.resolve(io.cwd, o.registry)), STATE_DIR));
  return configMapStores(connectCluster(o, io), o.namespace ?? defaultNamespace);
}

function parallelOf(o: Options, fallback: number): number {
  if (o.parallel === undefined) return fallback;
  const n = Number(o.parallel);
  if (!/^\d+$/.test(o.parallel) || n < 1 || n > MAX_PARALLEL) throw usage(`--parallel must be 1..${MAX_PARALLEL} (got ${o.parallel})`);
  return n;
}

function toOf(o: Options): number | undefined {
  if (o.to === undefined) return undefined;
  if (!/^\d+$/.test(o.to) || Number(o.to) < 1) throw usage(`--to must be a version number >= 1 (got ${o.to})`);
  return Number(o.to);
}

/** Default rollout name: "<migration dir name>-v<target>", made a DNS label. */
export function defaultRolloutName(dir: string, target: number): string {
  const base = path.basename(path.resolve(dir)).toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'rollout';
  return `${base}-v${target}`;
}

function checkGroupBy(o: Options): void {
  if (o.groupBy !== undefined && !isSetName(o.groupBy)) throw usage(`--group-by ${o.groupBy}: not a tenant-set name`);
}

function runnerAlive(s: RolloutState, h: Required<RolloutHooks>): boolean | undefined {
  if (!s.runner || s.runner.host !== h.host) return undefined;
  return s.runner.pid === h.pid ? true : h.processAlive(s.runner.pid);
}

function printStatus(o: Options, io: Io, s: RolloutState, view: StatusView): void {
  io.stdout(listFormat(o) === 'json' ? statusJson(s, view) : statusText(s, view));
}

/** Runs `state` (new or resumed) with the live display; prints the final status; exit 0 or 6. */
async function execute(o: Options, io: Io, store: StateStore, state: RolloutState, migrations: Migration[]): Promise<number> {
  const h = hooks(io);
  const auth = { user: state.options.user, password: h.env[PASSWORD_ENV] };
  const view: StatusView = { groupBy: o.groupBy };
  const progress = createProgress({ write: (t) => io.stderr(t), isTTY: h.stderrIsTTY }, view, state);
  let final: RolloutState;
  try {
    final = await runRollout(state, {
      store, migrations, runner: { host: h.host, pid: h.pid, since: h.now().toISOString() }, now: () => h.now().toISOString(),
      connect: (_id, endpoint) => h.connector(endpoint, auth),
      onChange: (s) => progress.onChange(s), onStep: (id, step) => progress.onStep(id, step),
    });
  } finally {
    progress.close();
  }
  printStatus(o, io, final, { ...view, runnerAlive: undefined });
  const st = rolloutStatus(final);
  io.stderr(st === 'done' ? `rollout ${final.name} done (state: ${store.where})\n`
    : `rollout ${final.name} stopped: a tenant failed; fix the cause and run: tidb-mesh rollout resume ${final.name}\n`);
  return st === 'done' ? EXIT.OK : EXIT.ROLLOUT;
}

/** `rollout [run] DIR`: plans, then starts a new rollout or continues the one of the same name. */
async function run(o: Options, io: Io, dirArg: string | undefined): Promise<number> {
  if (!dirArg) throw usage('usage: tidb-mesh rollout [run] DIR (a directory of <version>_<name>.sql files)');
  checkGroupBy(o);
  const h = hooks(io);
  const dir = path.resolve(io.cwd, dirArg);
  const migrations = parseMigrations(dirArg, readMigrationDir(dir), toOf(o));
  const target = migrations[migrations.length - 1].version;
  const name = o.name ?? defaultRolloutName(dir, target);
  if (!isDnsLabel(name) || name.length > 45) throw usage(`--name ${name}: a rollout name is a DNS label of at most 45 characters ([a-z0-9-])`);
  const registry = await loadRegistry(o, io);
  const plan = planStages({ tenants: registry.tenants, selector: o.selector, canary: o.canary, batchBy: o.batchBy });
  const flags = parseEndpointFlags(o.endpoints, registry.tenants);
  const endpoints = Object.fromEntries(plan.tenants.map((t) => [t.id, flags[t.id] ?? defaultEndpoint(t)]));
  for (const id of Object.keys(flags)) if (!(id in endpoints)) throw usage(`--endpoint ${id}: not a target of this rollout`);
  const parallel = parallelOf(o, DEFAULT_PARALLEL);
  if (o.dryRun) {
    const view = { name, migrations, stages: plan.stages, endpoints, parallel };
    io.stdout(listFormat(o) === 'json' ? planJson(view) : planText(view));
    return EXIT.OK;
  }
  const layers = [...new Set(plan.tenants.map((t) => registry.tenants.find((r) => `${r.namespace}/${r.name}` === t.id)!.storageLayer.split('/')[0]))];
  const all = stores(o, io, layers.length === 1 ? layers[0] : undefined);
  const store = all.open(name);
  const existing = await store.load();
  let state: RolloutState;
  if (existing) {
    const r = reconcile(existing, plan.stages, migrations);
    for (const f of r.changed) io.stderr(`note: ${f} changed since the rollout started (statements that already ran on a tenant must stay; see docs/rollouts.md)\n`);
    if (rolloutStatus(r.state) === 'done') {
      io.stderr(`rollout ${name} is already done (${store.where})\n`);
      printStatus(o, io, r.state, { groupBy: o.groupBy });
      return EXIT.OK;
    }
    state = withOverrides(r.state, flags, o);
    io.stderr(`resuming rollout ${name} (${store.where})\n`);
  } else {
    state = initialState({
      name, dir, migrations, stages: plan.stages, endpoints, now: h.now().toISOString(),
      sets: Object.fromEntries(plan.tenants.map((t) => [t.id, t.sets])),
      options: { selector: o.selector ?? '', canary: o.canary, ...(o.batchBy ? { batchBy: o.batchBy } : {}), parallel, user: o.user ?? 'root' },
    });
    io.stderr(`rollout ${name}: ${plan.tenants.length} tenant(s) in ${plan.stages.length} stage(s), migrations up to version ${target} (state: ${store.where})\n`);
  }
  return execute(o, io, store, state, migrations);
}

/** New --endpoint / --parallel / --user values replace the recorded ones on a resume. */
function withOverrides(s: RolloutState, endpoints: Record<string, Endpoint>, o: Options): RolloutState {
  return {
    ...s,
    options: { ...s.options, parallel: parallelOf(o, s.options.parallel), user: o.user ?? s.options.user },
    tenants: s.tenants.map((t) => (endpoints[t.id] ? { ...t, endpoint: endpoints[t.id] } : t)),
  };
}

async function find(o: Options, io: Io, name: string | undefined): Promise<{ state: RolloutState; store: StateStore; others: string[] } | undefined> {
  const all = stores(o, io);
  const list = await all.list();
  if (name) {
    const hit = list.filter((x) => x.state.name === name);
    if (hit.length > 1) throw usage(`rollout ${name} exists in several namespaces; give -n NAMESPACE`);
    if (!hit.length) throw new ToolError(`no rollout ${name} in ${all.where}`, EXIT.USAGE, 'ROLLOUT_UNKNOWN', 'List them with `tidb-mesh rollout status`.');
    return { ...hit[0], others: [] };
  }
  if (!list.length) return undefined;
  const latest = [...list].sort((a, b) => b.state.updatedAt.localeCompare(a.state.updatedAt) || a.state.name.localeCompare(b.state.name))[0];
  return { ...latest, others: list.filter((x) => x !== latest).map((x) => x.state.name) };
}

/** `rollout resume NAME`: continues with the recorded stages and migration directory. */
async function resume(o: Options, io: Io, name: string | undefined): Promise<number> {
  if (!name) throw usage('usage: tidb-mesh rollout resume NAME');
  checkGroupBy(o);
  const hit = (await find(o, io, name))!;
  const loaded = await hit.store.load();
  if (!loaded) throw new ToolError(`rollout ${name} disappeared from ${hit.store.where}`, EXIT.REGISTRY, 'ROLLOUT_CONFLICT');
  const dir = loaded.migrations.dir;
  const migrations = parseMigrations(dir, readMigrationDir(dir), loaded.migrations.target);
  const r = reconcile(loaded, loaded.stages, migrations);
  for (const f of r.changed) io.stderr(`note: ${f} changed since the rollout started\n`);
  if (rolloutStatus(r.state) === 'done') {
    io.stderr(`rollout ${name} is already done\n`);
    printStatus(o, io, r.state, { groupBy: o.groupBy });
    return EXIT.OK;
  }
  const refs = r.state.tenants.map((t) => ({ namespace: t.id.split('/')[0], name: t.id.split('/')[1], state: 'active' }));
  const state = withOverrides(r.state, parseEndpointFlags(o.endpoints, refs), o);
  io.stderr(`resuming rollout ${name} (${hit.store.where})\n`);
  return execute(o, io, hit.store, state, migrations);
}

/**
 * `rollout status [NAME]`: the latest (or named) rollout; -w (or, in a terminal, a rollout still
 * running) follows it until it ends, redrawing in a terminal.
 */
async function status(o: Options, io: Io, name: string | undefined): Promise<number> {
  checkGroupBy(o);
  const h = hooks(io);
  let hit = await find(o, io, name);
  if (!hit) { io.stderr('no rollouts yet\n'); return EXIT.OK; }
  if (hit.others.length) io.stderr(`showing the latest rollout, ${hit.state.name}; others: ${hit.others.join(', ')} (tidb-mesh rollout status NAME)\n`);
  // Live: -w, or a terminal looking at a rollout whose runner is (or may be) still at work.
  const live = o.watch || (h.stderrIsTTY && listFormat(o) === 'table' && hit.state.runner !== null && runnerAlive(hit.state, h) !== false);
  if (live) {
    const progress = createProgress({ write: (t) => io.stderr(t), isTTY: h.stderrIsTTY }, { groupBy: o.groupBy });
    for (;;) {
      progress.onChange(hit.state);
      if (!hit.state.runner || runnerAlive(hit.state, h) === false) break;
      await h.sleep(1000);
      const again = await hit.store.load();
      if (!again) break;
      hit = { ...hit, state: again };
    }
    progress.close();
  }
  printStatus(o, io, hit.state, { groupBy: o.groupBy, runnerAlive: runnerAlive(hit.state, h) });
  if (!name && hit.others.length && listFormat(o) === 'table') io.stderr(listText((await stores(o, io).list()).map((x) => x.state)));
  return EXIT.OK;
}

/** `tidb-mesh rollout ...` (see the top of this file). */
export async function cmdRollout(o: Options, io: Io): Promise<number> {
  const [sub, arg] = o.args;
  if (sub === 'status') return status(o, io, arg);
  if (sub === 'resume') return resume(o, io, arg);
  if (sub === 'run') return run(o, io, arg);
  return run(o, io, sub);
}
