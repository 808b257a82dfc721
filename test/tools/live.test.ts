// Live mode against the TEST Kubernetes API server (test-apiserver.ts, node:http, in memory):
// generate --from-cluster (list + registry ConfigMap), apply (server-side apply PATCHes with
// application/apply-patch+yaml, fieldManager, force), diff (exit 1 then 0), registry conflicts,
// tenants from the cluster.
import * as fs from 'fs';
import * as path from 'path';
import { exampleObjects, docs, run, SHA, tmpdir } from './helpers';
import { TestApiServer } from './test-apiserver';
import { Cluster, loadKubeConfig } from '../../tools/cluster';

const ART = ['--url', 'oci://registry.example/tidb-mesh:1', '--sha256', SHA];

describe('live cluster (test API server)', () => {
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

  it('generate --from-cluster lists TidbClusters and records ids in the registry ConfigMap', async () => {
    const r = await live(['generate', '--from-cluster']);
    expect(r.code).toBe(0);
    const out = docs(r.stdout);
    expect(out.filter((d) => d.kind === 'WasmPlugin').map((d) => d.metadata.name)).toEqual(['tidb-mesh-cluster1', 'tidb-mesh-cluster2']);
    expect(server.requests.some((q) => q.method === 'GET' && q.path === '/apis/pingcap.com/v1alpha1/tidbclusters')).toBe(true);
    const cm = server.object('v1', 'ConfigMap', 'tidb', 'tidb-mesh-tenants');
    expect(JSON.parse(cm.data['tenants.json']).tenants.map((t: any) => [t.name, t.keyspaceId])).toEqual([['cluster1', 1], ['cluster2', 2]]);
    // Second run: same ids, registry updated through server-side apply with its resourceVersion.
    const again = await live(['generate', '--from-cluster', '-n', 'tidb']);
    expect(again.stdout).toBe(r.stdout);
  });

  it('apply sends server-side apply patches; diff is empty afterwards', async () => {
    const before = await live(['diff', '--from-cluster']);
    expect(before.code).toBe(1);
    expect(before.stdout).toMatch(/\+\+\+ create WasmPlugin tidb\/tidb-mesh-cluster1/);
    expect(before.stderr).toMatch(/would assign \(provisional\) keyspace id 1/);
    expect(server.object('v1', 'ConfigMap', 'tidb', 'tidb-mesh-tenants')).toBeUndefined();

    const applied = await live(['apply', '--from-cluster']);
    expect(applied.code).toBe(0);
    const patches = server.requests.filter((q) => q.method === 'PATCH');
    expect(patches.length).toBe(3);
    for (const p of patches) {
      expect(p.contentType).toBe('application/apply-patch+yaml');
      expect(p.query.fieldManager).toBe('tidb-mesh');
      expect(p.query.force).toBe('false');
    }
    expect(patches.map((p) => p.path)).toContain('/apis/extensions.istio.io/v1alpha1/namespaces/tidb/wasmplugins/tidb-mesh-cluster1');
    expect(patches.map((p) => p.path)).toContain('/api/v1/namespaces/tidb/services/storage-layer-pd-peer');
    const wp = server.object('extensions.istio.io/v1alpha1', 'WasmPlugin', 'tidb', 'tidb-mesh-cluster1');
    expect(wp.spec.pluginConfig.tenants[0].keyspaceId).toBe(1);

    const after = await live(['diff', '--from-cluster']);
    expect(after.stderr).toMatch(/0 of 3 object\(s\) differ/);
    expect(after.code).toBe(0);
  });

  it('switching direction: diff lists the live plugins of the other direction as to-be-removed; apply refuses (exit 3)', async () => {
    expect((await live(['apply', '--from-cluster'])).code).toBe(0);
    const patchesBefore = server.requests.filter((q) => q.method === 'PATCH').length;
    const d = await live(['diff', '--from-cluster', '--direction', 'inbound']);
    expect(d.code).toBe(1);
    expect(d.stdout).toMatch(/^--- remove WasmPlugin tidb\/tidb-mesh-cluster1 \(outbound; .*kubectl delete wasmplugin\.extensions\.istio\.io -n tidb tidb-mesh-cluster1\)$/m);
    expect(d.stdout).toMatch(/^--- remove WasmPlugin tidb\/tidb-mesh-cluster2 /m);
    expect(d.stdout).toMatch(/\+\+\+ create WasmPlugin tidb\/tidb-mesh-storage-layer-pd-inbound/);
    expect(d.stderr).toMatch(/\[warning\] DIRECTION_CONFLICT WasmPlugin tidb\/tidb-mesh-cluster1: .*prefixed twice/);
    expect(server.requests.some((q) => q.path === '/apis/extensions.istio.io/v1alpha1/namespaces/tidb/wasmplugins' && q.query.labelSelector === 'app.kubernetes.io/managed-by=tidb-mesh')).toBe(true);
    const a = await live(['apply', '--from-cluster', '--direction', 'inbound']);
    expect(a.code).toBe(3);
    expect(a.stderr).toMatch(/\[error\] DIRECTION_CONFLICT WasmPlugin tidb\/tidb-mesh-cluster1[\s\S]*fix: Switching direction needs a pause/);
    expect(server.requests.filter((q) => q.method === 'PATCH').length).toBe(patchesBefore);
    expect(server.object('extensions.istio.io/v1alpha1', 'WasmPlugin', 'tidb', 'tidb-mesh-storage-layer-pd-inbound')).toBeUndefined();
    // The same direction again is clean.
    expect((await live(['diff', '--from-cluster'])).code).toBe(0);
  });

  it('a live inbound PeerAuthentication left behind is listed by diff and only warned about by apply', async () => {
    server.seed({ apiVersion: 'security.istio.io/v1beta1', kind: 'PeerAuthentication',
      metadata: { name: 'tidb-mesh-storage-layer-strict', namespace: 'tidb', labels: { 'app.kubernetes.io/managed-by': 'tidb-mesh', 'tidb-mesh.io/storage-layer': 'storage-layer' } },
      spec: { mtls: { mode: 'STRICT' } } });
    // Not managed by tidb-mesh: ignored.
    server.seed({ apiVersion: 'extensions.istio.io/v1alpha1', kind: 'WasmPlugin',
      metadata: { name: 'someone-else', namespace: 'tidb', labels: { 'tidb-mesh.io/storage-layer': 'storage-layer' } }, spec: { match: [{ mode: 'SERVER' }] } });
    const a = await live(['apply', '--from-cluster']);
    expect(a.code).toBe(0);
    expect(a.stderr).toMatch(/\[warning\] DIRECTION_CONFLICT PeerAuthentication tidb\/tidb-mesh-storage-layer-strict/);
    const d = await live(['diff', '--from-cluster']);
    expect(d.code).toBe(1);
    expect(d.stdout.trim().split('\n')).toEqual([expect.stringMatching(/^--- remove PeerAuthentication tidb\/tidb-mesh-storage-layer-strict \(inbound;/)]);
    expect(d.stderr).not.toMatch(/someone-else/);
  });

  it('diff shows drift of the pd-peer override and apply restores it (conflict needs --force-conflicts)', async () => {
    // The operator's own Service: it owns the port list; appProtocol missing (e.g. after an upgrade).
    const svc = {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'storage-layer-pd-peer', namespace: 'tidb' },
      spec: { clusterIP: 'None', publishNotReadyAddresses: true,
        selector: { 'app.kubernetes.io/component': 'pd', 'app.kubernetes.io/instance': 'storage-layer', 'app.kubernetes.io/managed-by': 'tidb-operator', 'app.kubernetes.io/name': 'tidb-cluster' },
        ports: [{ name: 'tcp-peer-2380', port: 2380, protocol: 'TCP', targetPort: 2380 }, { name: 'tcp-peer-2379', port: 2379, protocol: 'TCP', targetPort: 2379 }] },
    };
    server.seed(svc, { '.spec.publishNotReadyAddresses': 'tidb-controller-manager' });
    const d = await live(['diff', '--from-cluster']);
    expect(d.stdout).toMatch(/~~~ change Service tidb\/storage-layer-pd-peer[\s\S]*\+\s+- appProtocol: grpc/);
    // Same values as the operator: no conflict; the new field is ours.
    expect((await live(['apply', '--from-cluster'])).code).toBe(0);
    expect(server.object('v1', 'Service', 'tidb', 'storage-layer-pd-peer').spec.ports[1].appProtocol).toBe('grpc');
    // A field the operator owns with another value: conflict without --force-conflicts.
    server.seed({ ...svc, spec: { ...svc.spec, publishNotReadyAddresses: false } }, { '.spec.publishNotReadyAddresses': 'tidb-controller-manager' });
    const conflict = await live(['apply', '--from-cluster']);
    expect(conflict.code).toBe(5);
    expect(conflict.stderr).toMatch(/APPLY_CONFLICT/);
    const forced = await live(['apply', '--from-cluster', '--force-conflicts']);
    expect(forced.code).toBe(0);
    expect(server.requests.filter((q) => q.method === 'PATCH').pop()!.query.force).toBe('true');
  });

  it('a concurrent registry change is a conflict (exit code 4), not a silent overwrite', async () => {
    expect((await live(['generate', '--from-cluster'])).code).toBe(0);
    const cluster = new Cluster(loadKubeConfig(kubeconfig));
    // Existing ConfigMap changed by someone else between our read and our write.
    const loaded = await cluster.loadRegistry(['tidb']);
    server.touch('v1', 'ConfigMap', 'tidb', 'tidb-mesh-tenants');
    await expect(cluster.saveRegistry(loaded, loaded.registry)).rejects.toMatchObject({ code: 'REGISTRY_CONFLICT', exitCode: 4 });
    // ConfigMap created by someone else after we saw none.
    const none = await cluster.loadRegistry(['elsewhere']);
    const reg = { ...loaded.registry, tenants: loaded.registry.tenants.map((t) => ({ ...t, storageLayer: 'elsewhere/s' })) };
    server.seed({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'tidb-mesh-tenants', namespace: 'elsewhere' }, data: {} });
    await expect(cluster.saveRegistry(none, reg)).rejects.toMatchObject({ code: 'REGISTRY_CONFLICT' });
  });

  it('tenants reads the registry from the cluster', async () => {
    expect((await live(['generate', '--from-cluster'])).code).toBe(0);
    const r = await run(['tenants', 'list', '--kubeconfig', kubeconfig], { kubeconfig });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/tidb\s+cluster2\s+2/);
    expect(server.requests.some((q) => q.path === '/api/v1/configmaps' && q.query.fieldSelector === 'metadata.name=tidb-mesh-tenants')).toBe(true);
  });

  it('an unreachable API server is an IO error (exit 5)', async () => {
    await server.stop();
    const r = await live(['generate', '--from-cluster']);
    expect(r.code).toBe(5);
    server = await new TestApiServer().start();
  });
});
