// The least-privilege RBAC that `tidb-mesh rbac` prints, on a real API server with RBAC on. Every
// other suite here already runs the tool as a user holding only the cluster-wide variant; this
// one checks the namespaced variant, the refusal without it, and that each write verb is needed.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse, stringify } from 'yaml';
import { ART, docs, examples, kube, kubectl, namespace, run, serviceAccountKubeconfig } from './helpers';
import { operatorSync } from './operator';

function inputs(ns: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tidb-mesh-rbac-'));
  const f = path.join(dir, 'tidbclusters.yaml');
  fs.writeFileSync(f, examples(ns).map((o) => stringify(o)).join('---\n'));
  return f;
}

describe('RBAC: the role tidb-mesh rbac prints is enough, and needed', () => {
  it('the cluster-wide role bound in global setup is exactly the printed one', () => {
    const objs = docs(kube().rbac);
    expect(objs.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['ClusterRole/tidb-mesh', 'ClusterRoleBinding/tidb-mesh']);
    const live = JSON.parse(kubectl(['get', 'clusterrole', 'tidb-mesh', '-o', 'json']));
    expect(live.rules).toEqual(objs[0].rules);
    expect(kubectl(['auth', 'can-i', 'create', 'wasmplugins.extensions.istio.io', '--as', 'tidb-mesh', '-n', 'default'], {}).trim()).toBe('yes');
    expect(() => kubectl(['auth', 'can-i', 'get', 'secrets', '--as', 'tidb-mesh', '-n', 'default'])).toThrow();
  });

  it('namespaced role (-n NS -f inputs): apply works in NS; reads across namespaces are refused; no role: 403 with the fix', async () => {
    const ns = namespace('rbac');
    kubectl(['apply', '--server-side', '-f', '-'], { input: examples(ns).map((o) => stringify(o)).join('---\n') });
    await operatorSync('storage-layer', ns);
    const f = inputs(ns);
    const none = serviceAccountKubeconfig(ns, 'nobody');
    const denied = await run(['apply', '-f', f, ...ART], { as: { kubeconfig: none } });
    expect(denied.code).toBe(5);
    expect(denied.stderr).toMatch(/HTTP 403/);
    expect(denied.stderr).toMatch(/fix: The credentials lack a permission: `tidb-mesh rbac` prints the Role the tool needs/);

    const role = await run(['rbac', '--subject', `serviceaccount:${ns}/deployer`, '-n', ns, '-f', f]);
    expect(role.code).toBe(0);
    const objs = docs(role.stdout);
    expect(objs.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`)).toEqual([
      'ClusterRole//tidb-mesh', 'ClusterRoleBinding//tidb-mesh', `Role/${ns}/tidb-mesh`, `RoleBinding/${ns}/tidb-mesh`]);
    expect(objs[2].rules.find((r: any) => r.resources.includes('services')).resourceNames).toEqual(['storage-layer-pd-peer']);
    // A ClusterRole name per grant: rename so this test's grant does not replace the global one.
    const renamed = objs.map((o) => ({ ...o, metadata: { ...o.metadata, name: `tidb-mesh-${ns}` }, ...(o.roleRef ? { roleRef: { ...o.roleRef, name: `tidb-mesh-${ns}` } } : {}) }));
    kubectl(['apply', '-f', '-'], { input: renamed.map((o) => stringify(o)).join('---\n') });
    const deployer = serviceAccountKubeconfig(ns, 'deployer');
    const a = await run(['apply', '-f', f, ...ART], { as: { kubeconfig: deployer } });
    expect(a.stderr).not.toMatch(/403/);
    expect(a.code).toBe(0);
    expect(a.stdout).toMatch(/wasmplugin.extensions.istio.io\/tidb-mesh-cluster1 created/);
    expect((await run(['diff', '-f', f, ...ART], { as: { kubeconfig: deployer } })).code).toBe(0);
    expect((await run(['apply', '--from-cluster', '-n', ns, '--registry', path.join(path.dirname(f), 'tidb-mesh-tenants.json'), ...ART], { as: { kubeconfig: deployer } })).code).toBe(0);
    const wide = await run(['generate', '--from-cluster', ...ART], { as: { kubeconfig: deployer } });
    expect(wide.code).toBe(5);
    expect(wide.stderr).toMatch(/HTTP 403/);
  });

  it('a first apply needs create besides patch: without create the tool is refused', async () => {
    const ns = namespace('rbac-nocreate');
    kubectl(['apply', '--server-side', '-f', '-'], { input: examples(ns).map((o) => stringify(o)).join('---\n') });
    const f = inputs(ns);
    const role = docs((await run(['rbac', '--subject', `serviceaccount:${ns}/patcher`, '-n', ns])).stdout);
    const cut = role.map((o) => (o.kind === 'Role' ? { ...o, rules: o.rules.map((r: any) => ({ ...r, verbs: r.verbs.filter((v: string) => !(v === 'create' && r.resources.includes('wasmplugins'))) })) } : o))
      .map((o) => ({ ...o, metadata: { ...o.metadata, name: `tidb-mesh-${ns}` }, ...(o.roleRef ? { roleRef: { ...o.roleRef, name: `tidb-mesh-${ns}` } } : {}) }));
    kubectl(['apply', '-f', '-'], { input: cut.map((o) => stringify(o)).join('---\n') });
    const kc = serviceAccountKubeconfig(ns, 'patcher');
    const r = await run(['apply', '-f', f, ...ART], { as: { kubeconfig: kc } });
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/apply WasmPlugin .*tidb-mesh-cluster1: HTTP 403/);
    void parse;
  });
});
