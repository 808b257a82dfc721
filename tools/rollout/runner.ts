// Runs a rollout's stages against the tenants: at most `parallel` tenants at once, a stage
// starts only when the previous one is done, and a stage stops at its first failure. Every
// transition is saved through the StateStore before the next step (so a crash loses at most
// the tenants in flight, which the next run re-checks against their tracking tables).
import { migrateTenant, StepInfo, Connector } from './executor';
import { Migration } from './migrations';
import { begin, end, finishTenant, RolloutState, Runner, stageTenants, startTenant, statusOf } from './state';
import { StateStore } from './store';

/** What the runner needs from the outside. */
export interface RunDeps {
  store: StateStore;
  /** Opens a connection to a tenant's TiDB at `endpoint`. */
  connect: (tenantId: string, endpoint: string) => Connector;
  migrations: Migration[];
  runner: Runner;
  now: () => string;
  /** Called after every saved transition (progress display). */
  onChange?: (s: RolloutState) => void;
  /** Called before each statement of a tenant (progress display; not persisted). */
  onStep?: (tenantId: string, step: StepInfo) => void;
}

/**
 * Runs (or resumes) the rollout in `state` to its end or its first failing stage. Returns the
 * final state (saved, runner released). Store conflicts (another runner) propagate as ToolError.
 */
export async function runRollout(state: RolloutState, deps: RunDeps): Promise<RolloutState> {
  let s = await deps.store.save(begin(state, deps.runner, deps.now()));
  deps.onChange?.(s);
  // Saves are serialised: transitions of parallel tenants must not race on the revision.
  let chain: Promise<unknown> = Promise.resolve();
  const transition = (f: (x: RolloutState) => RolloutState): Promise<void> => {
    const p = chain.then(async () => { s = await deps.store.save(f(s)); deps.onChange?.(s); });
    chain = p.catch(() => undefined);
    return p;
  };
  let error: unknown;
  try {
    for (let i = 0; i < s.stages.length; i++) {
      if (statusOf(stageTenants(s, i)) === 'done') continue;
      const queue = stageTenants(s, i).filter((t) => t.status !== 'done').map((t) => t.id);
      let stop = false;
      let failed = false;
      const worker = async () => {
        while (!stop && queue.length) {
          const id = queue.shift()!;
          try {
            await transition((x) => startTenant(x, id, deps.now()));
          } catch (e) { stop = true; throw e; }
          const endpoint = s.tenants.find((t) => t.id === id)!.endpoint;
          const r = await migrateTenant({
            connect: deps.connect(id, endpoint), migrations: deps.migrations, rollout: s.name,
            onStep: (step) => deps.onStep?.(id, step),
          });
          if (!r.ok) { failed = true; stop = true; }
          try {
            await transition((x) => finishTenant(x, id, r, deps.now()));
          } catch (e) { stop = true; throw e; }
        }
      };
      const n = Math.max(1, Math.min(s.options.parallel, queue.length));
      const results = await Promise.allSettled(Array.from({ length: n }, worker));
      const crash = results.find((x): x is PromiseRejectedResult => x.status === 'rejected');
      if (crash) throw crash.reason;
      if (failed) break;
    }
  } catch (e) {
    error = e;
  }
  await chain;
  try {
    s = await deps.store.save(end(s, deps.now()));
    deps.onChange?.(s);
  } catch (e) {
    if (error === undefined) error = e;
  }
  if (error !== undefined) throw error;
  return s;
}
