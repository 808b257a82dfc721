// Pure units: naming, discovery (v1 + v2), registry, artifact checks, plugin config, render.
import { resolveArtifact } from '../../tools/artifact';
import { kindForIstio } from '../../tools/generate';
import { boundedName, isDnsLabel } from '../../tools/naming';
import { pdAllocator } from '../../tools/pd';
import { inboundConfig, outboundConfig, validatePluginConfig } from '../../tools/plugin-config';
import { emptyRegistry, localAllocator, MAX_KEYSPACE_ID, parseRegistry, resolveTenants, retireTenant, selectTenants } from '../../tools/registry';
import { renderYaml, stableJson } from '../../tools/render';
import { discover } from '../../tools/tidb/topology';
import { TenantSource } from '../../tools/types';
import { exampleObjects } from './helpers';

const tenant = (name: string, extra: Partial<TenantSource> = {}): TenantSource => ({
  operator: 'v1', name, namespace: 'tidb', source: `TidbCluster tidb/${name}`, storageRef: { name: 'storage-layer', namespace: 'tidb' },
  tlsCluster: false, serviceAccount: `${name}-tidb`, podSelector: { 'app.kubernetes.io/instance': name, 'app.kubernetes.io/component': 'tidb' },
  tenantLabels: {}, keyspaceName: name, hasOwnStorage: false, ...extra,
});

describe('naming', () => {
  it('keeps short names and caps long ones at 63 with a stable hash suffix', () => {
    expect(boundedName('tidb-mesh-cluster1')).toBe('tidb-mesh-cluster1');
    const long = `tidb-mesh-${'x'.repeat(80)}`;
    const a = boundedName(long);
    expect(a).toHaveLength(63);
    expect(a).toBe(boundedName(long));
    expect(a).not.toBe(boundedName(`${long}y`));
    expect(isDnsLabel(a)).toBe(true);
  });
});

describe('discovery', () => {
  it('finds the v1 storage layer and its tenants', () => {
    const t = discover(exampleObjects());
    expect(t.storageLayers.map((s) => s.name)).toEqual(['storage-layer']);
    expect(t.tenants.map((x) => x.name)).toEqual(['cluster1', 'cluster2']);
    expect(t.tenants[0].tenantLabels).toEqual({ customer: 'acme', region: 'us-west' });
    expect(t.storageLayers[0].pdPeerService).toBe('storage-layer-pd-peer');
  });
  it('reads tidb-operator v2 Cluster + groups', () => {
    const mk = (kind: string, name: string, spec: object, labels = {}) => ({ apiVersion: 'core.pingcap.com/v1alpha1', kind, metadata: { name, namespace: 'db', labels }, spec });
    const t = discover([
      mk('Cluster', 'shared', {}),
      mk('PDGroup', 'pd', { cluster: { name: 'shared' } }),
      mk('TiKVGroup', 'tikv', { cluster: { name: 'shared' }, template: { spec: { config: '[storage]\napi-version = 2\n' } } }),
      mk('TiDBGroup', 'tenant-a', { cluster: { name: 'shared' }, template: { metadata: { labels: { 'tenant.tidb-mesh.io/customer': 'acme' } },
        spec: { keyspace: 'ks-a', overlay: { pod: { spec: { serviceAccountName: 'sa-a' } } } } } }),
      mk('TiDBGroup', 'orphan', { cluster: { name: 'missing' } }),
    ] as any);
    expect(t.storageLayers).toHaveLength(1);
    expect(t.storageLayers[0]).toMatchObject({ operator: 'v2', podSelector: { 'pingcap.com/cluster': 'shared' } });
    expect(t.tenants).toHaveLength(1);
    expect(t.tenants[0]).toMatchObject({ name: 'tenant-a', keyspaceName: 'ks-a', serviceAccount: 'sa-a', tenantLabels: { customer: 'acme' },
      podSelector: { 'pingcap.com/cluster': 'shared', 'pingcap.com/component': 'tidb', 'pingcap.com/group': 'tenant-a' } });
    expect(t.ignored.join()).toMatch(/orphan/);
  });
});

describe('registry', () => {
  const alloc = localAllocator();
  it('assigns distinct ids once and keeps them stable', async () => {
    const r1 = await resolveTenants(emptyRegistry(), [tenant('b'), tenant('a')], alloc);
    expect(r1.assigned.map((r) => [r.name, r.keyspaceId])).toEqual([['a', 1], ['b', 2]]);
    // A new tenant that sorts first must not shift existing ids.
    const r2 = await resolveTenants(r1.registry, [tenant('0first'), tenant('a'), tenant('b')], alloc);
    expect(r2.registry.tenants.map((r) => [r.name, r.keyspaceId])).toEqual([['a', 1], ['b', 2], ['0first', 3]]);
    const r3 = await resolveTenants(r2.registry, [tenant('a')], alloc);
    expect(r3.changed).toBe(false);
  });
  it('never reuses a retired id and refuses a retired tenant', async () => {
    const r1 = await resolveTenants(emptyRegistry(), [tenant('a'), tenant('b')], alloc);
    const retired = retireTenant(r1.registry, 'tidb', 'b');
    const r2 = await resolveTenants(retired, [tenant('c')], alloc);
    expect(r2.assigned[0].keyspaceId).toBe(3);
    await expect(resolveTenants(retired, [tenant('b')], alloc)).rejects.toMatchObject({ code: 'TENANT_RETIRED', exitCode: 4 });
  });
  it('rejects a changed id, a colliding pinned id, a colliding keyspace name and out-of-range pins', async () => {
    const r1 = await resolveTenants(emptyRegistry(), [tenant('a')], alloc);
    await expect(resolveTenants(r1.registry, [tenant('a', { pinnedKeyspaceId: 9 })], alloc)).rejects.toMatchObject({ code: 'KEYSPACE_ID_CHANGED' });
    await expect(resolveTenants(r1.registry, [tenant('b', { pinnedKeyspaceId: 1 })], alloc)).rejects.toMatchObject({ code: 'KEYSPACE_ID_COLLISION' });
    await expect(resolveTenants(r1.registry, [tenant('b', { keyspaceName: 'a' })], alloc)).rejects.toMatchObject({ code: 'KEYSPACE_NAME_COLLISION' });
    await expect(resolveTenants(r1.registry, [tenant('a', { keyspaceName: 'renamed' })], alloc)).rejects.toMatchObject({ code: 'KEYSPACE_NAME_CHANGED' });
    await expect(resolveTenants(r1.registry, [tenant('a', { storageRef: { name: 'other', namespace: 'tidb' } })], alloc)).rejects.toMatchObject({ code: 'STORAGE_LAYER_CHANGED' });
    for (const bad of [0, MAX_KEYSPACE_ID + 1]) {
      await expect(resolveTenants(emptyRegistry(), [tenant('z', { pinnedKeyspaceId: bad })], alloc)).rejects.toMatchObject({ code: 'KEYSPACE_ID_OUT_OF_RANGE' });
    }
    const pinned = await resolveTenants(emptyRegistry(), [tenant('z', { pinnedKeyspaceId: MAX_KEYSPACE_ID })], alloc);
    expect(pinned.assigned[0].keyspaceId).toBe(MAX_KEYSPACE_ID);
  });
  it('fills gaps after the top id and reports exhaustion', async () => {
    const small = localAllocator(3);
    const r = await resolveTenants(emptyRegistry(), [tenant('a', { pinnedKeyspaceId: 3 }), tenant('b')], small);
    expect(r.registry.tenants.find((x) => x.name === 'b')!.keyspaceId).toBe(1);
    const full = await resolveTenants(r.registry, [tenant('c')], small);
    await expect(resolveTenants(full.registry, [tenant('d')], small)).rejects.toMatchObject({ code: 'KEYSPACE_EXHAUSTED' });
  });
  it('validates persisted documents and selects tenant sets by label', async () => {
    expect(() => parseRegistry({ kind: 'nope' }, 'x')).toThrow(/TenantRegistry/);
    const rec = { name: 'a', namespace: 'tidb', storageLayer: 'tidb/s', keyspaceId: 1, keyspaceName: 'a', labels: {}, state: 'active' };
    expect(() => parseRegistry({ kind: 'TenantRegistry', tenants: [rec, { ...rec, name: 'b', keyspaceName: 'b' }] }, 'x')).toThrow(/recorded twice/);
    const r = await resolveTenants(emptyRegistry(), [tenant('a', { tenantLabels: { customer: 'acme' } }), tenant('b', { tenantLabels: { customer: 'x' } })], alloc);
    expect(selectTenants(r.registry, 'customer=acme').map((x) => x.name)).toEqual(['a']);
  });
});

describe('PD allocator', () => {
  function fakePd(keyspaces: Record<string, number>) {
    const calls: string[] = [];
    let next = 10;
    const fetch = async (url: string, init?: { method?: string; body?: string }) => {
      const u = new URL(url);
      calls.push(`${init?.method ?? 'GET'} ${u.pathname} ${init?.body ?? ''}`.trim());
      const reply = (status: number, body: unknown) => ({ status, text: async () => JSON.stringify(body) });
      if (init?.method === 'POST') {
        const b = JSON.parse(init.body!);
        if (keyspaces[b.name] !== undefined) return reply(500, `[PD:keyspace:ErrKeyspaceExists]keyspace already exists`);
        keyspaces[b.name] = b.id ?? next++;
        return reply(200, { id: keyspaces[b.name], name: b.name, state: 'ENABLED', config: {} });
      }
      const name = decodeURIComponent(u.pathname.split('/').pop()!);
      return keyspaces[name] === undefined ? reply(500, '[PD:keyspace:ErrKeyspaceNotFound]keyspace does not exist') : reply(200, { id: keyspaces[name], name });
    };
    return { calls, fetch };
  }
  it('creates keyspaces through /pd/api/v2/keyspaces and adopts existing ones', async () => {
    const pd = fakePd({ existing: 42 });
    const a = pdAllocator('http://pd:2379/', pd.fetch);
    const r = await resolveTenants(emptyRegistry(), [tenant('fresh'), tenant('existing'), tenant('pinned', { pinnedKeyspaceId: 77 })], a);
    expect(r.registry.tenants.map((x) => [x.name, x.keyspaceId])).toEqual([['fresh', 10], ['existing', 42], ['pinned', 77]]);
    expect(pd.calls).toContain('POST /pd/api/v2/keyspaces {"name":"fresh","config":{}}');
    expect(pd.calls).toContain('POST /pd/api/v2/keyspaces/id {"id":77,"name":"pinned","config":{}}');
    expect(pd.calls).toContain('GET /pd/api/v2/keyspaces/existing');
  });
  it('verifies recorded ids against PD', async () => {
    const pd = fakePd({ a: 5 });
    const reg = parseRegistry({ kind: 'TenantRegistry', tenants: [{ name: 'a', namespace: 'tidb', storageLayer: 'tidb/storage-layer', keyspaceId: 1, keyspaceName: 'a', labels: {}, state: 'active' }] }, 'x');
    await expect(resolveTenants(reg, [tenant('a')], pdAllocator('http://pd:2379', pd.fetch))).rejects.toMatchObject({ code: 'KEYSPACE_ID_CHANGED' });
    await expect(resolveTenants(reg, [tenant('a', { keyspaceName: 'a' })], pdAllocator('http://pd:2379', fakePd({}).fetch))).rejects.toMatchObject({ code: 'KEYSPACE_MISSING' });
  });
  it('reports an unreachable PD as an IO error', async () => {
    const a = pdAllocator('http://pd:2379', async () => { throw new Error('ECONNREFUSED'); });
    await expect(resolveTenants(emptyRegistry(), [tenant('a')], a)).rejects.toMatchObject({ code: 'PD_UNREACHABLE', exitCode: 5 });
  });
});

describe('artifact (sha256 checks)', () => {
  const good = 'b'.repeat(64);
  it('takes the digest of the local build for file:// and https://', () => {
    expect(resolveArtifact('file:///x.wasm', undefined, { path: 'd.wasm', computed: good, recorded: good }).artifact).toEqual({ url: 'file:///x.wasm', sha256: good });
  });
  it('SHA256_MISSING without digest or build', () => {
    expect(resolveArtifact('https://h/x.wasm', undefined, undefined).findings.map((f) => f.code)).toEqual(['SHA256_MISSING']);
    expect(resolveArtifact('oci://r/x:1', undefined, undefined).findings.map((f) => f.code)).toEqual(['SHA256_MISSING']);
  });
  it('SHA256_MISMATCH against the build, a stale .sha256 file and an @sha256 url', () => {
    expect(resolveArtifact('file:///x', 'c'.repeat(64), { path: 'd', computed: good }).findings[0].code).toBe('SHA256_MISMATCH');
    expect(resolveArtifact('file:///x', undefined, { path: 'd', computed: good, recorded: 'c'.repeat(64) }).findings[0].code).toBe('SHA256_MISMATCH');
    expect(resolveArtifact(`oci://r/x@sha256:${'c'.repeat(64)}`, good, undefined).findings[0].code).toBe('SHA256_MISMATCH');
  });
  it('SHA256_MALFORMED and URL_SCHEME', () => {
    expect(resolveArtifact('oci://r/x', 'xyz', undefined).findings[0].code).toBe('SHA256_MALFORMED');
    expect(resolveArtifact('ftp://r/x', good, undefined).findings[0].code).toBe('URL_SCHEME');
  });
});

describe('plugin config (ajv against schema/plugin-config.schema.json)', () => {
  it('builds valid outbound and inbound tables', async () => {
    const t = discover(exampleObjects());
    const r = await resolveTenants(emptyRegistry(), t.tenants, localAllocator());
    const recs = t.tenants.map((x) => ({ t: x, rec: r.registry.tenants.find((y) => y.name === x.name)! }));
    expect(outboundConfig(recs[0].t, recs[0].rec).tenants[0]).toMatchObject({ name: 'cluster1', keyspaceId: 1 });
    const inbound = inboundConfig(t.storageLayers[0], recs, 'cluster.local', ['spiffe://cluster.local/ns/tidb/sa/br']);
    expect(inbound.passthrough).toHaveLength(2);
  });
  it('rejects what the schema rejects', () => {
    expect(() => validatePluginConfig({ tenants: [{ name: 'x', keyspaceId: 0, match: {} }] }, 't')).toThrow(/violates/);
  });
});

describe('render', () => {
  it('sorts keys at every level and is stable', () => {
    expect(stableJson({ b: 1, a: { d: 1, c: 2 } })).toBe('{"a":{"c":2,"d":1},"b":1}');
    const y = renderYaml([{ kind: 'X', b: 1, a: [{ z: 1, y: 2 }] }]);
    expect(y).toBe('---\na:\n  - y: 2\n    z: 1\nb: 1\nkind: X\n');
  });
  it('chooses EnvoyFilter for Istio < 1.16', () => {
    expect(kindForIstio('1.15.3')).toBe('envoyfilter');
    expect(kindForIstio('1.22')).toBe('wasmplugin');
    expect(() => kindForIstio('latest')).toThrow();
  });
});
