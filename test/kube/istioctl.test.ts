// Istio's own tooling over every variant the tool generates: `istioctl validate -f` (the CRD
// schemas and Istio's validation webhook logic, offline) and `istioctl analyze --use-kube=false`
// (Istio's analyzers over the files alone). istioctl is built from the istio.io/istio module
// pinned in kubestack/go/istio/go.mod (kubestack/build.sh istioctl). Any error or warning fails.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { main } from '../../tools/cli';
import { Io } from '../../tools/commands';
import { VARIANTS } from '../../tools/manifests';
import { ROOT } from './helpers';

const { bin } = require('../../kubestack/kube.js');

/** Every generated variant: the committed ones plus the flags they do not cover. */
const ALL: Record<string, string[]> = {
  ...VARIANTS,
  'inbound-envoyfilter.yaml': ['--direction', 'inbound', '--kind', 'envoyfilter'],
  'pull-secret.yaml': ['--image-pull-policy', 'Always', '--image-pull-secret', 'tidb-mesh-pull'],
  'phase-authz.yaml': ['--phase', 'AUTHZ'],
  'inbound-passthrough.yaml': ['--direction', 'inbound', '--passthrough', 'tidb/br', '--trust-domain', 'example.org'],
  // file:// and https:// take the digest of the local build (dist/tidb-mesh.wasm).
  'file-url.yaml': ['--url', 'file:///var/local/wasm/tidb-mesh.wasm'],
  'https-envoyfilter.yaml': ['--kind', 'envoyfilter', '--url', 'https://example.org/tidb-mesh.wasm'],
};

async function generate(flags: string[]): Promise<string> {
  const artifact = JSON.parse(fs.readFileSync(path.join(ROOT, 'manifests', 'examples', 'artifact.json'), 'utf8'));
  let stdout = '';
  let stderr = '';
  const io: Io = { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; }, stdin: async () => '', writeFile: () => {}, cwd: ROOT };
  const art = flags.includes('--url') ? [] : ['--url', artifact.url, '--sha256', artifact.sha256];
  const code = await main(['generate', '-f', 'manifests/examples/tidbclusters.yaml', '--registry', 'manifests/examples/tidb-mesh-tenants.json', ...art, ...flags], io);
  if (code !== 0) throw new Error(`generate ${flags.join(' ')} failed (${code}): ${stderr}`);
  return stdout;
}

function istioctl(args: string[]): { code: number; out: string } {
  const r = spawnSync(bin('istioctl'), args, { encoding: 'utf8' });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

/** The one warning istioctl gives for every EnvoyFilter, whatever it holds. */
const ENVOYFILTER_NOTICE = /^\t\* EnvoyFilter\/[^:]+: EnvoyFilter exposes internal implementation details that may change at any time\. Prefer other APIs if possible, and exercise extreme caution, especially around upgrades\.$/;

describe('istioctl validate and analyze over every generated variant', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tidb-mesh-istioctl-'));
  const files: string[] = [];

  beforeAll(async () => {
    for (const [name, flags] of Object.entries(ALL)) {
      const f = path.join(dir, name);
      fs.writeFileSync(f, await generate(flags));
      files.push(f);
    }
  });

  it('istioctl validate accepts each file (EnvoyFilter variants: only istioctl\'s generic EnvoyFilter notice)', () => {
    for (const f of files) {
      const r = istioctl(['validate', '-f', f]);
      const lines = r.out.trim().split('\n').filter(Boolean);
      const fine = lines.every((l) => l === `"${f}" is valid` || l === `"${f}" has warnings: ` || ENVOYFILTER_NOTICE.test(l));
      expect({ file: path.basename(f), code: r.code, fine, out: r.out }).toEqual({ file: path.basename(f), code: 0, fine: true, out: r.out });
    }
  });

  it('istioctl analyze --use-kube=false finds no issue in any file', () => {
    for (const f of files) {
      const r = istioctl(['analyze', '--use-kube=false', '--failure-threshold', 'Info', f]);
      expect({ file: path.basename(f), code: r.code, out: r.out.trim() }).toEqual({ file: path.basename(f), code: 0, out: expect.stringMatching(/No validation issues found/) });
    }
  });
});
