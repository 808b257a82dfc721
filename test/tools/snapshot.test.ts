// Snapshot of the full generation for the examples (outbound WasmPlugin and EnvoyFilter, inbound WasmPlugin), and the
// drift check: committed manifests/generated/ must equal what `npm run manifests` produces.
import * as fs from 'fs';
import * as path from 'path';
import { exampleManifests } from '../../tools/manifests';
import { ROOT } from './helpers';

describe('example manifests', () => {
  let files: Record<string, string>;
  beforeAll(async () => { files = await exampleManifests(ROOT); });

  it('match the snapshots', () => {
    expect(files['wasmplugin.yaml']).toMatchSnapshot();
    expect(files['envoyfilter.yaml']).toMatchSnapshot();
    expect(files['inbound-wasmplugin.yaml']).toMatchSnapshot();
  });

  it('committed manifests/generated/ has not drifted (run `npm run manifests`)', () => {
    for (const [name, text] of Object.entries(files)) {
      expect(fs.readFileSync(path.join(ROOT, 'manifests', 'generated', name), 'utf8')).toBe(text);
    }
    // Every committed file is produced by a variant (a removed variant must not leave a stale file).
    expect(fs.readdirSync(path.join(ROOT, 'manifests', 'generated')).sort()).toEqual(Object.keys(files).sort());
  });

  it('does not touch the example registry', () => {
    const reg = JSON.parse(fs.readFileSync(path.join(ROOT, 'manifests', 'examples', 'tidb-mesh-tenants.json'), 'utf8'));
    expect(reg.tenants.map((t: any) => t.keyspaceId)).toEqual([1, 2]);
  });
});
