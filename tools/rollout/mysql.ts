// The MySQL protocol edge of the rollout: a Connector over mysql2 (maintained, pure JavaScript,
// works with TiDB) to a tenant's TiDB at HOST:PORT or a unix socket.
import * as mysql from 'mysql2/promise';
import { Connector } from './executor';
import { Endpoint, endpointAddress } from './endpoints';

/**
 * A Connector for `endpoint`. Each call opens a new connection (text protocol, one statement per
 * query, 10 s connect timeout); BIGINTs come back as strings.
 */
export function mysqlConnector(endpoint: Endpoint, auth: { user: string; password?: string }): Connector {
  const address = endpointAddress(endpoint);
  return async () => {
    const c = await mysql.createConnection({
      ...address, user: auth.user, password: auth.password, connectTimeout: 10000,
      multipleStatements: false, supportBigNumbers: true, bigNumberStrings: true,
    });
    return {
      async query(sql: string, params?: unknown[]) {
        const [rows] = await c.query(sql, params as any[]);
        return Array.isArray(rows) ? (rows as any[]) : [];
      },
      async close() { await c.end().catch(() => undefined); },
    };
  };
}
