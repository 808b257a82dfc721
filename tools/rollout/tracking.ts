// The tool-owned tables in every tenant's own TiDB, and the SQL that reads and writes them.
// Pure (SQL text and row mapping); executor.ts runs it.
//
//   tidb_mesh.schema_migrations             one row per fully applied version
//   tidb_mesh.schema_migration_statements   one row per statement that succeeded (resume point)
import { Applied } from './tenant-work';

export const TRACKING_DB = 'tidb_mesh';
export const VERSIONS_TABLE = `${TRACKING_DB}.schema_migrations`;
export const STATEMENTS_TABLE = `${TRACKING_DB}.schema_migration_statements`;

/** Idempotent DDL creating the tracking tables (run before reading them). */
export const TRACKING_DDL = [
  `CREATE DATABASE IF NOT EXISTS ${TRACKING_DB}`,
  `CREATE TABLE IF NOT EXISTS ${VERSIONS_TABLE} (
  version BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  name VARCHAR(255) NOT NULL COMMENT 'migration file',
  checksum CHAR(64) NOT NULL COMMENT 'sha256 of the file as applied',
  statements INT NOT NULL COMMENT 'statements recorded for this version',
  rollout VARCHAR(253) NOT NULL COMMENT 'tidb-mesh rollout that applied it',
  applied_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
) COMMENT 'owned by tidb-mesh rollout: applied migration versions'`,
  `CREATE TABLE IF NOT EXISTS ${STATEMENTS_TABLE} (
  version BIGINT UNSIGNED NOT NULL,
  seq INT NOT NULL COMMENT '1, 2, ... in the order the statements succeeded',
  checksum CHAR(64) NOT NULL COMMENT 'sha256 of the statement text',
  statement TEXT NOT NULL,
  rollout VARCHAR(253) NOT NULL,
  applied_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (version, seq)
) COMMENT 'owned by tidb-mesh rollout: statements applied per version (resume points)'`,
];

export const SELECT_VERSIONS = `SELECT version, checksum FROM ${VERSIONS_TABLE} ORDER BY version`;
export const SELECT_STATEMENTS = `SELECT s.version, s.seq, s.checksum FROM ${STATEMENTS_TABLE} s LEFT JOIN ${VERSIONS_TABLE} v ON v.version = s.version WHERE v.version IS NULL ORDER BY s.version, s.seq`;
export const INSERT_STATEMENT = `INSERT INTO ${STATEMENTS_TABLE} (version, seq, checksum, statement, rollout) VALUES (?, ?, ?, ?, ?)`;
export const INSERT_VERSION = `INSERT INTO ${VERSIONS_TABLE} (version, name, checksum, statements, rollout) VALUES (?, ?, ?, ?, ?)`;
export const SELECT_HIGHEST = `SELECT COALESCE(MAX(version), 0) AS version FROM ${VERSIONS_TABLE}`;

/** Rows of SELECT_VERSIONS and SELECT_STATEMENTS -> Applied (numbers from BIGINT strings too). */
export function appliedFromRows(versions: any[], statements: any[]): Applied {
  return {
    versions: versions.map((r) => ({ version: Number(r.version), checksum: String(r.checksum) })),
    statements: statements.map((r) => ({ version: Number(r.version), seq: Number(r.seq), checksum: String(r.checksum) })),
  };
}
