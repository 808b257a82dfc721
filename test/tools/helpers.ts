// Shared test helpers: a capturing Io, temp dirs, sample objects.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse } from 'yaml';
import { main } from '../../tools/cli';
import { Io } from '../../tools/commands';
import { Cluster, loadKubeConfig } from '../../tools/cluster';
import { KubeObject } from '../../tools/types';

export const ROOT = path.resolve(__dirname, '..', '..');
export const EXAMPLES = path.join(ROOT, 'manifests', 'examples');
export const SHA = 'a'.repeat(64);

/** Runs the CLI in-process; returns exit code and captured streams. */
export async function run(argv: string[], opts: { cwd?: string; stdin?: string; kubeconfig?: string; fetch?: Io['fetch'] } = {}) {
  let stdout = '';
  let stderr = '';
  const written: Record<string, string> = {};
  const io: Io = {
    stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; }, stdin: async () => opts.stdin ?? '',
    writeFile: (f, t) => { written[f] = t; }, cwd: opts.cwd ?? ROOT, fetch: opts.fetch,
    connect: opts.kubeconfig ? (_k, _c, o) => new Cluster(loadKubeConfig(opts.kubeconfig), o) : undefined,
  };
  const code = await main(argv, io);
  return { code, stdout, stderr, written };
}

/** A fresh temp dir. */
export function tmpdir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'tidb-mesh-test-'));
}

/** Parses multi-document YAML output. */
export function docs(text: string): any[] {
  return text.split(/^---$/m).map((d) => parse(d)).filter((d) => d && typeof d === 'object');
}

/** The example TidbClusters as objects (deep copies). */
export function exampleObjects(): KubeObject[] {
  return fs.readFileSync(path.join(EXAMPLES, 'tidbclusters.yaml'), 'utf8').split(/^---$/m).map((d) => parse(d)).filter(Boolean);
}

/** Writes objects as YAML into dir/name and returns the path. */
export function writeYaml(dir: string, name: string, objs: unknown[]): string {
  const { stringify } = require('yaml');
  const p = path.join(dir, name);
  fs.writeFileSync(p, objs.map((o) => stringify(o)).join('---\n'));
  return p;
}
