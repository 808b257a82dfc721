// What one tenant still needs, from the migrations and what the tenant's own tracking tables say
// was applied (tracking.ts). Pure.
//
// Rules (docs/rollouts.md, "What applied means"):
// - a version with a row in tidb_mesh.schema_migrations is applied and never runs again; if its
//   file changed since, that is reported as a notice (not re-run, not an error);
// - inside a version not yet applied, every statement that succeeded has a row in
//   tidb_mesh.schema_migration_statements; on a resume, statements are matched by checksum
//   (each recorded row consumes one equal statement), so a fix may edit or add statements that
//   have not run, but a statement that ran must stay in the file (else STATEMENT_CHANGED);
// - session statements (USE, SET of session variables) are replayed at their place, unrecorded;
// - a pending version below the tenant's highest applied one is refused (OUT_OF_ORDER).
import { Migration } from './migrations';
import { Statement } from './sql';

/** What a tenant's tracking tables hold. */
export interface Applied {
  versions: Array<{ version: number; checksum: string }>;
  statements: Array<{ version: number; seq: number; checksum: string }>;
}

/** One step of a version: run `statement`; `record` = write its progress row with it. */
export interface Step { statement: Statement; record: boolean }

/** One version still to do on the tenant. */
export interface VersionWork {
  migration: Migration;
  /** Steps in file order (empty when every statement ran and only the version row is missing). */
  steps: Step[];
  /** Sequence number of the next statement row (recorded rows of this version + 1). */
  nextSeq: number;
}

/** The tenant's work, or the reason it cannot proceed. */
export type TenantWork =
  | { ok: true; todo: VersionWork[]; notices: string[]; highestApplied: number }
  | { ok: false; code: 'OUT_OF_ORDER' | 'STATEMENT_CHANGED'; message: string };

const short = (h: string) => h.slice(0, 12);

/** Computes the tenant's work (see the rules at the top of this file). */
export function tenantWork(migrations: Migration[], applied: Applied): TenantWork {
  const done = new Map(applied.versions.map((v) => [v.version, v.checksum]));
  const highestApplied = applied.versions.reduce((m, v) => Math.max(m, v.version), 0);
  const notices: string[] = [];
  const todo: VersionWork[] = [];
  for (const m of migrations) {
    const recorded = done.get(m.version);
    if (recorded !== undefined) {
      if (recorded !== m.checksum) notices.push(`${m.file} changed after it was applied here (sha256 ${short(recorded)}… then, ${short(m.checksum)}… now); not re-run`);
      continue;
    }
    if (m.version < highestApplied) {
      return { ok: false, code: 'OUT_OF_ORDER', message: `${m.file} (version ${m.version}) is not applied but version ${highestApplied} is: migrations run in order; give new migrations a version above ${highestApplied}` };
    }
    const rows = applied.statements.filter((s) => s.version === m.version).sort((a, b) => a.seq - b.seq);
    const left = new Map<string, number>();
    for (const r of rows) left.set(r.checksum, (left.get(r.checksum) ?? 0) + 1);
    const steps: Step[] = [];
    for (const s of m.statements) {
      if (s.session) { steps.push({ statement: s, record: false }); continue; }
      const n = left.get(s.checksum) ?? 0;
      if (n > 0) { left.set(s.checksum, n - 1); continue; }
      steps.push({ statement: s, record: true });
    }
    const missing = rows.filter((r) => {
      const n = left.get(r.checksum) ?? 0;
      if (n > 0) { left.set(r.checksum, n - 1); return true; }
      return false;
    });
    if (missing.length) {
      return { ok: false, code: 'STATEMENT_CHANGED', message: `${m.file}: ${missing.length} statement(s) that already ran on this tenant are no longer in the file (first: #${missing[0].seq}, sha256 ${short(missing[0].checksum)}…); a statement that ran cannot be edited: restore it and put the change in a new statement or migration` };
    }
    todo.push({ migration: m, steps: steps.some((s) => s.record) ? steps : [], nextSeq: rows.length + 1 });
  }
  return { ok: true, todo, notices, highestApplied };
}
