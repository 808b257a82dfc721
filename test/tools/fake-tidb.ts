// A TEST stand-in for one tenant's TiDB behind the rollout's Connector interface: it keeps the
// tool's tracking tables in memory, logs every migration statement it executes, applies
// TiDB's transaction rules that matter here (DML waits for COMMIT, DDL commits implicitly),
// and fails statements that match a rule. The real thing: test/tidb/rollout.test.js.
import { Connector, SqlConnection } from '../../tools/rollout/executor';
import { INSERT_STATEMENT, INSERT_VERSION, SELECT_STATEMENTS, SELECT_VERSIONS } from '../../tools/rollout/tracking';

/** A MySQL-like error as mysql2 produces it. */
export function sqlError(code: string, errno: number, message: string): Error {
  return Object.assign(new Error(message), { code, errno, sqlMessage: message });
}

export class FakeTidb {
  versions: Array<{ version: number; name: string; checksum: string; statements: number; rollout: string }> = [];
  statements: Array<{ version: number; seq: number; checksum: string; statement: string; rollout: string }> = [];
  /** Migration statements executed (committed or not), in order. */
  executed: string[] = [];
  /** Committed effects of DML / DDL (the "schema and data"), in order. */
  effects: string[] = [];
  /** Statements matching one of these fail with the given error. */
  failOn: Array<{ match: RegExp; error: Error }> = [];
  connections = 0;
  /** When set, connecting fails with this error. */
  down?: Error;

  connector(): Connector {
    return async () => {
      if (this.down) throw this.down;
      this.connections++;
      return this.session();
    };
  }

  private session(): SqlConnection {
    let inTxn = false;
    let pending: Array<() => void> = [];
    const commit = () => { for (const f of pending) f(); pending = []; inTxn = false; };
    const run = (f: () => void) => { if (inTxn) pending.push(f); else f(); };
    return {
      query: async (sql: string, params?: unknown[]) => {
        if (/^CREATE (DATABASE|TABLE) IF NOT EXISTS tidb_mesh/.test(sql)) return [];
        if (sql === SELECT_VERSIONS) return this.versions.map((v) => ({ version: String(v.version), checksum: v.checksum }));
        if (sql === SELECT_STATEMENTS) {
          const done = new Set(this.versions.map((v) => v.version));
          return this.statements.filter((s) => !done.has(s.version)).map((s) => ({ version: String(s.version), seq: s.seq, checksum: s.checksum }));
        }
        if (sql === 'BEGIN') { inTxn = true; return []; }
        if (sql === 'COMMIT') { commit(); return []; }
        if (sql === 'ROLLBACK') { pending = []; inTxn = false; return []; }
        if (sql === INSERT_STATEMENT) {
          const [version, seq, checksum, statement, rollout] = params as [number, number, string, string, string];
          if (this.statements.some((s) => s.version === version && s.seq === seq)) throw sqlError('ER_DUP_ENTRY', 1062, `Duplicate entry '${version}-${seq}' for key 'PRIMARY'`);
          run(() => this.statements.push({ version, seq, checksum, statement, rollout }));
          return [];
        }
        if (sql === INSERT_VERSION) {
          const [version, name, checksum, statements, rollout] = params as [number, string, string, number, string];
          run(() => this.versions.push({ version, name, checksum, statements, rollout }));
          return [];
        }
        this.executed.push(sql);
        const rule = this.failOn.find((r) => r.match.test(sql));
        if (rule) throw rule.error;
        if (/^\s*(CREATE|ALTER|DROP|RENAME|TRUNCATE)\b/i.test(sql)) { commit(); this.effects.push(sql); return []; }
        if (/^\s*(USE|SET)\b/i.test(sql)) return [];
        run(() => this.effects.push(sql));
        return [];
      },
      close: async () => { pending = []; inTxn = false; },
    };
  }

  /** Applied versions, ascending. */
  appliedVersions(): number[] {
    return this.versions.map((v) => v.version).sort((a, b) => a - b);
  }
}
