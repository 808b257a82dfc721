// SQL text of a migration file -> statements. Pure. Follows MySQL's lexical rules for what can
// hide a `;`: '...' and "..." strings (backslash escapes and doubled quotes), `...` identifiers,
// `-- ` and `#` line comments, /* */ block comments (kept in the statement: /*! */ and /*T! */
// are executable comments). DELIMITER is not supported (TiDB has no stored programs).
import { createHash } from 'crypto';

/** One statement of a migration file. */
export interface Statement {
  /** 1-based position in its file. */
  index: number;
  /** The statement text, trimmed, without the terminating `;`. */
  sql: string;
  /** sha256 (hex) of `sql`: how an applied statement is recognised when a file is resumed. */
  checksum: string;
  /**
   * `USE db` or `SET` of a session variable: changes only the connection, so it is re-run on every
   * attempt (before the statements still to apply) and never recorded as applied.
   */
  session: boolean;
}

/** sha256 hex of a string (UTF-8). */
export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * Splits `text` at top-level `;`. Returns the statements (comment-only pieces dropped) or, on an
 * unterminated string/identifier/comment, throws Error naming the line.
 */
export function splitStatements(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  let code = false; // the current piece has something other than comments and blanks
  let i = 0;
  const line = (pos: number) => text.slice(0, pos).split('\n').length;
  const push = (end: number) => {
    if (code) out.push(text.slice(start, end).trim());
    start = end + 1;
    code = false;
  };
  while (i < text.length) {
    const c = text[i];
    const n = text[i + 1];
    if (c === "'" || c === '"' || c === '`') {
      const open = i;
      i++;
      for (;;) {
        if (i >= text.length) throw new Error(`unterminated ${c === '`' ? 'identifier' : 'string'} starting on line ${line(open)}`);
        if (text[i] === '\\' && c !== '`') { i += 2; continue; }
        if (text[i] === c) {
          if (text[i + 1] === c) { i += 2; continue; }
          i++;
          break;
        }
        i++;
      }
      code = true;
      continue;
    }
    if (c === '#' || (c === '-' && n === '-' && (i + 2 >= text.length || /\s/.test(text[i + 2])))) {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && n === '*') {
      const open = i;
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw new Error(`unterminated /* comment starting on line ${line(open)}`);
      // Executable comments (/*! ... */, /*T! ... */) are code.
      if (text[i + 2] === '!' || text.startsWith('T!', i + 2)) code = true;
      i = end + 2;
      continue;
    }
    if (c === ';') { push(i); i++; continue; }
    if (!/\s/.test(c)) code = true;
    i++;
  }
  push(text.length);
  return out;
}

/** The statement's text without comments, collapsed, for keyword checks. */
function head(sql: string): string {
  return sql.replace(/\/\*(?![!]|T!)[\s\S]*?\*\//g, ' ').replace(/(^|\n)\s*(#|-- )[^\n]*/g, ' ').trim().replace(/\s+/g, ' ').toUpperCase();
}

/** True for statements that only change the connection (USE, SET of session variables). */
export function isSessionStatement(sql: string): boolean {
  const h = head(sql);
  if (/^USE\s/.test(h)) return true;
  if (!/^SET\s/.test(h)) return false;
  return !/\b(GLOBAL|PERSIST|PERSIST_ONLY|PASSWORD|ROLE|DEFAULT ROLE|TRANSACTION)\b|@@GLOBAL\./.test(h);
}

/**
 * Why a statement is refused in a migration, or undefined. Transaction control would break the
 * tool's own transaction around each statement and its progress record.
 */
export function refusedStatement(sql: string): string | undefined {
  const h = head(sql);
  if (/^(BEGIN|START TRANSACTION|COMMIT|ROLLBACK|SAVEPOINT|RELEASE SAVEPOINT|XA |LOCK TABLES?|UNLOCK TABLES?)\b/.test(h) || /^SET (SESSION |@@SESSION\.|@@)?AUTOCOMMIT\b/.test(h)) {
    return 'transaction control is not allowed: the tool runs each statement in its own transaction together with its progress record';
  }
  if (/^DELIMITER\b/.test(h)) return 'DELIMITER is not supported (TiDB has no stored programs)';
  return undefined;
}

/** Statements of one file with checksums and session flags (see Statement). */
export function statementsOf(text: string): Statement[] {
  return splitStatements(text).map((sql, i) => ({ index: i + 1, sql, checksum: sha256(sql), session: isSessionStatement(sql) }));
}
