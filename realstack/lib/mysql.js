// SQL clients for a tidb-server listening on a unix socket (the filesystem is shared between
// network namespaces, so the tests reach each tenant's TiDB without a route into its netns):
// the `mysql` command-line client (Debian's mariadb-client), as a person would type it, and
// mysql2 sessions for transactions and conflicts between sessions.
'use strict';

const { execFile } = require('child_process');
const mysql2 = require('mysql2/promise');

class Mysql {
  constructor(socket, user = 'root') {
    this.socket = socket;
    this.user = user;
  }

  /** One statement on a fresh connection; resolves to rows (objects). */
  async query(sql, params = []) {
    const c = await this.session();
    try {
      const [rows] = await c.query(sql, params);
      return rows;
    } finally {
      await c.end().catch(() => {});
    }
  }

  /** A connection for several statements (transactions); the caller ends it. */
  session(database = undefined) {
    return mysql2.createConnection({ socketPath: this.socket, user: this.user, database, multipleStatements: false, connectTimeout: 5000 });
  }

  /**
   * The real `mysql` client: `mysql --socket S -uroot --table -e SQL`, its stdout as printed.
   * Rejects with its stderr (the server's error message) on failure.
   */
  cli(sql, { database = null, table = true } = {}) {
    const args = ['--socket', this.socket, '-u' + this.user, table ? '--table' : '--batch', '-e', sql];
    if (database) args.splice(2, 0, '-D', database);
    return new Promise((resolve, reject) => {
      execFile('mysql', args, { timeout: 120000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`mysql: ${(stderr || err.message).trim()}`));
        else resolve(stdout);
      });
    });
  }
}

module.exports = { Mysql };
