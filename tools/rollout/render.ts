// Text and JSON views of a rollout: the dry-run plan, `rollout status` (optionally grouped by
// one tenant set), the live progress frame (terminal) and the plain progress lines (logs). Pure
// and deterministic: the same state gives the same bytes.
import { groupBySet, groupLabel } from '../tenants/sets';
import { table } from '../tenants/list';
import { Migration } from './migrations';
import { Stage } from './plan';
import { Counts, countsOf, currentStage, RolloutState, rolloutStatus, stageTenants, statusOf, TenantState } from './state';

/** What the dry run shows. */
export interface PlanView {
  name: string;
  migrations: Migration[];
  stages: Stage[];
  endpoints: Record<string, string>;
  parallel: number;
}

const indent = (text: string, pad: string) => text.split('\n').map((l) => pad + l).join('\n');

/** The dry-run plan: migrations with every statement, stages with tenants and endpoints. */
export function planText(p: PlanView): string {
  const target = p.migrations[p.migrations.length - 1].version;
  const lines = [`rollout ${p.name}: dry run, nothing is touched`, `migrations up to version ${target}:`];
  for (const m of p.migrations) {
    lines.push(`  ${m.file} (version ${m.version}, ${m.statements.length} statement${m.statements.length === 1 ? '' : 's'})`);
    for (const s of m.statements) lines.push(`${indent(s.sql, '        ').replace(/^ {8}/, `    ${String(s.index).padStart(2)}${s.session ? '*' : ' '} `)}`);
  }
  if (p.migrations.some((m) => m.statements.some((s) => s.session))) lines.push('    (* session statement: replayed on every attempt, not recorded)');
  lines.push(`stages (at most ${p.parallel} tenant${p.parallel === 1 ? '' : 's'} at once; a stage starts when the previous one is done and stops at its first failure):`);
  p.stages.forEach((s, i) => {
    lines.push(`  ${i + 1}. ${s.name}`);
    const w = Math.max(...s.tenants.map((t) => t.length));
    for (const t of s.tenants) lines.push(`       ${t.padEnd(w)}  ${p.endpoints[t]}`);
  });
  lines.push('each tenant runs the versions missing from its tidb_mesh.schema_migrations, in order, recording every statement as it succeeds');
  return lines.join('\n') + '\n';
}

/** The dry-run plan as JSON. */
export function planJson(p: PlanView): string {
  return JSON.stringify({
    name: p.name, dryRun: true, parallel: p.parallel,
    migrations: p.migrations.map((m) => ({ version: m.version, file: m.file, checksum: m.checksum, statements: m.statements.map((s) => ({ index: s.index, sql: s.sql, session: s.session })) })),
    stages: p.stages.map((s, i) => ({ index: i + 1, name: s.name, tenants: s.tenants.map((id) => ({ id, endpoint: p.endpoints[id] })) })),
  }, null, 2) + '\n';
}

/** Options of the status views. */
export interface StatusView {
  groupBy?: string;
  /** False when the recorded runner is known to be gone (same host, process not alive). */
  runnerAlive?: boolean;
}

const countCells = (c: Counts) => [String(c.pending), String(c.running), String(c.done), String(c.failed)];

function detail(t: TenantState): string {
  if (t.status === 'failed') return t.error ?? '';
  return t.notices.join('; ');
}

function runnerLine(s: RolloutState, v: StatusView): string | undefined {
  if (!s.runner) return undefined;
  if (v.runnerAlive === false) return `runner: pid ${s.runner.pid} on ${s.runner.host} is gone (interrupted); resume: tidb-mesh rollout resume ${s.name}`;
  return `runner: pid ${s.runner.pid} on ${s.runner.host} since ${s.runner.since}`;
}

/**
 * `rollout status` as text: a header, the stage table, with `groupBy` the per-group table, and
 * the per-tenant table (tenants ordered by group, then plan order).
 */
export function statusText(s: RolloutState, v: StatusView = {}): string {
  const st = rolloutStatus(s);
  const files = s.migrations.files.map((f) => f.file).join(', ');
  const interrupted = st === 'running' && v.runnerAlive === false ? ', interrupted' : '';
  const out = [`rollout ${s.name}: ${st}${interrupted} (target version ${s.migrations.target}: ${files})`];
  const r = runnerLine(s, v);
  if (r) out.push(r);
  out.push('');
  out.push(table([['STAGE', 'NAME', 'STATUS', 'PENDING', 'RUNNING', 'DONE', 'FAILED'],
    ...s.stages.map((x, i) => { const ts = stageTenants(s, i); return [String(i + 1), x.name, statusOf(ts), ...countCells(countsOf(ts))]; })]).trimEnd());
  let tenants = s.tenants;
  const setCol: string[] = [];
  if (v.groupBy) {
    const set = v.groupBy;
    const groups = groupBySet(s.tenants, set, (t) => t.sets);
    out.push('');
    out.push(table([[set.toUpperCase(), 'STATUS', 'PENDING', 'RUNNING', 'DONE', 'FAILED', 'TENANTS'],
      ...groups.map((g) => [groupLabel(g.value), statusOf(g.items), ...countCells(countsOf(g.items)), String(g.items.length)])]).trimEnd());
    tenants = groups.flatMap((g) => g.items);
    setCol.push(set.toUpperCase());
  }
  out.push('');
  out.push(table([['TENANT', ...setCol, 'STAGE', 'STATUS', 'VERSION', 'DETAIL'],
    ...tenants.map((t) => [t.id, ...(v.groupBy ? [groupLabel(t.sets[v.groupBy] ?? null)] : []), s.stages[t.stage].name, t.status, String(t.version), detail(t)])]).trimEnd());
  if (st === 'failed') out.push('', `fix the cause, then: tidb-mesh rollout resume ${s.name} (done tenants are not re-run)`);
  return out.join('\n') + '\n';
}

const tenantJson = (s: RolloutState, t: TenantState) => ({
  id: t.id, stage: s.stages[t.stage].name, status: t.status, version: t.version, applied: t.applied,
  attempts: t.attempts, endpoint: t.endpoint, sets: t.sets, ...(t.error ? { error: t.error } : {}), notices: t.notices,
});

/** `rollout status -o json`: status, counts, stages, optional groups, tenants. */
export function statusJson(s: RolloutState, v: StatusView = {}): string {
  const doc: Record<string, unknown> = {
    name: s.name, status: rolloutStatus(s), target: s.migrations.target,
    migrations: s.migrations.files.map((f) => ({ version: f.version, file: f.file, statements: f.statements })),
    runner: s.runner ? { ...s.runner, ...(v.runnerAlive === false ? { gone: true } : {}) } : null,
    counts: countsOf(s.tenants),
    stages: s.stages.map((x, i) => { const ts = stageTenants(s, i); return { index: i + 1, name: x.name, status: statusOf(ts), counts: countsOf(ts), tenants: x.tenants }; }),
  };
  if (v.groupBy) {
    doc.groupBy = v.groupBy;
    doc.groups = groupBySet(s.tenants, v.groupBy, (t) => t.sets).map((g) => ({
      value: g.value, status: statusOf(g.items), counts: countsOf(g.items), tenants: g.items.map((t) => tenantJson(s, t)),
    }));
  }
  doc.tenants = s.tenants.map((t) => tenantJson(s, t));
  return JSON.stringify(doc, null, 2) + '\n';
}

/** `rollout status` of several rollouts (no name given): one line each. */
export function listText(states: RolloutState[]): string {
  return table([['ROLLOUT', 'STATUS', 'TARGET', 'STAGES', 'PENDING', 'RUNNING', 'DONE', 'FAILED'],
    ...states.map((s) => {
      const done = s.stages.filter((_, i) => statusOf(stageTenants(s, i)) === 'done').length;
      return [s.name, rolloutStatus(s), String(s.migrations.target), `${done}/${s.stages.length}`, ...countCells(countsOf(s.tenants))];
    })]);
}

function bar(c: Counts, total: number, width = 20): string {
  const full = total ? Math.round((c.done / total) * width) : width;
  return '#'.repeat(full) + '.'.repeat(width - full);
}

/**
 * The live frame (terminal): one line per stage with a bar, the tenants of the current stage
 * and every failed tenant; `steps` = what each running tenant is executing.
 */
export function progressFrame(s: RolloutState, steps: Record<string, string> = {}, v: StatusView = {}): string {
  const cur = currentStage(s);
  const head = `rollout ${s.name}: ${rolloutStatus(s)}${cur >= 0 ? `, stage ${cur + 1}/${s.stages.length} ${s.stages[cur].name}` : ''}`;
  const lines = [head];
  const w = Math.max(...s.stages.map((x) => x.name.length));
  s.stages.forEach((x, i) => {
    const ts = stageTenants(s, i);
    const c = countsOf(ts);
    lines.push(`  ${i + 1}. ${x.name.padEnd(w)}  ${statusOf(ts).padEnd(7)}  [${bar(c, ts.length)}]  ${c.done}/${ts.length}`);
  });
  const shown = s.tenants.filter((t) => t.stage === cur || t.status === 'failed' || t.status === 'running');
  const tw = Math.max(0, ...shown.map((t) => t.id.length));
  for (const t of shown) {
    const what = t.status === 'running' ? (steps[t.id] ?? 'connecting') : t.status === 'failed' ? t.error ?? '' : t.status === 'done' ? `version ${t.version}` : '';
    lines.push(`     ${t.id.padEnd(tw)}  ${t.status.padEnd(7)}  ${what}`.trimEnd());
  }
  if (v.groupBy) {
    const groups = groupBySet(s.tenants, v.groupBy, (t) => t.sets);
    lines.push(`  by ${v.groupBy}: ${groups.map((g) => { const c = countsOf(g.items); return `${groupLabel(g.value)} ${c.done}/${g.items.length}${c.failed ? ` (${c.failed} failed)` : ''}`; }).join(', ')}`);
  }
  return lines.join('\n') + '\n';
}

/** Plain progress lines (not a terminal): one per tenant or stage status change from `prev` to `next`. */
export function transitionLines(prev: RolloutState | undefined, next: RolloutState): string[] {
  const out: string[] = [];
  const n = next.stages.length;
  for (const t of next.tenants) {
    const was = prev?.tenants.find((x) => x.id === t.id);
    if (was?.status === t.status) continue;
    if (!was && t.status === 'pending') continue;
    const where = `stage ${t.stage + 1}/${n} ${next.stages[t.stage].name}`;
    const what = t.status === 'done' ? `done (version ${t.version}${t.applied.length ? `; applied ${t.applied.join(',')}` : '; nothing to apply'})`
      : t.status === 'failed' ? `FAILED: ${t.error}` : t.status === 'running' ? `running (attempt ${t.attempts})`
      : was?.status === 'running' ? 'pending again (its runner was interrupted; its tracking tables say what ran)' : t.status;
    out.push(`${where}: ${t.id} ${what}`);
  }
  next.stages.forEach((x, i) => {
    const before = prev ? statusOf(stageTenants(prev, i)) : 'pending';
    const after = statusOf(stageTenants(next, i));
    if (before !== after && (after === 'done' || after === 'failed')) out.push(`stage ${i + 1}/${n} ${x.name}: ${after}`);
  });
  return out;
}
