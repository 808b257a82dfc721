// Migrates one tenant through its own TiDB (any SqlConnection: mysql.ts in production, a fake
// in unit tests): creates the tracking tables, reads what was applied, computes the work
// (tenant-work.ts) and runs it, recording each statement as it succeeds.
//
// Each recorded statement runs as BEGIN; <statement>; INSERT progress row; COMMIT. For DML the
// statement and its row commit together (exactly once). A DDL statement commits on its own in
// TiDB (implicit commit), so its row is written right after it: if the connection or process
// dies between the two, the DDL has run but is not recorded and a resume runs it again (write
// `IF NOT EXISTS` / `IF EXISTS` where TiDB allows it). Each version runs on a fresh connection
// (session statements of one file never leak into the next).
import { Migration } from './migrations';
import { tenantWork } from './tenant-work';
import { appliedFromRows, INSERT_STATEMENT, INSERT_VERSION, SELECT_STATEMENTS, SELECT_VERSIONS, TRACKING_DDL } from './tracking';

/** A SQL connection (text protocol; `params` are escaped client-side). */
export interface SqlConnection {
  query(sql: string, params?: unknown[]): Promise<any[]>;
  close(): Promise<void>;
}

/** Opens a new connection to the tenant's TiDB. */
export type Connector = () => Promise<SqlConnection>;

/** Where a tenant is, for the live display. */
export interface StepInfo { version: number; file: string; statement: number; statements: number }

/** Result of migrating one tenant. `applied`: versions completed in this attempt. */
export type TenantOutcome =
  | { ok: true; applied: number[]; version: number; notices: string[] }
  | { ok: false; applied: number[]; version: number; notices: string[]; error: string };

/** "ER_DUP_ENTRY (1062): Duplicate entry ..." for mysql2 errors, else the message. */
export function sqlErrorText(e: unknown): string {
  const x = e as { code?: string; errno?: number; sqlMessage?: string; message?: string };
  if (x?.sqlMessage) return `${x.code ?? 'ERROR'}${x.errno ? ` (${x.errno})` : ''}: ${x.sqlMessage}`;
  return x?.code && x?.message && !x.message.includes(x.code) ? `${x.code}: ${x.message}` : String(x?.message ?? e);
}

/**
 * Migrates one tenant. Never throws: connection and SQL errors come back as `ok: false` with the
 * file, the statement number and the server's message. `rollout` is recorded with every row.
 */
export async function migrateTenant(args: {
  connect: Connector; migrations: Migration[]; rollout: string; onStep?: (s: StepInfo) => void;
}): Promise<TenantOutcome> {
  const { connect, migrations, rollout, onStep } = args;
  const applied: number[] = [];
  let version = 0;
  let notices: string[] = [];
  let where = 'connect';
  try {
    const c = await connect();
    let work;
    try {
      where = 'tracking tables';
      for (const ddl of TRACKING_DDL) await c.query(ddl);
      work = tenantWork(migrations, appliedFromRows(await c.query(SELECT_VERSIONS), await c.query(SELECT_STATEMENTS)));
    } finally {
      await c.close();
    }
    if (!work.ok) return { ok: false, applied, version, notices, error: `${work.code}: ${work.message}` };
    version = work.highestApplied;
    notices = work.notices;
    for (const v of work.todo) {
      const m = v.migration;
      where = m.file;
      const conn = await connect();
      try {
        let seq = v.nextSeq;
        for (const step of v.steps) {
          const s = step.statement;
          where = `${m.file} statement ${s.index}`;
          onStep?.({ version: m.version, file: m.file, statement: s.index, statements: m.statements.length });
          if (!step.record) { await conn.query(s.sql); continue; }
          await conn.query('BEGIN');
          try {
            await conn.query(s.sql);
            await conn.query(INSERT_STATEMENT, [m.version, seq, s.checksum, s.sql, rollout]);
            await conn.query('COMMIT');
          } catch (e) {
            await conn.query('ROLLBACK').catch(() => undefined);
            throw e;
          }
          seq++;
        }
        where = `${m.file} (recording version ${m.version})`;
        await conn.query(INSERT_VERSION, [m.version, m.file, m.checksum, seq - 1, rollout]);
      } finally {
        await conn.close();
      }
      applied.push(m.version);
      version = Math.max(version, m.version);
    }
    return { ok: true, applied, version, notices };
  } catch (e) {
    return { ok: false, applied, version, notices, error: `${where}: ${sqlErrorText(e)}` };
  }
}
