// API failures a real kube-apiserver does not produce on demand, against the in-memory TEST API
// server (test-apiserver.ts): 429 + Retry-After (a real server answers it for a few seconds after
// a CRD is created), an unreachable server, a registry written by someone else between read and
// write. Everything else in live mode runs against a real kube-apiserver: test/kube/.
import * as fs from 'fs';
import * as path from 'path';
import { exampleObjects, run, SHA, tmpdir } from './helpers';
import { TestApiServer } from './test-apiserver';
import { Cluster, loadKubeConfig } from '../../tools/cluster';
import { retryDelayMs, withRetry } from '../../tools/kube/retry';

const ART = ['--url', 'oci://registry.example/tidb-mesh:1', '--sha256', SHA];

describe('API failures (test API server)', () => {
  let server: TestApiServer;
  let kubeconfig: string;

  beforeEach(async () => {
    server = await new TestApiServer().start();
    kubeconfig = path.join(tmpdir(), 'kubeconfig');
    fs.writeFileSync(kubeconfig, server.kubeconfig());
    for (const o of exampleObjects()) server.seed(o);
  });
  afterEach(async () => { await server.stop(); });

  const live = (argv: string[]) => run([...argv, '--kubeconfig', kubeconfig, ...ART], { kubeconfig });

  it('429 with Retry-After is waited out and retried, with one line per retry', async () => {
    server.tooManyRequests(3, '0');
    const r = await live(['tenants', 'list', '-n', 'tidb']);
    expect(r.code).toBe(0);
    expect(r.stderr.match(/the API server answered 429 \([^)]*\); retrying in 0\.1 s/g)?.length).toBe(3);
  });

  it('retry policy: only 429, Retry-After in seconds, capped; gives up after the last attempt', async () => {
    const e429 = (after?: string) => ({ statusCode: 429, response: { headers: after === undefined ? {} : { 'retry-after': after } } });
    expect(retryDelayMs(e429('2'))).toBe(2000);
    expect(retryDelayMs(e429('600'))).toBe(5000);
    expect(retryDelayMs(e429())).toBe(1000);
    expect(retryDelayMs({ statusCode: 409 })).toBeUndefined();
    let calls = 0;
    const lines: string[] = [];
    await expect(withRetry('list x', async () => { calls++; throw e429('1'); }, (l) => lines.push(l), { attempts: 3, defaultDelayMs: 1, maxDelayMs: 1 }, async () => {}))
      .rejects.toMatchObject({ statusCode: 429 });
    expect(calls).toBe(3);
    expect(lines.length).toBe(2);
  });

  it('a registry changed by someone else between read and write is REGISTRY_CONFLICT (exit 4), never an overwrite', async () => {
    server.seed({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'tidb-mesh-tenants', namespace: 'tidb' }, data: {} });
    const cluster = new Cluster(loadKubeConfig(kubeconfig), { log: () => {} });
    const loaded = await cluster.loadRegistry(['tidb']);
    server.touch('v1', 'ConfigMap', 'tidb', 'tidb-mesh-tenants');
    const reg = { ...loaded.registry, tenants: [{ name: 'cluster1', namespace: 'tidb', storageLayer: 'tidb/storage-layer', keyspaceId: 1, keyspaceName: 'cluster1', labels: {}, state: 'active' as const }] };
    await expect(cluster.saveRegistry(loaded, reg)).rejects.toMatchObject({ code: 'REGISTRY_CONFLICT', exitCode: 4 });
    // Created by someone else after we saw none.
    const none = await cluster.loadRegistry(['elsewhere']);
    server.seed({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'tidb-mesh-tenants', namespace: 'elsewhere' }, data: {} });
    await expect(cluster.saveRegistry(none, { ...reg, tenants: reg.tenants.map((t) => ({ ...t, storageLayer: 'elsewhere/s' })) })).rejects.toMatchObject({ code: 'REGISTRY_CONFLICT' });
  });

  it('an unreachable API server is an IO error (exit 5) without a stack trace', async () => {
    await server.stop();
    const r = await live(['tenants', 'list']);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/^error: API_ERROR: /);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    server = await new TestApiServer().start();
  });
});
