// The manifest tool's live mode against a REAL kube-apiserver (kubestack/, RBAC on, Istio's real
// CRDs, our tidb-operator CRDs), run as the token user `tidb-mesh` that holds only the role
// `tidb-mesh rbac` prints. Each test works in its own namespace(s).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { stringify } from 'yaml';
import { ART, docs, examples, getObject, ids, kubectl, namespace, registryOf, run, seed, tenant } from './helpers';
import { operatorSync } from './operator';

/** A namespace with the example storage layer and its two tenants (and the operator's pd-peer Service). */
async function cluster(prefix: string): Promise<string> {
  const ns = namespace(prefix);
  seed(examples(ns));
  await operatorSync('storage-layer', ns);
  return ns;
}

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'tidb-mesh-kube-'));
const lines = (s: string) => s.trim().split('\n').sort();

describe('apply, diff, generate against a real API server', () => {
  it('apply says created, then unchanged; diff finds nothing; the registry ConfigMap holds the ids', async () => {
    const ns = await cluster('apply');
    const a = await run(['apply', '--from-cluster', '-n', ns, ...ART]);
    expect(a.stderr).toContain('assigned keyspace id 1 to tenant');
    expect(a.code).toBe(0);
    expect(lines(a.stdout)).toEqual([
      'service/storage-layer-pd-peer configured',
      'wasmplugin.extensions.istio.io/tidb-mesh-cluster1 created',
      'wasmplugin.extensions.istio.io/tidb-mesh-cluster2 created',
    ]);
    expect(ids(ns)).toEqual([['cluster1', 1], ['cluster2', 2]]);
    const again = await run(['apply', '--from-cluster', '-n', ns, ...ART]);
    expect(again.code).toBe(0);
    expect(lines(again.stdout)).toEqual([
      'service/storage-layer-pd-peer unchanged',
      'wasmplugin.extensions.istio.io/tidb-mesh-cluster1 unchanged',
      'wasmplugin.extensions.istio.io/tidb-mesh-cluster2 unchanged',
    ]);
    expect(again.stderr).toMatch(/^3 unchanged$/m);
    const d = await run(['diff', '--from-cluster', '-n', ns, ...ART]);
    expect(d.stderr).toMatch(/0 of 3 object\(s\) differ/);
    expect(d.code).toBe(0);
    // A changed flag: configured.
    const changed = await run(['apply', '--from-cluster', '-n', ns, '--url', 'oci://registry.example/tidb-mesh:2', '--sha256', 'b'.repeat(64)]);
    expect(lines(changed.stdout)).toEqual([
      'service/storage-layer-pd-peer unchanged',
      'wasmplugin.extensions.istio.io/tidb-mesh-cluster1 configured',
      'wasmplugin.extensions.istio.io/tidb-mesh-cluster2 configured',
    ]);
    expect(getObject('wasmplugin', ns, 'tidb-mesh-cluster1').spec.url).toBe('oci://registry.example/tidb-mesh:2');
  });

  it('the registry ConfigMap can be written again and again: new tenants, then tenants retire', async () => {
    const ns = await cluster('registry');
    expect((await run(['apply', '--from-cluster', '-n', ns, ...ART])).code).toBe(0);
    seed([tenant(ns, 'cluster3')]);
    const second = await run(['apply', '--from-cluster', '-n', ns, ...ART]);
    expect(second.stderr).not.toMatch(/REGISTRY_CONFLICT|error/);
    expect(second.stderr).toContain(`assigned keyspace id 3 to tenant ${ns}/cluster3`);
    expect(second.code).toBe(0);
    seed([tenant(ns, 'cluster4')]);
    expect((await run(['apply', '--from-cluster', '-n', ns, ...ART])).code).toBe(0);
    expect(ids(ns)).toEqual([['cluster1', 1], ['cluster2', 2], ['cluster3', 3], ['cluster4', 4]]);
    kubectl(['delete', 'tidbcluster', '-n', ns, 'cluster3']);
    const retire = await run(['tenants', 'retire', `${ns}/cluster3`, '-n', ns]);
    expect(retire.stderr).toContain('retired');
    expect(retire.code).toBe(0);
    expect(registryOf(ns).tenants.find((t: any) => t.name === 'cluster3').state).toBe('retired');
    expect((await run(['apply', '--from-cluster', '-n', ns, ...ART])).code).toBe(0);
    const cm = getObject('configmap', ns, 'tidb-mesh-tenants');
    expect(cm.metadata.managedFields.map((m: any) => `${m.manager}/${m.operation}`)).toEqual(['tidb-mesh/Update']);
  });

  it('two tools racing on the registry: exactly one saves, the other reads again and uses the new ids', async () => {
    const ns = await cluster('race');
    let arrived = 0;
    let release!: () => void;
    const both = new Promise<void>((r) => { release = r; });
    const barrier = { beforeRegistrySave: async () => { if (++arrived <= 2) { if (arrived === 2) release(); await both; } } };
    const [a, b] = await Promise.all([
      run(['apply', '--from-cluster', '-n', ns, ...ART], { hooks: barrier }),
      run(['apply', '--from-cluster', '-n', ns, ...ART], { hooks: barrier }),
    ]);
    expect([a.code, b.code]).toEqual([0, 0]);
    const winners = [a, b].filter((r) => /assigned keyspace id 1 /.test(r.stderr));
    const losers = [a, b].filter((r) => /another writer saved first; reading the registry again/.test(r.stderr));
    expect(winners.length).toBe(1);
    expect(losers.length).toBe(1);
    expect(losers[0].stderr).not.toMatch(/assigned keyspace id/);
    expect(ids(ns)).toEqual([['cluster1', 1], ['cluster2', 2]]);
    const wp = getObject('wasmplugin', ns, 'tidb-mesh-cluster2');
    expect(wp.spec.pluginConfig.tenants[0].keyspaceId).toBe(2);
  });

  it('generate --from-cluster only reads: new tenants are an error, recorded ones print without a write', async () => {
    const ns = await cluster('generate');
    const g = await run(['generate', '--from-cluster', '-n', ns, ...ART]);
    expect(g.code).toBe(4);
    expect(g.stderr).toMatch(/TENANT_UNRECORDED: generate --from-cluster only reads the registry/);
    expect(g.stderr).not.toMatch(/assigned keyspace id/);
    expect(g.stdout).toBe('');
    expect(getObject('configmap', ns, 'tidb-mesh-tenants')).toBeUndefined();
    expect((await run(['apply', '--from-cluster', '-n', ns, ...ART])).code).toBe(0);
    const rv = getObject('configmap', ns, 'tidb-mesh-tenants').metadata.resourceVersion;
    const again = await run(['generate', '--from-cluster', '-n', ns, ...ART]);
    expect(again.code).toBe(0);
    expect(docs(again.stdout).filter((d) => d.kind === 'WasmPlugin').map((d) => [d.metadata.name, d.spec.pluginConfig.tenants[0].keyspaceId]))
      .toEqual([['tidb-mesh-cluster1', 1], ['tidb-mesh-cluster2', 2]]);
    expect(getObject('configmap', ns, 'tidb-mesh-tenants').metadata.resourceVersion).toBe(rv);
  });

  it('apply -f with a registry file that disagrees with the live ids stops before anything is written', async () => {
    const ns = await cluster('renumber');
    const dir = tmp();
    const write = (name: string, objs: unknown[]) => { const p = path.join(dir, name); fs.writeFileSync(p, objs.map((o) => stringify(o)).join('---\n')); return p; };
    const [layer, c1, c2] = examples(ns);
    // cluster2 came first (id 1), cluster1 later (id 2), with the registry file reg.json.
    const reg = path.join(dir, 'reg.json');
    expect((await run(['apply', '-f', write('a.yaml', [layer, c2]), '--registry', reg, ...ART])).code).toBe(0);
    expect((await run(['apply', '-f', write('b.yaml', [layer, c1, c2]), '--registry', reg, ...ART])).code).toBe(0);
    const live = () => ['tidb-mesh-cluster1', 'tidb-mesh-cluster2'].map((n) => getObject('wasmplugin', ns, n).spec.pluginConfig.tenants[0].keyspaceId);
    expect(live()).toEqual([2, 1]);
    // A fresh registry file next to the inputs would number them 1, 2: swapped.
    const fresh = path.join(dir, 'fresh', 'tidb-mesh-tenants.json');
    fs.mkdirSync(path.dirname(fresh));
    const f = write('fresh/tidbclusters.yaml', [layer, c1, c2]);
    const r = await run(['apply', '-f', f, ...ART]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('REGISTRY_DISAGREES_WITH_CLUSTER');
    expect(r.stderr).toContain(`tenant ${ns}/cluster1 is live with keyspace id 2 (WasmPlugin ${ns}/tidb-mesh-cluster1) but the registry has no record of it`);
    expect(r.stderr).toMatch(/fix: The cluster is the source of truth/);
    expect(r.stdout).toBe('');
    expect(fs.existsSync(fresh)).toBe(false);
    expect(live()).toEqual([2, 1]);
    // diff stops the same way; the right file works.
    expect((await run(['diff', '-f', f, ...ART])).code).toBe(4);
    expect((await run(['apply', '-f', f, '--registry', reg, ...ART])).code).toBe(0);
    // Cluster mode: the live plugins against a registry ConfigMap someone deleted.
    const ns2 = await cluster('renumber-cm');
    expect((await run(['apply', '--from-cluster', '-n', ns2, ...ART])).code).toBe(0);
    kubectl(['delete', 'configmap', '-n', ns2, 'tidb-mesh-tenants']);
    const lost = await run(['apply', '--from-cluster', '-n', ns2, ...ART]);
    expect(lost.code).toBe(4);
    expect(lost.stderr).toMatch(/REGISTRY_DISAGREES_WITH_CLUSTER: the registry ConfigMap tidb-mesh-tenants disagrees/);
    expect(getObject('configmap', ns2, 'tidb-mesh-tenants')).toBeUndefined();
  });

  it('--dry-run=server and --dry-run=client store nothing and say what would happen', async () => {
    const ns = await cluster('dryrun');
    const s = await run(['apply', '--from-cluster', '-n', ns, '--dry-run=server', ...ART]);
    expect(s.code).toBe(0);
    expect(lines(s.stdout)).toEqual([
      'service/storage-layer-pd-peer configured (server dry run)',
      'wasmplugin.extensions.istio.io/tidb-mesh-cluster1 created (server dry run)',
      'wasmplugin.extensions.istio.io/tidb-mesh-cluster2 created (server dry run)',
    ]);
    expect(s.stderr).toMatch(/would assign \(provisional\) keyspace id 1/);
    const c = await run(['apply', '--from-cluster', '-n', ns, '--dry-run=client', ...ART]);
    expect(lines(c.stdout)).toEqual([
      'service/storage-layer-pd-peer configured (dry run)',
      'wasmplugin.extensions.istio.io/tidb-mesh-cluster1 created (dry run)',
      'wasmplugin.extensions.istio.io/tidb-mesh-cluster2 created (dry run)',
    ]);
    expect(getObject('wasmplugin', ns, 'tidb-mesh-cluster1')).toBeUndefined();
    expect(getObject('configmap', ns, 'tidb-mesh-tenants')).toBeUndefined();
    expect(getObject('service', ns, 'storage-layer-pd-peer').spec.ports[1].appProtocol).toBeUndefined();
    // After a real apply, a server dry run finds every object unchanged.
    expect((await run(['apply', '--from-cluster', '-n', ns, ...ART])).code).toBe(0);
    const after = await run(['apply', '--from-cluster', '-n', ns, '--dry-run=server', ...ART]);
    expect(lines(after.stdout).every((l) => / unchanged \(server dry run\)$/.test(l))).toBe(true);
  });

  it('--field-manager and -o yaml|json', async () => {
    const ns = await cluster('fm');
    const r = await run(['apply', '--from-cluster', '-n', ns, '--field-manager', 'gitops-pipeline', '-o', 'json', ...ART]);
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout);
    expect(list.kind).toBe('List');
    expect(list.items.map((o: any) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(['Service/storage-layer-pd-peer', 'WasmPlugin/tidb-mesh-cluster1', 'WasmPlugin/tidb-mesh-cluster2']);
    expect(list.items[0].metadata.uid).toBeTruthy();
    const wp = getObject('wasmplugin', ns, 'tidb-mesh-cluster1');
    expect(wp.metadata.managedFields.map((m: any) => `${m.manager}/${m.operation}`)).toEqual(['gitops-pipeline/Apply']);
    const y = await run(['apply', '--from-cluster', '-n', ns, '--field-manager', 'gitops-pipeline', '-o', 'yaml', ...ART]);
    expect(docs(y.stdout).length).toBe(3);
    expect(Object.keys(y.written)).toEqual([]);
  });

  it('a namespace that does not exist is an error, before anything is written', async () => {
    const dir = tmp();
    const f = path.join(dir, 'tc.yaml');
    fs.writeFileSync(f, examples('no-such-namespace').map((o) => stringify(o)).join('---\n'));
    const r = await run(['apply', '-f', f, ...ART]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/NAMESPACE_MISSING: namespace no-such-namespace does not exist/);
    expect(fs.existsSync(path.join(dir, 'tidb-mesh-tenants.json'))).toBe(false);
    const g = await run(['generate', '--from-cluster', '-n', 'no-such-namespace', ...ART]);
    expect(g.code).toBe(3);
    expect(g.stderr).toMatch(/NAMESPACE_MISSING/);
  });

  it('switching direction: diff lists the live plugins of the other direction; apply refuses (exit 3)', async () => {
    const ns = await cluster('direction');
    expect((await run(['apply', '--from-cluster', '-n', ns, ...ART])).code).toBe(0);
    const d = await run(['diff', '--from-cluster', '-n', ns, '--direction', 'inbound', ...ART]);
    expect(d.code).toBe(1);
    expect(d.stdout).toMatch(new RegExp(`^--- remove WasmPlugin ${ns}/tidb-mesh-cluster1 \\(outbound; .*kubectl delete wasmplugin\\.extensions\\.istio\\.io -n ${ns} tidb-mesh-cluster1\\)$`, 'm'));
    expect(d.stdout).toMatch(new RegExp(`\\+\\+\\+ create WasmPlugin ${ns}/tidb-mesh-storage-layer-pd-inbound`));
    const a = await run(['apply', '--from-cluster', '-n', ns, '--direction', 'inbound', ...ART]);
    expect(a.code).toBe(3);
    expect(a.stderr).toMatch(/\[error\] DIRECTION_CONFLICT WasmPlugin/);
    expect(getObject('wasmplugin', ns, 'tidb-mesh-storage-layer-pd-inbound')).toBeUndefined();
    // After deleting the outbound plugins (the documented pause), inbound applies.
    kubectl(['delete', 'wasmplugin', '-n', ns, '--all']);
    const inbound = await run(['apply', '--from-cluster', '-n', ns, '--direction', 'inbound', ...ART]);
    expect(inbound.code).toBe(0);
    expect(lines(inbound.stdout)).toEqual([
      'peerauthentication.security.istio.io/tidb-mesh-storage-layer-strict created',
      'service/storage-layer-pd-peer unchanged',
      'wasmplugin.extensions.istio.io/tidb-mesh-storage-layer-pd-inbound created',
      'wasmplugin.extensions.istio.io/tidb-mesh-storage-layer-tikv-inbound created',
    ]);
  });

  it('tenants reads the registry from the cluster (all namespaces: the cluster-wide role)', async () => {
    const ns = await cluster('tenants');
    expect((await run(['apply', '--from-cluster', '-n', ns, ...ART])).code).toBe(0);
    const r = await run(['tenants', 'list']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`${ns}\\s+cluster2\\s+2`));
    const j = await run(['tenants', 'list', '-n', ns, '-o', 'json']);
    expect(JSON.parse(j.stdout).tenants.map((t: any) => t.keyspaceId)).toEqual([1, 2]);
  });
});
