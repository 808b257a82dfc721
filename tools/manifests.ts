// `npm run manifests`: regenerates manifests/generated/ from manifests/examples/ (no network, no
// cluster). The jest test test/tools/snapshot.test.ts calls exampleManifests() and fails on drift.
import * as fs from 'fs';
import * as path from 'path';
import { main } from './cli';
import { Io } from './commands';
import { findRepoFile } from './plugin-config';

/** The repository root (the directory holding schema/). */
export function repoRoot(): string {
  return path.dirname(path.dirname(findRepoFile('schema/plugin-config.schema.json')));
}

/** Output file name -> extra generate flags. */
export const VARIANTS: Record<string, string[]> = {
  'wasmplugin.yaml': [],
  'envoyfilter.yaml': ['--kind', 'envoyfilter'],
  'inbound-wasmplugin.yaml': ['--direction', 'inbound'],
};

/**
 * Renders every variant from the examples. Returns file name -> YAML text. Throws with the
 * captured stderr if generation fails. The example registry is only read (ids are recorded).
 */
export async function exampleManifests(root: string = repoRoot()): Promise<Record<string, string>> {
  const ex = path.join(root, 'manifests', 'examples');
  const artifact = JSON.parse(fs.readFileSync(path.join(ex, 'artifact.json'), 'utf8'));
  const out: Record<string, string> = {};
  for (const [file, flags] of Object.entries(VARIANTS)) {
    let stdout = '';
    let stderr = '';
    const io: Io = {
      stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; }, stdin: async () => '',
      writeFile: () => { throw new Error('unexpected write'); }, cwd: root,
    };
    const code = await main(['generate', '-f', path.join('manifests', 'examples', 'tidbclusters.yaml'),
      '--registry', path.join('manifests', 'examples', 'tidb-mesh-tenants.json'),
      '--url', artifact.url, '--sha256', artifact.sha256, ...flags], io);
    if (code !== 0) throw new Error(`generate ${file} failed (exit ${code}):\n${stderr}`);
    out[file] = stdout;
  }
  return out;
}

if (require.main === module) {
  exampleManifests().then((files) => {
    const dir = path.join(repoRoot(), 'manifests', 'generated');
    fs.mkdirSync(dir, { recursive: true });
    for (const [f, text] of Object.entries(files)) {
      fs.writeFileSync(path.join(dir, f), text);
      process.stderr.write(`wrote manifests/generated/${f}\n`);
    }
  }, (e) => { process.stderr.write(`${(e as Error).message}\n`); process.exitCode = 1; });
}
