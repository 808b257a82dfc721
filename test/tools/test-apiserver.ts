// TEST Kubernetes API server, only for unit tests that need a failure a real server will not give on demand (429, a concurrent writer at an exact moment); live mode itself is tested against a real kube-apiserver (test/kube/). NOT a real apiserver: an
// in-memory node:http server that speaks just the REST endpoints @kubernetes/client-node's
// KubernetesObjectApi uses: discovery (GET /api/v1, GET /apis/<g>/<v>), list (namespaced and
// all-namespaces, fieldSelector metadata.name=, labelSelector k=v), get, create (POST), replace (PUT
// with the resourceVersion precondition), delete, 429 on demand (tooManyRequests), and server-side apply
// (PATCH with content-type application/apply-patch+yaml, fieldManager and force query
// parameters, resourceVersion precondition, simplified field-ownership conflicts). No watch:
// the tool does not watch.
import * as http from 'http';
import { AddressInfo } from 'net';
import { parse } from 'yaml';

interface Resource { group: string; version: string; kind: string; plural: string; namespaced: boolean }

export const RESOURCES: Resource[] = [
  { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true },
  { group: '', version: 'v1', kind: 'Service', plural: 'services', namespaced: true },
  { group: 'pingcap.com', version: 'v1alpha1', kind: 'TidbCluster', plural: 'tidbclusters', namespaced: true },
  { group: 'extensions.istio.io', version: 'v1alpha1', kind: 'WasmPlugin', plural: 'wasmplugins', namespaced: true },
  { group: 'networking.istio.io', version: 'v1alpha3', kind: 'EnvoyFilter', plural: 'envoyfilters', namespaced: true },
  { group: 'security.istio.io', version: 'v1beta1', kind: 'PeerAuthentication', plural: 'peerauthentications', namespaced: true },
];

/** One recorded request (for assertions). */
export interface RecordedRequest { method: string; path: string; query: Record<string, string>; contentType?: string; body?: string }

interface Stored { obj: any; owners: Record<string, string> }

function gv(r: Resource): string { return r.group ? `${r.group}/${r.version}` : r.version; }

function leaves(v: any, prefix = ''): Array<[string, unknown]> {
  if (v && typeof v === 'object' && !Array.isArray(v)) return Object.entries(v).flatMap(([k, x]) => leaves(x, `${prefix}.${k}`));
  return [[prefix, v]];
}

function get(obj: any, p: string): unknown {
  return p.split('.').filter(Boolean).reduce((o, k) => (o == null ? undefined : o[k]), obj);
}

/** Merge used for apply: maps merge recursively, Service ports merge by port, other lists replace. */
function merge(base: any, patch: any, p = ''): any {
  if (Array.isArray(patch)) {
    if (p === '.spec.ports' && Array.isArray(base)) {
      const out = base.map((b: any) => ({ ...b }));
      for (const x of patch) {
        const i = out.findIndex((b: any) => b.port === x.port && (b.protocol ?? 'TCP') === (x.protocol ?? 'TCP'));
        if (i >= 0) out[i] = merge(out[i], x, `${p}[]`); else out.push(x);
      }
      return out;
    }
    return patch;
  }
  if (patch && typeof patch === 'object') {
    const out = base && typeof base === 'object' && !Array.isArray(base) ? { ...base } : {};
    for (const [k, v] of Object.entries(patch)) out[k] = merge(out[k], v, `${p}.${k}`);
    return out;
  }
  return patch;
}

/** The test server. `start()` listens on 127.0.0.1 with a random port. */
export class TestApiServer {
  readonly requests: RecordedRequest[] = [];
  private store = new Map<string, Stored>();
  private rv = 100;
  private server = http.createServer((req, res) => this.handle(req, res));
  /** Groups whose discovery answers 404 (CRD not installed), e.g. core.pingcap.com. */
  port = 0;
  /** Requests still to be answered 429 with this Retry-After (a CRD that is initializing). */
  private busy: { count: number; retryAfter: string } = { count: 0, retryAfter: '1' };

  /** The next `count` requests get 429 Too Many Requests with `Retry-After: retryAfter`. */
  tooManyRequests(count: number, retryAfter = '1'): void {
    this.busy = { count, retryAfter };
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  /** A kubeconfig (YAML text) pointing at this server. */
  kubeconfig(): string {
    return `apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: http://127.0.0.1:${this.port}
users:
- name: test
  user:
    token: test-token
contexts:
- name: test
  context: {cluster: test, user: test, namespace: tidb}
current-context: test
`;
  }

  private key(r: Resource, ns: string | undefined, name: string): string { return `${gv(r)}|${r.plural}|${ns ?? ''}|${name}`; }

  /** Seeds an object; `owners` maps ".spec.x" leaf paths to a field manager (for conflicts). */
  seed(obj: any, owners: Record<string, string> = {}): void {
    const r = RESOURCES.find((x) => gv(x) === obj.apiVersion && x.kind === obj.kind);
    if (!r) throw new Error(`test server: unknown ${obj.apiVersion} ${obj.kind}`);
    const o = JSON.parse(JSON.stringify(obj));
    o.metadata.resourceVersion = String(++this.rv);
    this.store.set(this.key(r, o.metadata.namespace, o.metadata.name), { obj: o, owners });
  }

  /** The stored object, or undefined. */
  object(apiVersion: string, kind: string, namespace: string, name: string): any {
    const r = RESOURCES.find((x) => gv(x) === apiVersion && x.kind === kind)!;
    return this.store.get(this.key(r, namespace, name))?.obj;
  }

  /** Simulates another writer: bumps the resourceVersion of a stored object. */
  touch(apiVersion: string, kind: string, namespace: string, name: string): void {
    const o = this.object(apiVersion, kind, namespace, name);
    o.metadata.resourceVersion = String(++this.rv);
  }

  private send(res: http.ServerResponse, code: number, body: unknown): void {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private status(res: http.ServerResponse, code: number, reason: string, message: string): void {
    this.send(res, code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, message, code });
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const query = Object.fromEntries(url.searchParams.entries());
      this.requests.push({ method: req.method ?? '', path: url.pathname, query, contentType: req.headers['content-type'], body: body || undefined });
      if (this.busy.count > 0) {
        this.busy.count--;
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': this.busy.retryAfter });
        res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'TooManyRequests', message: 'storage is (re)initializing', code: 429 }));
        return;
      }
      try { this.route(req.method ?? 'GET', url.pathname, query, req.headers['content-type'] ?? '', body, res); } catch (e) {
        this.status(res, 500, 'InternalError', (e as Error).message);
      }
    });
  }

  private route(method: string, p: string, q: Record<string, string>, ctype: string, body: string, res: http.ServerResponse): void {
    const parts = p.split('/').filter(Boolean);
    // Discovery
    if (method === 'GET' && ((parts[0] === 'api' && parts.length === 2) || (parts[0] === 'apis' && parts.length === 3))) {
      const groupVersion = parts[0] === 'api' ? parts[1] : `${parts[1]}/${parts[2]}`;
      const rs = RESOURCES.filter((r) => gv(r) === groupVersion);
      if (!rs.length) return this.status(res, 404, 'NotFound', `the server could not find the requested resource`);
      return this.send(res, 200, { kind: 'APIResourceList', apiVersion: 'v1', groupVersion,
        resources: rs.map((r) => ({ name: r.plural, singularName: r.kind.toLowerCase(), namespaced: r.namespaced, kind: r.kind, verbs: ['get', 'list', 'create', 'patch', 'delete'] })) });
    }
    const base = parts[0] === 'api' ? 2 : 3;
    const groupVersion = parts[0] === 'api' ? parts[1] : `${parts[1]}/${parts[2]}`;
    let rest = parts.slice(base);
    let ns: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) { ns = rest[1]; rest = rest.slice(2); }
    const r = RESOURCES.find((x) => gv(x) === groupVersion && x.plural === rest[0]);
    if (!r) return this.status(res, 404, 'NotFound', `no resource ${p}`);
    const name = rest[1];
    if (!name && method === 'GET') {
      let items = [...this.store.values()].map((s) => s.obj).filter((o) => o.apiVersion === gv(r) && o.kind === r.kind && (!ns || o.metadata.namespace === ns));
      const fs = q.fieldSelector;
      if (fs?.startsWith('metadata.name=')) items = items.filter((o) => o.metadata.name === fs.slice('metadata.name='.length));
      // labelSelector: equality terms only (k=v,k2=v2).
      for (const term of (q.labelSelector ?? '').split(',').filter(Boolean)) {
        const [k, v] = term.split('=');
        items = items.filter((o) => o.metadata.labels?.[k] === v);
      }
      items.sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
      return this.send(res, 200, { kind: `${r.kind}List`, apiVersion: gv(r), metadata: { resourceVersion: String(this.rv) }, items });
    }
    if (!name && method === 'POST') {
      const o = JSON.parse(body);
      const k = this.key(r, ns, o.metadata.name);
      if (this.store.has(k)) return this.status(res, 409, 'AlreadyExists', `${r.plural} "${o.metadata.name}" already exists`);
      o.metadata = { ...o.metadata, namespace: ns, resourceVersion: String(++this.rv), uid: `uid-${this.rv}` };
      const owners: Record<string, string> = {};
      for (const [lp] of leaves(o)) if (!lp.startsWith('.metadata')) owners[lp] = q.fieldManager ?? 'unknown';
      this.store.set(k, { obj: o, owners });
      return this.send(res, 201, o);
    }
    const k = this.key(r, ns, name);
    const cur = this.store.get(k);
    if (method === 'GET') return cur ? this.send(res, 200, cur.obj) : this.status(res, 404, 'NotFound', `${r.plural} "${name}" not found`);
    if (method === 'PATCH') {
      if (ctype !== 'application/apply-patch+yaml') return this.status(res, 415, 'UnsupportedMediaType', `test server only supports server-side apply, got ${ctype}`);
      const manager = q.fieldManager;
      if (!manager) return this.status(res, 400, 'BadRequest', 'fieldManager is required for apply patch');
      const force = q.force === 'true';
      const patch = parse(body);
      if (patch.kind !== r.kind || patch.metadata?.name !== name) return this.status(res, 400, 'BadRequest', 'kind/name of body and URL differ');
      if (cur && patch.metadata.resourceVersion && patch.metadata.resourceVersion !== cur.obj.metadata.resourceVersion) {
        return this.status(res, 409, 'Conflict', `the object has been modified; please apply your changes to the latest version and try again`);
      }
      const owners = { ...(cur?.owners ?? {}) };
      const conflicts: string[] = [];
      for (const [lp, v] of leaves(patch)) {
        if (lp.startsWith('.metadata')) continue;
        const owner = owners[lp];
        if (cur && owner && owner !== manager && JSON.stringify(get(cur.obj, lp)) !== JSON.stringify(v)) conflicts.push(`${owner}: ${lp}`);
      }
      if (conflicts.length && !force) return this.status(res, 409, 'Conflict', `Apply failed with ${conflicts.length} conflict(s): ${conflicts.join('; ')}`);
      for (const [lp] of leaves(patch)) if (!lp.startsWith('.metadata')) owners[lp] = manager;
      const { resourceVersion: _rv, ...meta } = patch.metadata;
      const next = merge(cur?.obj ?? {}, { ...patch, metadata: meta });
      next.metadata = { ...next.metadata, namespace: ns, resourceVersion: String(++this.rv), uid: cur?.obj.metadata.uid ?? `uid-${this.rv}` };
      this.store.set(k, { obj: next, owners });
      return this.send(res, cur ? 200 : 201, next);
    }
    if (method === 'PUT') {
      // Replace with optimistic concurrency: the body's resourceVersion must be the stored one.
      const o = JSON.parse(body);
      if (!cur) return this.status(res, 404, 'NotFound', `${r.plural} "${name}" not found`);
      if (o.metadata?.resourceVersion !== cur.obj.metadata.resourceVersion) {
        return this.status(res, 409, 'Conflict', 'the object has been modified; please apply your changes to the latest version and try again');
      }
      o.metadata = { ...o.metadata, namespace: ns, resourceVersion: String(++this.rv), uid: cur.obj.metadata.uid };
      this.store.set(k, { obj: o, owners: cur.owners });
      return this.send(res, 200, o);
    }
    if (method === 'DELETE') {
      if (!cur) return this.status(res, 404, 'NotFound', `${r.plural} "${name}" not found`);
      this.store.delete(k);
      return this.send(res, 200, { kind: 'Status', apiVersion: 'v1', status: 'Success' });
    }
    return this.status(res, 405, 'MethodNotAllowed', `${method} ${p}`);
  }
}
