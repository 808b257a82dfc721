// Shared helpers of the real-API-server suites: the kube stack started by global-setup.js, the
// CLI run in-process as the least-privilege user (or as admin where a test plays someone else),
// fresh namespaces with the example TidbClusters in them.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { parse, stringify } from 'yaml';
import { main } from '../../tools/cli';
import { Cluster, loadKubeConfig } from '../../tools/cluster';
import { Io } from '../../tools/commands';

export const ROOT = path.resolve(__dirname, '..', '..');
export const SHA = 'a'.repeat(64);
export const ART = ['--url', 'oci://registry.example/tidb-mesh:1', '--sha256', SHA];

interface KubeState { server: string; dir: string; adminKubeconfig: string; userKubeconfig: string; rbac: string }

/** The running kube stack (fails loudly if global-setup did not start one). */
export function kube(): KubeState {
  const f = process.env.KUBESTACK_STATE;
  if (!f || !fs.existsSync(f)) throw new Error('no kube stack: run these suites with `npm run test:kube` (jest -c jest.kube.config.js)');
  return JSON.parse(fs.readFileSync(f, 'utf8'));
}

/** kubectl (built by kubestack/build.sh) as admin, or with `kubeconfig`. */
export function kubectl(args: string[], opts: { input?: string; kubeconfig?: string } = {}): string {
  const { bin } = require('../../kubestack/kube.js');
  return execFileSync(bin('kubectl'), ['--kubeconfig', opts.kubeconfig ?? kube().adminKubeconfig, ...args], { encoding: 'utf8', input: opts.input, stdio: ['pipe', 'pipe', 'pipe'] });
}

export interface RunResult { code: number; stdout: string; stderr: string; written: Record<string, string> }

/**
 * Runs the CLI in-process with `--kubeconfig` of the least-privilege user (or `as: 'admin'`).
 * `hooks` reach the Io test seams (beforeRegistrySave).
 */
export async function run(argv: string[], opts: { as?: 'user' | 'admin' | { kubeconfig: string }; cwd?: string; hooks?: Partial<Io> } = {}): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const written: Record<string, string> = {};
  const kc = typeof opts.as === 'object' ? opts.as.kubeconfig : opts.as === 'admin' ? kube().adminKubeconfig : kube().userKubeconfig;
  const io: Io = {
    stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; }, stdin: async () => '',
    writeFile: (f, t) => { written[f] = t; }, cwd: opts.cwd ?? ROOT,
    connect: (k, c, o) => new Cluster(loadKubeConfig(k ?? kc, c), o),
    ...opts.hooks,
  };
  const code = await main([...argv, '--kubeconfig', kc], io);
  return { code, stdout, stderr, written };
}

let counter = 0;
/** Creates a fresh namespace (as admin) and returns its name. */
export function namespace(prefix: string): string {
  const ns = `${prefix}-${process.pid % 10000}-${++counter}`;
  kubectl(['create', 'namespace', ns]);
  return ns;
}

/** The example TidbClusters (manifests/examples/tidbclusters.yaml) moved into `ns`. */
export function examples(ns: string): any[] {
  const text = fs.readFileSync(path.join(ROOT, 'manifests', 'examples', 'tidbclusters.yaml'), 'utf8');
  return text.split(/^---$/m).map((d) => parse(d)).filter(Boolean).map((o: any) => ({ ...o, metadata: { ...o.metadata, namespace: ns } }));
}

/** Creates `objs` as admin (kubectl apply --server-side, field manager "seed"). */
export function seed(objs: unknown[]): void {
  kubectl(['apply', '--server-side', '--field-manager', 'seed', '-f', '-'], { input: objs.map((o) => stringify(o)).join('---\n') });
}

/** A tenant TidbCluster of storage layer `storage-layer` in `ns`. */
export function tenant(ns: string, name: string): any {
  return { apiVersion: 'pingcap.com/v1alpha1', kind: 'TidbCluster', metadata: { name, namespace: ns },
    spec: { version: 'v8.5.0', cluster: { name: 'storage-layer' }, tidb: { replicas: 1, serviceAccount: `${name}-tidb` } } };
}

/** Parses multi-document YAML output. */
export function docs(text: string): any[] {
  return text.split(/^---$/m).map((d) => parse(d)).filter((d) => d && typeof d === 'object');
}

/** kubectl get -o json of one object as admin, or undefined if absent. */
export function getObject(kind: string, ns: string, name: string): any {
  try { return JSON.parse(kubectl(['get', kind, '-n', ns, name, '-o', 'json', '--show-managed-fields'])); } catch { return undefined; }
}

/** The registry document in ConfigMap tidb-mesh-tenants of `ns`. */
export function registryOf(ns: string): any {
  const cm = getObject('configmap', ns, 'tidb-mesh-tenants');
  return cm ? JSON.parse(cm.data['tenants.json']) : undefined;
}

/** [name, keyspaceId] of every tenant in the registry of `ns`. */
export function ids(ns: string): Array<[string, number]> {
  return (registryOf(ns)?.tenants ?? []).map((t: any) => [t.name, t.keyspaceId]);
}

/** A kubeconfig file for ServiceAccount `ns/sa` (token from the TokenRequest API, as admin). */
export function serviceAccountKubeconfig(ns: string, sa: string): string {
  kubectl(['create', 'serviceaccount', '-n', ns, sa]);
  const token = kubectl(['create', 'token', '-n', ns, sa]).trim();
  const admin = parse(fs.readFileSync(kube().adminKubeconfig, 'utf8'));
  const kc = { ...admin, users: [{ name: sa, user: { token } }], contexts: [{ name: sa, context: { cluster: 'kubestack', user: sa } }], 'current-context': sa };
  const f = path.join(kube().dir, `${ns}-${sa}.kubeconfig`);
  fs.writeFileSync(f, stringify(kc));
  return f;
}
