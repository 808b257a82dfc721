// A migration directory (file names + texts) -> the versioned migrations of a rollout. Pure;
// the directory is read by migration-files.ts.
//
// Files: `<version>[_-]<name>.sql`, version a decimal number >= 1 (`0001_create_users.sql`), one
// file per version, applied in version order. Other files (README.md, ...) are ignored; a
// `.sql` file without a leading number is an error (it would never run).
import { EXIT, ToolError } from '../errors';
import { refusedStatement, sha256, Statement, statementsOf } from './sql';

/** One migration file. */
export interface Migration {
  version: number;
  /** The file name (`0002_add_index.sql`). */
  file: string;
  /** sha256 of the file text, recorded with the applied version (audit; see tenant-work.ts). */
  checksum: string;
  statements: Statement[];
}

const FILE = /^(\d+)(?:[_-](.*))?\.sql$/;

function bad(message: string): ToolError {
  return new ToolError(message, EXIT.USAGE, 'MIGRATION_INVALID',
    'Name migrations <version>_<name>.sql with distinct versions; one or more statements per file, separated by ;.');
}

/**
 * Parses the files of a migration directory, sorted by version, keeping versions <= `to` (all
 * when undefined). Throws ToolError MIGRATION_INVALID (exit 2) for a .sql file without a version,
 * two files with one version, an empty file, a statement the tool refuses (transaction control,
 * DELIMITER), unterminated quotes/comments, or no migration at all up to `to`.
 */
export function parseMigrations(dir: string, files: Array<{ name: string; text: string }>, to?: number): Migration[] {
  const out: Migration[] = [];
  const seen = new Map<number, string>();
  for (const f of [...files].sort((a, b) => a.name.localeCompare(b.name))) {
    if (!f.name.endsWith('.sql')) continue;
    const m = FILE.exec(f.name);
    if (!m) throw bad(`${dir}/${f.name}: migration files are named <version>_<name>.sql (e.g. 0001_create_users.sql)`);
    const version = Number(m[1]);
    if (!Number.isSafeInteger(version) || version < 1) throw bad(`${dir}/${f.name}: version must be a number >= 1`);
    if (seen.has(version)) throw bad(`${dir}: ${seen.get(version)} and ${f.name} both have version ${version}`);
    seen.set(version, f.name);
    if (to !== undefined && version > to) continue;
    let statements: Statement[];
    try { statements = statementsOf(f.text); } catch (e) { throw bad(`${dir}/${f.name}: ${(e as Error).message}`); }
    if (!statements.some((s) => !s.session)) throw bad(`${dir}/${f.name}: no statement to apply`);
    for (const s of statements) {
      const why = refusedStatement(s.sql);
      if (why) throw bad(`${dir}/${f.name} statement ${s.index}: ${why}`);
    }
    out.push({ version, file: f.name, checksum: sha256(f.text), statements });
  }
  out.sort((a, b) => a.version - b.version);
  if (!out.length) throw bad(`${dir}: no migration${to !== undefined ? ` with version <= ${to}` : ''} (files <version>_<name>.sql)`);
  return out;
}
