// CLI handlers called directly (files mode): generate, stdin, registry persistence, tenants,
// usage and registry exit codes, EnvoyFilter variant.
import * as fs from 'fs';
import * as path from 'path';
import { docs, EXAMPLES, exampleObjects, run, SHA, tmpdir, writeYaml } from './helpers';

const ART = ['--url', 'oci://registry.example/tidb-mesh:1', '--sha256', SHA];

describe('generate (files)', () => {
  it('prints WasmPlugins for cluster1 and cluster2 with the recorded, distinct keyspace ids', async () => {
    const r = await run(['generate', '-f', path.join(EXAMPLES, 'tidbclusters.yaml'), ...ART]);
    expect(r.code).toBe(0);
    const wp = docs(r.stdout).filter((d) => d.kind === 'WasmPlugin' && d.spec.match[0].mode === 'CLIENT');
    expect(wp.map((d) => [d.metadata.name, d.spec.pluginConfig.tenants[0].keyspaceId])).toEqual([['tidb-mesh-cluster1', 1], ['tidb-mesh-cluster2', 2]]);
    expect(wp[0].spec).toMatchObject({ failStrategy: 'FAIL_CLOSE', pluginName: 'tidb-mesh', sha256: SHA,
      selector: { matchLabels: { 'app.kubernetes.io/instance': 'cluster1', 'app.kubernetes.io/component': 'tidb' } } });
    expect(r.stderr).toMatch(/found 1 storage layer\(s\), 2 tenant\(s\)/);
  });
  it('allocates, persists and then reuses ids in a new registry file; a new tenant gets a new id', async () => {
    const dir = tmpdir();
    const objs = exampleObjects();
    const f = writeYaml(dir, 'tc.yaml', objs);
    const first = await run(['generate', '-f', f, ...ART]);
    expect(first.code).toBe(0);
    const reg = JSON.parse(fs.readFileSync(path.join(dir, 'tidb-mesh-tenants.json'), 'utf8'));
    expect(reg.tenants.map((t: any) => [t.name, t.keyspaceId])).toEqual([['cluster1', 1], ['cluster2', 2]]);
    const extra = JSON.parse(JSON.stringify(objs[1]));
    extra.metadata.name = 'acluster0';
    extra.spec.tidb.serviceAccount = 'acluster0-tidb';
    writeYaml(dir, 'tc.yaml', [...objs, extra]);
    const second = await run(['generate', '-f', f, ...ART]);
    expect(second.code).toBe(0);
    expect(second.stderr).toMatch(/assigned keyspace id 3 to tenant tidb\/acluster0/);
    const again = await run(['generate', '-f', f, ...ART]);
    expect(again.stdout).toBe(second.stdout);
  });
  it('reads stdin (-f -) but requires --registry then', async () => {
    const stdin = fs.readFileSync(path.join(EXAMPLES, 'tidbclusters.yaml'), 'utf8');
    const noReg = await run(['generate', '-f', '-', ...ART], { stdin });
    expect(noReg.code).toBe(2);
    const reg = path.join(tmpdir(), 'reg.json');
    const ok = await run(['generate', '-f', '-', '--registry', reg, ...ART], { stdin });
    expect(ok.code).toBe(0);
    expect(fs.existsSync(reg)).toBe(true);
  });
  it('emits EnvoyFilters for --envoyfilter and --istio-version 1.14', async () => {
    for (const flags of [['--envoyfilter'], ['--istio-version', '1.14']]) {
      const r = await run(['generate', '-f', path.join(EXAMPLES, 'tidbclusters.yaml'), ...ART, ...flags]);
      expect(r.code).toBe(0);
      const kinds = docs(r.stdout).map((d) => d.kind);
      expect(kinds).not.toContain('WasmPlugin');
      expect(kinds.filter((k) => k === 'EnvoyFilter')).toHaveLength(2);
      const ef = docs(r.stdout).find((d) => d.kind === 'EnvoyFilter' && d.metadata.name === 'tidb-mesh-cluster1');
      const cfg = ef.spec.configPatches[0].patch.value.typed_config.config;
      expect(cfg.fail_open).toBe(false);
      expect(JSON.parse(cfg.configuration.value).tenants[0].keyspaceId).toBe(1);
      expect(ef.spec.configPatches.slice(1).map((p: any) => p.match.listener.portNumber)).toEqual([2379, 20160]);
    }
  });
  it('writes to -o; --direction inbound swaps the per-tenant plugins for the PD/TiKV ones', async () => {
    const f = path.join(EXAMPLES, 'tidbclusters.yaml');
    const out = await run(['generate', '-f', f, ...ART, '-o', 'out.yaml'], { cwd: tmpdir() });
    expect(out.code).toBe(0);
    const text = Object.values(out.written)[0];
    expect(docs(text).map((d) => `${d.kind}/${d.metadata.name}`)).toEqual(
      ['Service/storage-layer-pd-peer', 'WasmPlugin/tidb-mesh-cluster1', 'WasmPlugin/tidb-mesh-cluster2']);
    const explicit = await run(['generate', '-f', f, ...ART, '--direction', 'outbound']);
    expect(explicit.stdout).toBe(text);
    const inbound = await run(['generate', '-f', f, ...ART, '--direction=inbound']);
    expect(inbound.code).toBe(0);
    expect(docs(inbound.stdout).map((d) => `${d.kind}/${d.metadata.name}`)).toEqual(
      ['Service/storage-layer-pd-peer', 'PeerAuthentication/tidb-mesh-storage-layer-strict',
        'WasmPlugin/tidb-mesh-storage-layer-pd-inbound', 'WasmPlugin/tidb-mesh-storage-layer-tikv-inbound']);
  });
  it('--no-inbound is gone (usage error naming --direction); --direction takes outbound or inbound', async () => {
    const f = path.join(EXAMPLES, 'tidbclusters.yaml');
    const gone = await run(['generate', '-f', f, ...ART, '--no-inbound']);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toMatch(/--no-inbound was removed.*--direction outbound/);
    const bad = await run(['generate', '-f', f, ...ART, '--direction', 'both']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--direction must be outbound or inbound/);
    expect((await run(['generate', '--help'])).stdout).toMatch(/--direction outbound\|inbound/);
  });
  it('warns when the inputs carry tidb-mesh plugins of the other direction', async () => {
    const dir = tmpdir();
    const f = path.join(EXAMPLES, 'tidbclusters.yaml');
    const inbound = await run(['generate', '-f', f, ...ART, '--direction', 'inbound']);
    fs.copyFileSync(f, path.join(dir, 'tc.yaml'));
    fs.writeFileSync(path.join(dir, 'old.yaml'), inbound.stdout);
    const r = await run(['generate', '-f', dir, '--registry', path.join(tmpdir(), 'reg.json'), ...ART]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/\[warning\] DIRECTION_CONFLICT WasmPlugin tidb\/tidb-mesh-storage-layer-pd-inbound: .*prefixes every key twice/);
    expect(r.stderr).toMatch(/DIRECTION_CONFLICT WasmPlugin tidb\/tidb-mesh-storage-layer-tikv-inbound/);
    expect(docs(r.stdout).filter((d) => d.kind === 'WasmPlugin').map((d) => d.spec.match[0].mode)).toEqual(['CLIENT', 'CLIENT']);
  });
  it('usage errors exit 2; registry errors exit 4', async () => {
    expect((await run(['generate'])).code).toBe(2);
    expect((await run(['frobnicate'])).code).toBe(2);
    expect((await run(['generate', '--bogus'])).code).toBe(2);
    expect((await run([])).code).toBe(2);
    const dir = tmpdir();
    const objs = exampleObjects() as any[];
    objs[1].metadata.annotations = { 'tidb-mesh.io/keyspace-id': '2' };
    const f = writeYaml(dir, 'tc.yaml', objs);
    fs.copyFileSync(path.join(EXAMPLES, 'tidb-mesh-tenants.json'), path.join(dir, 'tidb-mesh-tenants.json'));
    const r = await run(['generate', '-f', f, ...ART]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/KEYSPACE_ID_CHANGED.*keyspace id 2 but the tenant has id 1/);
    expect(r.stdout).toBe('');
  });
});

describe('tenants (file registry)', () => {
  it('lists, filters by tenant-set labels, retires', async () => {
    const reg = path.join(tmpdir(), 'reg.json');
    fs.copyFileSync(path.join(EXAMPLES, 'tidb-mesh-tenants.json'), reg);
    const all = await run(['tenants', 'list', '--registry', reg]);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/NAMESPACE\s+NAME\s+KEYSPACE-ID/);
    expect(all.stdout).toMatch(/cluster1\s+1\s+cluster1\s+tidb\/storage-layer\s+active\s+customer=acme,region=us-west/);
    const acme = await run(['tenants', '--registry', reg, '-l', 'customer=acme', '--format', 'json']);
    expect(JSON.parse(acme.stdout).tenants.map((t: any) => t.name)).toEqual(['cluster1']);
    expect((await run(['tenants', 'retire', 'tidb/cluster2', '--registry', reg])).code).toBe(0);
    expect(JSON.parse(fs.readFileSync(reg, 'utf8')).tenants[1]).toMatchObject({ name: 'cluster2', keyspaceId: 2, state: 'retired' });
    expect((await run(['tenants', 'retire', 'tidb/nobody', '--registry', reg])).code).toBe(4);
  });
});
