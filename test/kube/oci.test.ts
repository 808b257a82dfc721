// The filter's OCI image end to end, with real parts only: the CNCF distribution registry on
// 127.0.0.1 (htpasswd auth), `tidb-mesh publish` pushing dist/oci with oras and docker-config
// credentials, the generated WasmPlugin's url and sha256 handed to Istio's own fetcher code
// (kubestack/go/istio/wasmfetch: pkg/wasm MaybeConvertWasmExtensionConfig, as istio-agent runs
// it), the fetched module compared byte for byte and loaded by a real Envoy
// (test/harness/envoy.js), and wrong digests refused by that fetcher.
import { execFileSync, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http2 from 'http2';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { createHash } from 'crypto';
import { docs, ROOT } from './helpers';
import { main } from '../../tools/cli';
import { Io } from '../../tools/commands';

const { bin } = require('../../kubestack/kube.js');
const { startEnvoy, tidbNode } = require('../harness/envoy.js');

const USER = 'publisher';
const PASS = 'tidb-mesh-test-password';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function freePort(): Promise<number> {
  return new Promise((resolve) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); }); });
}

async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: Io = { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; }, stdin: async () => '', writeFile: () => {}, cwd: ROOT };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

/** Istio's fetcher (wasm-fetch): exit code and output. `env` replaces the environment (no DOCKER_CONFIG leaks in). */
function fetchModule(args: string[], env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: os.tmpdir() }): { code: number; out: string } {
  const cache = args[args.indexOf('-cache') + 1];
  fs.mkdirSync(cache, { recursive: true }); // the agent's module cache directory exists before it fetches
  const r = spawnSync(bin('wasm-fetch'), args, { encoding: 'utf8', env });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

describe('OCI image: publish to a real registry, fetch with Istio\'s fetcher, load in Envoy', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tidb-mesh-oci-'));
  let registry: ReturnType<typeof spawn>;
  let host = '';
  const dockerConfig = path.join(dir, 'docker');
  const wasm = fs.readFileSync(path.join(ROOT, 'dist', 'tidb-mesh.wasm'));

  beforeAll(async () => {
    const port = await freePort();
    host = `127.0.0.1:${port}`;
    fs.writeFileSync(path.join(dir, 'htpasswd'), execFileSync(bin('htpasswd'), [USER, PASS], { encoding: 'utf8' }));
    // The realm must be an http(s) URL that is not loopback: Istio's fetcher rejects any other
    // realm in a 401 challenge (pkg/wasm/imagefetcher.go, validateRealmURL); Basic auth ignores it.
    fs.writeFileSync(path.join(dir, 'config.yml'), `version: 0.1
log: {level: warn}
storage: {filesystem: {rootdirectory: ${dir}/data}, delete: {enabled: true}}
http: {addr: ${host}}
auth: {htpasswd: {realm: "https://registry.tidb-mesh.test/", path: ${dir}/htpasswd}}
`);
    registry = spawn(bin('registry'), ['serve', path.join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', fs.openSync(path.join(dir, 'registry.log'), 'a')] });
    for (let i = 0; ; i++) {
      const ok = await new Promise<boolean>((r) => { const s = net.connect(port, '127.0.0.1', () => { s.end(); r(true); }); s.on('error', () => r(false)); });
      if (ok) break;
      if (i > 100) throw new Error(`registry did not start: ${fs.readFileSync(path.join(dir, 'registry.log'), 'utf8')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    fs.mkdirSync(dockerConfig);
    fs.writeFileSync(path.join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${USER}:${PASS}`).toString('base64') } } }));
  });

  afterAll(() => {
    if (registry?.pid) process.kill(registry.pid, 'SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the image layout is reproducible byte for byte from the same .wasm', () => {
    const files = (d: string) => execFileSync('sh', ['-c', `cd ${d} && find . -type f | sort | xargs sha256sum`], { encoding: 'utf8' });
    const before = files(path.join(ROOT, 'dist', 'oci'));
    execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'package-oci.js')], { cwd: ROOT, stdio: 'pipe' });
    expect(files(path.join(ROOT, 'dist', 'oci'))).toBe(before);
    const index = JSON.parse(fs.readFileSync(path.join(ROOT, 'dist', 'oci', 'index.json'), 'utf8'));
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'dist', 'oci', 'blobs', 'sha256', index.manifests[0].digest.slice(7)), 'utf8'));
    expect(manifest.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(manifest.config.mediaType).toBe('application/vnd.oci.image.config.v1+json');
    expect(manifest.layers.map((l: any) => l.mediaType)).toEqual(['application/vnd.oci.image.layer.v1.tar+gzip']);
  });

  it('publish needs the docker-config credentials; with them the registry serves the same digest', async () => {
    const saved = process.env.DOCKER_CONFIG;
    try {
      process.env.DOCKER_CONFIG = path.join(dir, 'empty');
      fs.mkdirSync(process.env.DOCKER_CONFIG, { recursive: true });
      const denied = await cli(['publish', `oci://${host}/tidb-mesh`, '--plain-http']);
      expect(denied.code).toBe(5);
      expect(denied.stderr).toMatch(/PUSH_FAILED/);
      process.env.DOCKER_CONFIG = dockerConfig;
      const r = await cli(['publish', `oci://${host}/tidb-mesh`, '--plain-http']);
      expect(r.stderr).toMatch(/oras cp --from-oci-layout/);
      expect(r.code).toBe(0);
      const digest = `sha256:${fs.readFileSync(path.join(ROOT, 'dist', 'tidb-mesh.oci.sha256'), 'utf8').split(' ')[0]}`;
      expect(r.stdout.trim()).toBe(`pushed oci://${host}/tidb-mesh:0.1.0 ${digest}`);
      // What the registry serves under the tag, asked with oras (a second client).
      const served = execFileSync(bin('oras'), ['resolve', '--plain-http', `${host}/tidb-mesh:0.1.0`], { encoding: 'utf8', env: { ...process.env, DOCKER_CONFIG: dockerConfig } }).trim();
      expect(served).toBe(digest);
    } finally {
      if (saved === undefined) delete process.env.DOCKER_CONFIG; else process.env.DOCKER_CONFIG = saved;
    }
  });

  it('the generated WasmPlugin (url, sha256 = image manifest digest, pull policy and secret) is what Istio\'s fetcher accepts; the module is byte-identical and runs in Envoy', async () => {
    const g = await cli(['generate', '-f', 'manifests/examples/tidbclusters.yaml', '--registry', 'manifests/examples/tidb-mesh-tenants.json',
      '--url', `oci://${host}/tidb-mesh:0.1.0`, '--image-pull-policy', 'Always', '--image-pull-secret', 'tidb-mesh-pull']);
    expect(g.code).toBe(0);
    const wp = docs(g.stdout).find((d) => d.kind === 'WasmPlugin' && d.metadata.name === 'tidb-mesh-cluster1');
    expect(wp.spec.url).toBe(`oci://${host}/tidb-mesh:0.1.0`);
    expect(wp.spec.imagePullPolicy).toBe('Always');
    expect(wp.spec.imagePullSecret).toBe('tidb-mesh-pull');
    expect(wp.spec.sha256).not.toBe(sha(wasm));
    const out = path.join(dir, 'fetched.wasm');
    // istiod inlines the pull secret's .dockerconfigjson; the agent hands it to the fetcher.
    const r = fetchModule(['-url', wp.spec.url, '-sha256', wp.spec.sha256, '-pull-policy', wp.spec.imagePullPolicy,
      '-pull-secret', path.join(dockerConfig, 'config.json'), '-cache', path.join(dir, 'cache'), '-o', out]);
    expect(r.out).toMatch(/fetched oci:/);
    expect(r.code).toBe(0);
    expect(sha(fs.readFileSync(out))).toBe(sha(wasm));

    const envoy = await startEnvoy({ upstream: { port: 9 }, wasm: out, pluginConfig: wp.spec.pluginConfig, node: tidbNode('cluster1', { serviceAccount: 'cluster1-tidb' }) });
    try {
      const trailers = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
        const c = http2.connect(`http://127.0.0.1:${envoy.port}`);
        c.on('error', reject);
        const req = c.request({ ':method': 'POST', ':path': '/tidb.mesh.NotAService/Nothing', 'content-type': 'application/grpc', te: 'trailers' });
        let h: http2.IncomingHttpHeaders = {};
        req.on('response', (x) => { h = { ...x }; });
        req.on('trailers', (t) => { h = { ...h, ...t }; });
        req.on('end', () => { c.close(); resolve(h); });
        req.on('error', reject);
        req.resume();
        req.end(Buffer.from([0, 0, 0, 0, 0]));
      });
      expect(String(trailers['grpc-message'])).toMatch(/^tidb-mesh:/);
    } finally {
      await envoy.stop();
    }
  });

  it('Istio\'s fetcher refuses a wrong digest (the .wasm file\'s own sha256 too) and a pull without credentials', () => {
    const base = ['-url', `oci://${host}/tidb-mesh:0.1.0`, '-pull-secret', path.join(dockerConfig, 'config.json'), '-o', path.join(dir, 'x.wasm')];
    const fileDigest = fetchModule([...base, '-sha256', sha(wasm), '-cache', path.join(dir, 'c1')]);
    expect(fileDigest.code).toBe(1);
    expect(fileDigest.out).toMatch(/does not match/);
    expect(fileDigest.out).toMatch(/REFUSED|conversion failed|deny/i);
    const other = fetchModule([...base, '-sha256', 'f'.repeat(64), '-cache', path.join(dir, 'c2')]);
    expect(other.code).toBe(1);
    expect(other.out).toMatch(/does not match/);
    const digest = fs.readFileSync(path.join(ROOT, 'dist', 'tidb-mesh.oci.sha256'), 'utf8').split(' ')[0];
    const anonymous = fetchModule(['-url', `oci://${host}/tidb-mesh:0.1.0`, '-sha256', digest, '-cache', path.join(dir, 'c3'), '-o', path.join(dir, 'y.wasm')]);
    expect(anonymous.code).toBe(1);
    expect(anonymous.out).toMatch(/UNAUTHORIZED|401|authentication required/i);
    expect(fs.existsSync(path.join(dir, 'y.wasm'))).toBe(false);
  });

  it('the manifest tool refuses the .wasm file digest for an oci:// URL', async () => {
    const r = await cli(['generate', '-f', 'manifests/examples/tidbclusters.yaml', '--registry', 'manifests/examples/tidb-mesh-tenants.json',
      '--url', `oci://${host}/tidb-mesh:0.1.0`, '--sha256', sha(wasm)]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/SHA256_MISMATCH .*is the digest of the \.wasm file; for oci:\/\/ Istio compares the image manifest digest/);
  });
});
