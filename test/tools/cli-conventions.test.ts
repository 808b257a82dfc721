// What a user of the CLI checks without a cluster: clean errors for credentials (no stack trace,
// exit 2), -o yaml|json printing instead of writing a file, the RBAC the tool prints, and the
// README's `npx tidb-mesh generate …` working as written in this checkout (no registry lookup).
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { docs, EXAMPLES, ROOT, run, SHA, tmpdir } from './helpers';

const ART = ['--url', 'oci://registry.example/tidb-mesh:1', '--sha256', SHA];
const REG = ['--registry', path.join(EXAMPLES, 'tidb-mesh-tenants.json')];
const F = ['-f', path.join(EXAMPLES, 'tidbclusters.yaml')];

describe('credentials errors are clean (exit 2, a fix, no stack trace)', () => {
  const noStack = (s: string) => expect(s).not.toMatch(/\n\s+at |internal error/);

  it('a --kubeconfig that does not exist', async () => {
    const r = await run(['apply', ...F, ...REG, ...ART, '--kubeconfig', '/nonexistent/kubeconfig']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: KUBECONFIG: kubeconfig \/nonexistent\/kubeconfig \(--kubeconfig\) does not exist\n  fix: /);
    noStack(r.stderr);
  });

  it('a --context the kubeconfig does not have', async () => {
    const kc = path.join(tmpdir(), 'kubeconfig');
    fs.writeFileSync(kc, 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: prod, context: {cluster: c, user: u}}]\ncurrent-context: prod\n');
    const r = await run(['diff', ...F, ...REG, ...ART, '--kubeconfig', kc, '--context', 'staging']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/context "staging" is not in the kubeconfig \(contexts: prod\)/);
    noStack(r.stderr);
  });

  it('no credentials at all (no --kubeconfig, $KUBECONFIG, ~/.kube/config, not in a pod)', async () => {
    const { loadKubeConfig } = await import('../../tools/kube/kubeconfig');
    expect(() => loadKubeConfig(undefined, undefined, { HOME: tmpdir() })).toThrow(/no Kubernetes credentials/);
  });
});

describe('-o yaml|json', () => {
  it('generate -o yaml prints to stdout and writes no file named yaml; -o json prints a List', async () => {
    const y = await run(['generate', ...F, ...REG, ...ART, '-o', 'yaml']);
    expect(y.code).toBe(0);
    expect(Object.keys(y.written)).toEqual([]);
    expect(docs(y.stdout).map((d) => d.kind)).toEqual(['Service', 'WasmPlugin', 'WasmPlugin']);
    const j = await run(['generate', ...F, ...REG, ...ART, '-o', 'json']);
    const list = JSON.parse(j.stdout);
    expect(list.kind).toBe('List');
    expect(list.items.map((o: any) => o.metadata.name)).toEqual(['storage-layer-pd-peer', 'tidb-mesh-cluster1', 'tidb-mesh-cluster2']);
    const f = await run(['generate', ...F, ...REG, ...ART, '-o', 'out.yaml'], { cwd: tmpdir() });
    expect(Object.keys(f.written).map((p) => path.basename(p))).toEqual(['out.yaml']);
  });

  it('--dry-run takes client, server or none', async () => {
    expect((await run(['apply', ...F, ...REG, ...ART, '--dry-run=maybe'])).code).toBe(2);
  });
});

describe('tidb-mesh rbac', () => {
  it('prints the least-privilege ClusterRole (all namespaces) or Roles (-n), with the fix a 403 names', async () => {
    const all = await run(['rbac', '--subject', 'user:ci']);
    expect(all.code).toBe(0);
    const [role, binding] = docs(all.stdout);
    expect(role.kind).toBe('ClusterRole');
    expect(role.rules.flatMap((r: any) => r.resources).sort()).toEqual(['clusters', 'configmaps', 'envoyfilters', 'namespaces', 'pdgroups', 'peerauthentications', 'services', 'tidbclusters', 'tidbgroups', 'tikvgroups', 'tiproxygroups', 'wasmplugins']);
    expect(role.rules.some((r: any) => r.resources.includes('secrets') || r.verbs.includes('*'))).toBe(false);
    expect(binding.subjects).toEqual([{ kind: 'User', name: 'ci', apiGroup: 'rbac.authorization.k8s.io' }]);
    const ns = await run(['rbac', '--subject', 'serviceaccount:tidb/deployer', '-n', 'tidb', ...F]);
    const objs = docs(ns.stdout);
    expect(objs.map((o) => o.kind)).toEqual(['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);
    expect(objs[0].rules).toEqual([{ apiGroups: [''], resources: ['namespaces'], verbs: ['get'], resourceNames: ['tidb'] }]);
    expect(objs[2].rules.find((r: any) => r.resources.includes('services')).resourceNames).toEqual(['storage-layer-pd-peer']);
    expect((await run(['rbac'])).code).toBe(2);
  });
});

describe('the README command', () => {
  it('`npx tidb-mesh generate -f manifests/examples/tidbclusters.yaml` works as written, offline', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const line = /`(npx tidb-mesh generate -f manifests\/examples\/tidbclusters\.yaml)`/.exec(readme);
    expect(line).not.toBeNull();
    const argv = line![1].split(' ');
    const out = execFileSync(argv[0], argv.slice(1), { cwd: ROOT, encoding: 'utf8', env: { ...process.env, npm_config_offline: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
    expect(docs(out).filter((d) => d.kind === 'WasmPlugin').map((d) => d.metadata.name)).toEqual(['tidb-mesh-cluster1', 'tidb-mesh-cluster2']);
  });
});
