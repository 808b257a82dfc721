// The persisted state of one rollout and its state machine. Pure.
//
// Tenant:  pending --start--> running --finish ok--> done
//                                     --finish error--> failed --start (resume)--> running
//          running --begin (a new runner after a crash)--> pending
// A stage is done when all its tenants are; it stops at its first failure (no new tenant starts;
// the ones in flight finish). Stage and rollout status are derived, never stored.
import { EXIT, ToolError } from '../errors';
import { Labels } from '../types';
import { Migration } from './migrations';
import { Stage } from './plan';

export const ROLLOUT_API = 'tidb-mesh.io/v1alpha1';
export const ROLLOUT_KIND = 'SchemaRollout';

export type TenantStatus = 'pending' | 'running' | 'done' | 'failed';
export const TENANT_STATUSES: TenantStatus[] = ['pending', 'running', 'done', 'failed'];

/** One target tenant's progress. */
export interface TenantState {
  id: string;
  /** Index into `stages`. */
  stage: number;
  /** Set values at planning time (grouping in `rollout status`). */
  sets: Labels;
  endpoint: string;
  status: TenantStatus;
  /** Highest version known applied on the tenant (0: none / not yet read). */
  version: number;
  /** Versions this rollout applied on the tenant. */
  applied: number[];
  attempts: number;
  error?: string;
  notices: string[];
  updatedAt?: string;
}

/** A migration as recorded in the state (statements by count only). */
export interface MigrationSummary { version: number; file: string; checksum: string; statements: number }

/** The process currently running the rollout, if any. */
export interface Runner { host: string; pid: number; since: string }

/** The persisted document (a file in files mode, a ConfigMap in cluster mode). */
export interface RolloutState {
  apiVersion: typeof ROLLOUT_API;
  kind: typeof ROLLOUT_KIND;
  name: string;
  /** Incremented by every save; a store refuses a save based on an older revision. */
  revision: number;
  migrations: { dir: string; target: number; files: MigrationSummary[] };
  options: { selector: string; canary: string[]; batchBy?: string; parallel: number; user: string };
  stages: Stage[];
  tenants: TenantState[];
  createdAt: string;
  updatedAt: string;
  runner: Runner | null;
}

export type StageStatus = TenantStatus;
export type RolloutStatus = 'pending' | 'running' | 'done' | 'failed';
export type Counts = Record<TenantStatus, number>;

/** Summaries of parsed migrations. */
export function summarize(migrations: Migration[]): MigrationSummary[] {
  return migrations.map((m) => ({ version: m.version, file: m.file, checksum: m.checksum, statements: m.statements.length }));
}

/** A new rollout's state: every tenant pending, in stage order. */
export function initialState(args: {
  name: string; dir: string; migrations: Migration[]; options: RolloutState['options'];
  stages: Stage[]; sets: Record<string, Labels>; endpoints: Record<string, string>; now: string;
}): RolloutState {
  const tenants: TenantState[] = args.stages.flatMap((s, i) => s.tenants.map((id) => ({
    id, stage: i, sets: { ...(args.sets[id] ?? {}) }, endpoint: args.endpoints[id], status: 'pending' as const,
    version: 0, applied: [], attempts: 0, notices: [],
  })));
  return {
    apiVersion: ROLLOUT_API, kind: ROLLOUT_KIND, name: args.name, revision: 0,
    migrations: { dir: args.dir, target: args.migrations[args.migrations.length - 1].version, files: summarize(args.migrations) },
    options: args.options, stages: args.stages, tenants, createdAt: args.now, updatedAt: args.now, runner: null,
  };
}

/** Counts of tenants per status. */
export function countsOf(tenants: TenantState[]): Counts {
  const c: Counts = { pending: 0, running: 0, done: 0, failed: 0 };
  for (const t of tenants) c[t.status]++;
  return c;
}

/** done if all done; failed if any failed; running if any running or some done; else pending. */
export function statusOf(tenants: TenantState[]): StageStatus {
  const c = countsOf(tenants);
  if (c.done === tenants.length) return 'done';
  if (c.failed) return 'failed';
  if (c.running || c.done) return 'running';
  return 'pending';
}

/** The tenants of stage `i`, in run order. */
export function stageTenants(s: RolloutState, i: number): TenantState[] {
  return s.stages[i].tenants.map((id) => s.tenants.find((t) => t.id === id)!);
}

/** Status of the whole rollout (a failed stage makes it failed; later stages stay pending). */
export function rolloutStatus(s: RolloutState): RolloutStatus {
  return statusOf(s.tenants);
}

/** Index of the first stage that is not done, or -1 when all are. */
export function currentStage(s: RolloutState): number {
  return s.stages.findIndex((_, i) => statusOf(stageTenants(s, i)) !== 'done');
}

function update(s: RolloutState, id: string, now: string, f: (t: TenantState) => TenantState): RolloutState {
  if (!s.tenants.some((t) => t.id === id)) throw new Error(`rollout ${s.name}: no tenant ${id}`);
  return { ...s, updatedAt: now, tenants: s.tenants.map((t) => (t.id === id ? { ...f(t), updatedAt: now } : t)) };
}

/**
 * A runner takes the rollout: records it, and puts tenants left `running` by a runner that died
 * back to `pending` (their tracking tables tell what really ran). Throws if done.
 */
export function begin(s: RolloutState, runner: Runner, now: string): RolloutState {
  if (rolloutStatus(s) === 'done') throw new Error(`rollout ${s.name} is done`);
  return { ...s, runner, updatedAt: now, tenants: s.tenants.map((t) => (t.status === 'running' ? { ...t, status: 'pending' as const, updatedAt: now } : t)) };
}

/** pending|failed -> running (attempts + 1, error cleared). Throws on any other status. */
export function startTenant(s: RolloutState, id: string, now: string): RolloutState {
  return update(s, id, now, (t) => {
    if (t.status !== 'pending' && t.status !== 'failed') throw new Error(`rollout ${s.name}: cannot start ${id} (${t.status})`);
    const { error: _e, ...rest } = t;
    return { ...rest, status: 'running', attempts: t.attempts + 1 };
  });
}

/** running -> done (ok) or failed (error). Throws if the tenant is not running. */
export function finishTenant(s: RolloutState, id: string, r: { ok: boolean; applied: number[]; version: number; notices: string[]; error?: string }, now: string): RolloutState {
  return update(s, id, now, (t) => {
    if (t.status !== 'running') throw new Error(`rollout ${s.name}: cannot finish ${id} (${t.status})`);
    const applied = [...new Set([...t.applied, ...r.applied])].sort((a, b) => a - b);
    const base = { ...t, applied, version: Math.max(t.version, r.version), notices: [...new Set([...t.notices, ...r.notices])] };
    if (r.ok) { const { error: _e, ...rest } = base; return { ...rest, status: 'done' as const }; }
    return { ...base, status: 'failed' as const, error: r.error ?? 'failed' };
  });
}

/** The runner lets go (end of a run, whatever its outcome). */
export function end(s: RolloutState, now: string): RolloutState {
  return { ...s, runner: null, updatedAt: now };
}

/**
 * Checks that a re-run plans the same rollout: same stages and tenants, same versions (files
 * may have been edited: a fix). Returns the state with the new file summaries, or throws
 * ToolError ROLLOUT_MISMATCH (exit 2).
 */
export function reconcile(s: RolloutState, stages: Stage[], migrations: Migration[]): { state: RolloutState; changed: string[] } {
  const mismatch = (why: string) => new ToolError(`rollout ${s.name} exists with ${why}`, EXIT.USAGE, 'ROLLOUT_MISMATCH',
    `Resume it with the same options (tidb-mesh rollout resume ${s.name}), or start a new rollout with --name.`);
  if (JSON.stringify(s.stages) !== JSON.stringify(stages)) {
    throw mismatch(`other stages (${s.stages.map((x) => `${x.name}: ${x.tenants.join(' ')}`).join('; ')})`);
  }
  const was = s.migrations.files.map((f) => f.version).join(',');
  const now = migrations.map((m) => m.version).join(',');
  if (was !== now) throw mismatch(`migration versions ${was} (now ${now}); new migrations need a new rollout`);
  const changed = migrations.filter((m, i) => m.checksum !== s.migrations.files[i].checksum).map((m) => m.file);
  return { state: { ...s, migrations: { ...s.migrations, files: summarize(migrations) } }, changed };
}

/** Checks the shape of a stored state document. Throws ToolError ROLLOUT_STATE_INVALID (exit 4). */
export function parseState(doc: unknown, where: string): RolloutState {
  const d = doc as RolloutState;
  const bad = (why: string) => new ToolError(`rollout state ${where}: ${why}`, EXIT.REGISTRY, 'ROLLOUT_STATE_INVALID',
    'Restore the state from its last good version; the tenants\' own tidb_mesh tables still say what was applied.');
  if (!d || d.kind !== ROLLOUT_KIND || typeof d.name !== 'string' || !Number.isInteger(d.revision)) throw bad(`expected kind ${ROLLOUT_KIND} with name and revision`);
  if (!Array.isArray(d.stages) || !Array.isArray(d.tenants) || !d.migrations || !Array.isArray(d.migrations.files) || !d.options) throw bad('missing stages, tenants, migrations or options');
  for (const t of d.tenants) {
    if (typeof t.id !== 'string' || !TENANT_STATUSES.includes(t.status) || !Number.isInteger(t.stage) || !d.stages[t.stage]?.tenants.includes(t.id)) {
      throw bad(`malformed tenant entry ${JSON.stringify(t)}`);
    }
  }
  return d;
}
