// Where each tenant's TiDB accepts MySQL connections. Pure.
//
// Default: the Service tidb-operator creates for the tenant's TiDB, `<name>-tidb.<namespace>.svc:4000`
// (v1 TidbCluster `<tc>-tidb`; v2 TiDBGroup `<group>-tidb`, pkg/controllers/tidbgroup/tasks/util.go),
// reachable from inside the cluster. `--endpoint TENANT=HOST:PORT` overrides one tenant (for a
// port-forward or a load balancer), `--endpoint TENANT=/path/mysql.sock` connects to a unix socket.
import { EXIT, ToolError } from '../errors';
import { resolveTenantRef } from './plan';

/** "host:port" or an absolute unix socket path. */
export type Endpoint = string;

export const TIDB_PORT = 4000;

/** The operator Service of a tenant's TiDB. */
export function defaultEndpoint(t: { namespace: string; name: string }): Endpoint {
  return `${t.name}-tidb.${t.namespace}.svc:${TIDB_PORT}`;
}

/** Connection options for mysql2: {socketPath} or {host, port}. Throws ToolError (USAGE) when malformed. */
export function endpointAddress(e: Endpoint): { socketPath: string } | { host: string; port: number } {
  if (e.startsWith('/')) return { socketPath: e };
  const m = /^(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.exec(e);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new ToolError(`endpoint ${e}: expected HOST:PORT or /path/to/mysql.sock`, EXIT.USAGE, 'USAGE');
  return { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

/**
 * Parses the --endpoint flags into tenant id -> endpoint, resolving TENANT as NS/NAME or a
 * unique NAME. Throws ToolError (USAGE) on a malformed flag, an unknown tenant or a tenant given
 * twice.
 */
export function parseEndpointFlags(flags: string[], records: Array<{ namespace: string; name: string; state: string }>): Record<string, Endpoint> {
  const out: Record<string, Endpoint> = {};
  for (const f of flags) {
    const eq = f.indexOf('=');
    if (eq <= 0) throw new ToolError(`--endpoint ${f}: expected TENANT=HOST:PORT or TENANT=/path/to/mysql.sock`, EXIT.USAGE, 'USAGE');
    const r = resolveTenantRef(f.slice(0, eq), records, '--endpoint');
    const e = f.slice(eq + 1);
    endpointAddress(e);
    const key = `${r.namespace}/${r.name}`;
    if (key in out) throw new ToolError(`--endpoint: tenant ${key} given twice`, EXIT.USAGE, 'USAGE');
    out[key] = e;
  }
  return out;
}
