// The filter's OCI image (scripts/oci-image.js) and how the tool references it, without a
// registry: reproducible bytes, the compat layout Istio's fetcher reads, the digest the tool puts
// in WasmPlugin.spec.sha256 for oci:// URLs. The registry round trip is test/kube/oci.test.ts.
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { gunzipSync } from 'zlib';
import { docs, EXAMPLES, ROOT, run } from './helpers';
import { pushTarget } from '../../tools/publish';

const { buildImage } = require('../../scripts/oci-image.js');
const wasm = fs.readFileSync(path.join(ROOT, 'dist', 'tidb-mesh.wasm'));
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const GEN = ['generate', '-f', path.join(EXAMPLES, 'tidbclusters.yaml'), '--registry', path.join(EXAMPLES, 'tidb-mesh-tenants.json')];

describe('the OCI image of the filter', () => {
  it('is the same bytes every time, and a different module gives a different digest', () => {
    const a = buildImage(wasm, '0.1.0');
    const b = buildImage(Buffer.from(wasm), '0.1.0');
    expect(a.manifestDigest).toBe(b.manifestDigest);
    expect([...a.blobs.values()].map(sha)).toEqual([...b.blobs.values()].map(sha));
    expect(buildImage(Buffer.concat([wasm, Buffer.from([0])]), '0.1.0').manifestDigest).not.toBe(a.manifestDigest);
  });

  it('is the compat variant: OCI manifest, one tar+gzip layer holding plugin.wasm byte for byte', () => {
    const img = buildImage(wasm, '0.1.0');
    const m = JSON.parse(img.manifest.toString());
    expect(m.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(JSON.parse(img.blobs.get(m.config.digest).toString())).toMatchObject({ architecture: 'wasm', os: 'wasip1' });
    expect(m.layers).toHaveLength(1);
    expect(m.layers[0].mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip');
    const tar = gunzipSync(img.blobs.get(m.layers[0].digest));
    expect(tar.subarray(0, 11).toString()).toBe('plugin.wasm');
    expect(parseInt(tar.subarray(124, 135).toString(), 8)).toBe(wasm.length);
    expect(tar.subarray(512, 512 + wasm.length).equals(wasm)).toBe(true);
    for (const [d, blob] of img.blobs) expect(`sha256:${sha(blob)}`).toBe(d);
  });

  it('dist/oci (npm run build) holds exactly that image, tagged with the package version', () => {
    const index = JSON.parse(fs.readFileSync(path.join(ROOT, 'dist', 'oci', 'index.json'), 'utf8'));
    const version = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;
    expect(index.manifests[0].annotations['org.opencontainers.image.ref.name']).toBe(version);
    expect(index.manifests[0].digest).toBe(buildImage(wasm, version).manifestDigest);
    expect(fs.readFileSync(path.join(ROOT, 'dist', 'tidb-mesh.oci.sha256'), 'utf8').split(' ')[0]).toBe(index.manifests[0].digest.slice(7));
  });
});

describe('oci:// in the manifest tool', () => {
  const url = 'oci://registry.example/tidb-mesh:0.1.0';

  it('defaults sha256 to the image manifest digest, never the .wasm digest', async () => {
    const r = await run([...GEN, '--url', url, '--image-pull-policy', 'IfNotPresent', '--image-pull-secret', 'pull']);
    expect(r.code).toBe(0);
    const wp = docs(r.stdout).find((d) => d.kind === 'WasmPlugin');
    expect(wp.spec.sha256).toBe(buildImage(wasm, 'x').manifestDigest.slice(7));
    expect(wp.spec).toMatchObject({ url, imagePullPolicy: 'IfNotPresent', imagePullSecret: 'pull' });
    const wrong = await run([...GEN, '--url', url, '--sha256', sha(wasm)]);
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toMatch(/is the digest of the \.wasm file; for oci:\/\/ Istio compares the image manifest digest/);
    expect((await run([...GEN, '--url', url, '--sha256', 'e'.repeat(64)])).code).toBe(0);
  });

  it('publish targets: oci:// or bare, default tag from the layout', () => {
    expect(pushTarget('oci://127.0.0.1:5000/tidb-mesh', '0.1.0')).toBe('127.0.0.1:5000/tidb-mesh:0.1.0');
    expect(pushTarget('ghcr.io/acme/tidb-mesh:v2', '0.1.0')).toBe('ghcr.io/acme/tidb-mesh:v2');
    expect(() => pushTarget('tidb-mesh', '0.1.0')).toThrow(/usage: tidb-mesh publish/);
  });
});
