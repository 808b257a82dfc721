// Every safety check has a test: through checkTopology (pure) and, for the blocking ones, through
// the CLI (exit code 3, nothing on stdout).
import { checkTopology, SafetyOptions } from '../../tools/safety';
import { discover } from '../../tools/tidb/topology';
import { exampleObjects, run, tmpdir, writeYaml, SHA } from './helpers';

const OPTS: SafetyOptions = { failStrategy: 'FAIL_CLOSE', direction: 'inbound', pdPeerRemedy: true };

function codes(mutate: (objs: any[]) => void, opts: Partial<SafetyOptions> = {}): string[] {
  const objs = exampleObjects() as any[];
  mutate(objs);
  return checkTopology(discover(objs), { ...OPTS, ...opts }).map((f) => `${f.severity}:${f.code}`);
}
const byName = (objs: any[], n: string) => objs.find((o) => o.metadata.name === n);

describe('safety checks', () => {
  it('the examples pass in both directions (only the pd-peer remedy notice)', () => {
    expect(codes(() => {})).toEqual(['info:PD_PEER_REMEDY']);
    expect(codes(() => {}, { direction: 'outbound' })).toEqual(['info:PD_PEER_REMEDY']);
  });
  it('TLS_CLUSTER_ENABLED on the storage layer or a tenant', () => {
    expect(codes((o) => { byName(o, 'storage-layer').spec.tlsCluster.enabled = true; })).toContain('error:TLS_CLUSTER_ENABLED');
    expect(codes((o) => { byName(o, 'cluster1').spec.tlsCluster = { enabled: true }; })).toContain('error:TLS_CLUSTER_ENABLED');
  });
  it('PD_PEER_TCP when the pd-peer remedy is disabled', () => {
    expect(codes(() => {}, { pdPeerRemedy: false })).toEqual(['error:PD_PEER_TCP']);
  });
  it('NAMESPACE_MISMATCH for a tenant outside its storage layer namespace', () => {
    const c = codes((o) => { byName(o, 'cluster2').metadata.namespace = 'other'; byName(o, 'cluster2').spec.cluster.namespace = 'tidb'; });
    expect(c).toContain('error:NAMESPACE_MISMATCH');
  });
  it('STORAGE_LAYER_MISSING for a dangling spec.cluster.name', () => {
    expect(codes((o) => { byName(o, 'cluster1').spec.cluster.name = 'nope'; })).toContain('error:STORAGE_LAYER_MISSING');
  });
  it('NAME_TOO_LONG when operator-derived names exceed 63 characters', () => {
    expect(codes((o) => { byName(o, 'cluster1').metadata.name = `c${'x'.repeat(60)}`; })).toContain('error:NAME_TOO_LONG');
    expect(codes((o) => { const s = byName(o, 'storage-layer'); s.metadata.name = `s${'x'.repeat(55)}`; })).toContain('error:NAME_TOO_LONG');
  });
  it('FAIL_OPEN_REFUSED', () => {
    expect(codes(() => {}, { failStrategy: 'FAIL_OPEN' })).toContain('error:FAIL_OPEN_REFUSED');
  });
  it('SHARED_SERVICE_ACCOUNT and TENANT_SA_IS_STORAGE (only --direction inbound)', () => {
    expect(codes((o) => { delete byName(o, 'cluster1').spec.tidb.serviceAccount; delete byName(o, 'cluster2').spec.tidb.serviceAccount; })).toContain('error:SHARED_SERVICE_ACCOUNT');
    expect(codes((o) => { byName(o, 'cluster1').spec.tidb.serviceAccount = 'storage-layer-tikv'; })).toContain('error:TENANT_SA_IS_STORAGE');
    expect(codes((o) => { delete byName(o, 'cluster1').spec.tidb.serviceAccount; delete byName(o, 'cluster2').spec.tidb.serviceAccount; }, { direction: 'outbound' })).toEqual(['info:PD_PEER_REMEDY']);
    expect(codes((o) => { byName(o, 'cluster1').spec.tidb.serviceAccount = 'storage-layer-tikv'; }, { direction: 'outbound' })).toEqual(['info:PD_PEER_REMEDY']);
  });
  it('TENANT_HAS_OWN_STORAGE, TIDB_KEYSPACE_CONFIGURED, BAD_KEYSPACE_ANNOTATION', () => {
    expect(codes((o) => { byName(o, 'cluster1').spec.tikv = { replicas: 1 }; })).toContain('error:TENANT_HAS_OWN_STORAGE');
    expect(codes((o) => { byName(o, 'cluster1').spec.tidb.config = 'keyspace-name = "x"\n'; })).toContain('error:TIDB_KEYSPACE_CONFIGURED');
    expect(codes((o) => { byName(o, 'cluster1').metadata.annotations = { 'tidb-mesh.io/keyspace-id': 'seven' }; })).toContain('error:BAD_KEYSPACE_ANNOTATION');
  });
  it('warnings: TIKV_API_VERSION, STORAGE_HAS_TIDB, NO_TENANTS', () => {
    expect(codes((o) => { byName(o, 'storage-layer').spec.tikv.config = '[storage]\napi-version = 1\n'; })).toContain('warning:TIKV_API_VERSION');
    expect(codes((o) => { byName(o, 'storage-layer').spec.tidb = { replicas: 1 }; })).toContain('warning:STORAGE_HAS_TIDB');
    expect(codes((o) => { o.splice(1, 2); })).toContain('warning:NO_TENANTS');
  });
});

describe('safety checks through the CLI', () => {
  it('exit 3, stderr names the check and its fix, stdout empty', async () => {
    const dir = tmpdir();
    const objs = exampleObjects() as any[];
    byName(objs, 'storage-layer').spec.tlsCluster.enabled = true;
    const f = writeYaml(dir, 'in.yaml', objs);
    const r = await run(['generate', '-f', f, '--sha256', SHA, '--url', 'oci://r/x:1']);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/TLS_CLUSTER_ENABLED[\s\S]*fix: Set spec.tlsCluster.enabled: false/);
  });
  it('refuses FAIL_OPEN and a mismatched artifact digest', async () => {
    const f = `${__dirname}/../../manifests/examples/tidbclusters.yaml`;
    const open = await run(['generate', '-f', f, '--fail-strategy', 'FAIL_OPEN']);
    expect(open.code).toBe(3);
    expect(open.stderr).toMatch(/FAIL_OPEN_REFUSED/);
    const wasm = `${tmpdir()}/m.wasm`;
    require('fs').writeFileSync(wasm, Buffer.from([0, 97, 115, 109, 1, 0, 0, 0]));
    const bad = await run(['generate', '-f', f, '--wasm', wasm, '--sha256', SHA]);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/SHA256_MISMATCH/);
    const missing = await run(['generate', '-f', f, '--wasm', 'does/not/exist.wasm']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/SHA256_MISSING/);
  });
});
