// Keyspace id allocation through PD's HTTP API (tikv/pd server/apiv2/handlers/keyspace.go):
//   POST /pd/api/v2/keyspaces     {"name": n, "config": {}}          -> 200 KeyspaceMeta {id, name, state, ...}
//   POST /pd/api/v2/keyspaces/id  {"id": i, "name": n, "config": {}} -> 200 KeyspaceMeta (newer PD; for pinned ids)
//   GET  /pd/api/v2/keyspaces/{name}                                -> 200 KeyspaceMeta
// Errors come back as a JSON string with status 400/500 (e.g. "keyspace already exists").
import { ToolError, EXIT, RegistryError } from './errors';
import { Allocator, TenantRecord } from './registry';

/** The subset of fetch this module uses (injectable for tests). */
export type FetchLike = (url: string, init?: { method?: string; headers?: Record<string, string>; body?: string }) =>
  Promise<{ status: number; text(): Promise<string> }>;

interface KeyspaceMeta { id: number; name: string; state?: string }

/**
 * An Allocator backed by PD at `baseUrl` (e.g. http://storage-layer-pd.tidb:2379). A keyspace that
 * already exists under the tenant's name is adopted (its id is recorded). `verify` fails with
 * KEYSPACE_ID_CHANGED if PD reports another id for a recorded tenant, KEYSPACE_MISSING if PD has none.
 * Network and unexpected HTTP errors throw ToolError (exit code IO).
 */
export function pdAllocator(baseUrl: string, fetchImpl: FetchLike = fetch as unknown as FetchLike): Allocator {
  const base = baseUrl.replace(/\/+$/, '');
  async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any; text: string }> {
    let res;
    try {
      res = await fetchImpl(`${base}${path}`, {
        method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined,
      });
    } catch (e) {
      throw new ToolError(`PD ${base}: ${(e as Error).message}`, EXIT.IO, 'PD_UNREACHABLE', 'Check --pd (reachable PD client URL, port 2379).');
    }
    const text = await res.text();
    let json: any;
    try { json = JSON.parse(text); } catch { json = text; }
    return { status: res.status, json, text };
  }
  async function load(name: string): Promise<KeyspaceMeta | undefined> {
    const r = await call('GET', `/pd/api/v2/keyspaces/${encodeURIComponent(name)}`);
    if (r.status === 200 && typeof r.json?.id === 'number') return r.json as KeyspaceMeta;
    if (/not.?found|not exist/i.test(r.text)) return undefined;
    throw new ToolError(`PD GET keyspace ${name}: HTTP ${r.status} ${r.text.trim()}`, EXIT.IO, 'PD_ERROR', 'Check that PD runs with keyspaces enabled (API v2).');
  }
  return {
    async allocate(req) {
      const path = req.pinned !== undefined ? '/pd/api/v2/keyspaces/id' : '/pd/api/v2/keyspaces';
      const body = req.pinned !== undefined ? { id: req.pinned, name: req.keyspaceName, config: {} } : { name: req.keyspaceName, config: {} };
      const r = await call('POST', path, body);
      if (r.status === 200 && typeof r.json?.id === 'number') return r.json.id as number;
      if (/exist/i.test(r.text)) {
        const meta = await load(req.keyspaceName);
        if (meta) {
          if (req.pinned !== undefined && meta.id !== req.pinned) {
            throw new RegistryError('KEYSPACE_ID_CHANGED', `PD already has keyspace ${req.keyspaceName} with id ${meta.id}, annotation pins ${req.pinned}`,
              `Set tidb-mesh.io/keyspace-id to ${meta.id} or remove it.`);
          }
          return meta.id;
        }
      }
      throw new ToolError(`PD create keyspace ${req.keyspaceName}: HTTP ${r.status} ${r.text.trim()}`, EXIT.IO, 'PD_ERROR',
        'Check PD logs; keyspace names allow letters, digits, "-" and "_".');
    },
    async verify(rec: TenantRecord) {
      const meta = await load(rec.keyspaceName);
      if (!meta) {
        throw new RegistryError('KEYSPACE_MISSING', `tenant ${rec.namespace}/${rec.name}: PD has no keyspace ${rec.keyspaceName} (registry says id ${rec.keyspaceId})`,
          'Point --pd at the PD of this tenant\'s storage layer; if the keyspace was really deleted, retire the tenant.');
      }
      if (meta.id !== rec.keyspaceId) {
        throw new RegistryError('KEYSPACE_ID_CHANGED', `tenant ${rec.namespace}/${rec.name}: PD reports id ${meta.id} for keyspace ${rec.keyspaceName}, registry says ${rec.keyspaceId}`,
          'Do not proceed: data written under the recorded id would become unreachable. Find out which PD/registry is authoritative.');
      }
    },
  };
}
