// Tenant sets: selectors, set values from TidbCluster / TiDBGroup labels (one value per set),
// the registry's set index, and `tidb-mesh tenants` listing, filtering and grouping.
import * as fs from 'fs';
import * as path from 'path';
import { parseRegistry, Registry } from '../../tools/registry';
import { registryText } from '../../tools/source';
import { matches, parseSelector } from '../../tools/tenants/selector';
import { groupBySet, tenantSetsOf } from '../../tools/tenants/sets';
import { discover } from '../../tools/tidb/topology';
import { checkTopology } from '../../tools/safety';
import { exampleObjects, run, tmpdir, writeYaml } from './helpers';

const rec = (name: string, labels: Record<string, string>, extra: object = {}) => ({
  name, namespace: 'tidb', storageLayer: 'tidb/storage-layer', keyspaceId: 0, keyspaceName: name, labels, state: 'active' as const, ...extra,
});

/** acme-a (acme, us-west), acme-b (acme, us-east), globex-a (globex, us-west), canary (no set), old (retired). */
function fleet(): Registry {
  const tenants = [rec('acme-a', { customer: 'acme', region: 'us-west' }), rec('acme-b', { customer: 'acme', region: 'us-east' }),
    rec('canary', {}), rec('globex-a', { customer: 'globex', region: 'us-west' }), rec('old', { customer: 'acme' }, { state: 'retired' })]
    .map((t, i) => ({ ...t, keyspaceId: i + 1 }));
  return parseRegistry({ apiVersion: 'tidb-mesh.io/v1alpha1', kind: 'TenantRegistry', tenants }, 'test');
}

describe('selectors', () => {
  const sel = (s: string, labels: Record<string, string>) => matches(parseSelector(s), labels);
  const acmeWest = { customer: 'acme', region: 'us-west' };
  it('accept the Kubernetes label-selector forms over set values', () => {
    expect(sel('customer=acme', acmeWest)).toBe(true);
    expect(sel('customer==acme', acmeWest)).toBe(true);
    expect(sel('customer=acme,region in (us-west,us-east)', acmeWest)).toBe(true);
    expect(sel('customer=acme, region in (us-east)', acmeWest)).toBe(false);
    expect(sel('region notin (us-east)', acmeWest)).toBe(true);
    expect(sel('region notin (us-east)', {})).toBe(true);
    expect(sel('customer!=acme', {})).toBe(true);
    expect(sel('customer!=acme', acmeWest)).toBe(false);
    expect(sel('customer', acmeWest)).toBe(true);
    expect(sel('!customer', {})).toBe(true);
    expect(sel('!customer', acmeWest)).toBe(false);
    expect(sel('', {})).toBe(true);
  });
  it('refuse malformed selectors with the accepted syntax in the message', () => {
    for (const bad of ['customer in (acme', 'customer=', 'customer in ()', 'a b', ',', 'customer=a=b', 'x in (a,,b)']) {
      expect(() => parseSelector(bad)).toThrow(/selector ".*": .*expected set=value/);
    }
  });
});

describe('set values from labels', () => {
  const tc = (name: string, labels: Record<string, string>) => ({
    apiVersion: 'pingcap.com/v1alpha1', kind: 'TidbCluster', metadata: { name, namespace: 'tidb', labels },
    spec: { cluster: { name: 'storage-layer' }, tidb: { serviceAccount: `${name}-tidb` } },
  });
  it('v1: tenant.tidb-mesh.io/<set> labels; no label = no value (a test tenant)', () => {
    const t = discover([exampleObjects()[0], tc('canary', { app: 'x' }), tc('a', { 'tenant.tidb-mesh.io/customer': 'acme' }) as any]);
    expect(t.tenants.map((x) => [x.name, x.tenantLabels])).toEqual([['a', { customer: 'acme' }], ['canary', {}]]);
    expect(t.findings).toEqual([]);
  });
  it('refuses an empty value or a bad set name (TENANT_SET_INVALID, exit 3)', async () => {
    const t = discover([exampleObjects()[0], tc('a', { 'tenant.tidb-mesh.io/customer': '' }) as any]);
    const f = checkTopology(t, { failStrategy: 'FAIL_CLOSE', direction: 'outbound', pdPeerRemedy: true }).filter((x) => x.severity === 'error');
    expect(f).toEqual([expect.objectContaining({ code: 'TENANT_SET_INVALID', object: 'TidbCluster tidb/a', message: expect.stringMatching(/set customer has an empty value/) })]);
    const dir = tmpdir();
    const file = writeYaml(dir, 'tc.yaml', [exampleObjects()[0], tc('a', { 'tenant.tidb-mesh.io/customer': '' })]);
    const r = await run(['generate', '-f', file, '--url', 'oci://r/x:1', '--sha256', 'a'.repeat(64)]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/\[error\] TENANT_SET_INVALID TidbCluster tidb\/a: set customer has an empty value/);
    expect(fs.existsSync(path.join(dir, 'tidb-mesh-tenants.json'))).toBe(false);
  });
  it('v2: a TiDBGroup whose labels and pod-template labels give one set two values is refused (TENANT_SET_CONFLICT)', () => {
    const mk = (kind: string, name: string, spec: object, labels = {}) => ({ apiVersion: 'core.pingcap.com/v1alpha1', kind, metadata: { name, namespace: 'db', labels }, spec });
    const objs = [mk('Cluster', 'shared', {}), mk('PDGroup', 'pd', { cluster: { name: 'shared' } }), mk('TiKVGroup', 'tikv', { cluster: { name: 'shared' } }),
      mk('TiDBGroup', 'g', { cluster: { name: 'shared' }, template: { metadata: { labels: { 'tenant.tidb-mesh.io/region': 'us-east', 'tenant.tidb-mesh.io/customer': 'acme' } } } },
        { 'tenant.tidb-mesh.io/region': 'us-west', 'tenant.tidb-mesh.io/customer': 'acme' })];
    const t = discover(objs as any);
    expect(t.findings).toEqual([expect.objectContaining({
      code: 'TENANT_SET_CONFLICT', severity: 'error', object: 'TiDBGroup db/g',
      message: 'set region is "us-west" in metadata.labels but "us-east" in spec.template.metadata.labels; a tenant belongs to at most one value of each set',
    })]);
  });
});

describe('the registry records the sets', () => {
  it('writes tenantSets (active tenants only) and reads it back', () => {
    const r = fleet();
    const doc = JSON.parse(registryText(r));
    expect(doc.tenantSets).toEqual([
      { name: 'customer', values: [{ value: 'acme', tenants: ['tidb/acme-a', 'tidb/acme-b'] }, { value: 'globex', tenants: ['tidb/globex-a'] }] },
      { name: 'region', values: [{ value: 'us-east', tenants: ['tidb/acme-b'] }, { value: 'us-west', tenants: ['tidb/acme-a', 'tidb/globex-a'] }] },
    ]);
    expect(parseRegistry(doc, 'x').tenants).toEqual(r.tenants);
  });
  it('refuses a tenant listed under two values of one set, and an index that disagrees with the tenants', () => {
    const doc = JSON.parse(registryText(fleet()));
    doc.tenantSets[1].values[0].tenants.push('tidb/acme-a');
    expect(() => parseRegistry(doc, 'x')).toThrow('tenant tidb/acme-a is listed under "us-east" and "us-west" of set region; a tenant belongs to at most one value of each set');
    const doc2 = JSON.parse(registryText(fleet()));
    doc2.tenants[0].labels.customer = 'globex';
    expect(() => parseRegistry(doc2, 'x')).toThrow(/tenantSets does not match/);
    const doc3 = JSON.parse(registryText(fleet()));
    doc3.tenants[0].labels.customer = '';
    expect(() => parseRegistry(doc3, 'x')).toThrow(/tidb\/acme-a: set customer has an empty value/);
  });
  it('groups by one set, values sorted, "no value" last', () => {
    const g = groupBySet(fleet().tenants.filter((t) => t.state === 'active'), 'region', (t) => t.labels);
    expect(g.map((x) => [x.value, x.items.map((t) => t.name)])).toEqual([['us-east', ['acme-b']], ['us-west', ['acme-a', 'globex-a']], [null, ['canary']]]);
    expect(tenantSetsOf([])).toEqual([]);
  });
});

describe('tidb-mesh tenants', () => {
  let reg: string;
  beforeEach(() => {
    reg = path.join(tmpdir(), 'reg.json');
    fs.writeFileSync(reg, registryText(fleet()));
  });
  it('filters with a selector and groups by a set, as a table', async () => {
    const r = await run(['tenants', '--registry', reg, '-l', 'customer=acme,region in (us-west,us-east)', '--group-by', 'region']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe([
      'region=us-east (1 tenant)',
      '  NAMESPACE  NAME    KEYSPACE-ID  KEYSPACE  STORAGE-LAYER       STATE   SETS',
      '  tidb       acme-b  2            acme-b    tidb/storage-layer  active  customer=acme,region=us-east',
      'region=us-west (1 tenant)',
      '  NAMESPACE  NAME    KEYSPACE-ID  KEYSPACE  STORAGE-LAYER       STATE   SETS',
      '  tidb       acme-a  1            acme-a    tidb/storage-layer  active  customer=acme,region=us-west',
      '',
    ].join('\n'));
  });
  it('groups as JSON (-o json), tenants without a value under null; retired tenants are listed with their state', async () => {
    const r = await run(['tenants', 'list', '--registry', reg, '-l', '!region', '--group-by', 'customer', '-o', 'json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.groupBy).toBe('customer');
    expect(doc.groups.map((g: any) => [g.value, g.tenants.map((t: any) => `${t.name}:${t.state}`)])).toEqual([['acme', ['old:retired']], [null, ['canary:active']]]);
  });
  it('`tenants sets` lists every set value with its tenants, and the tenants in no set', async () => {
    const r = await run(['tenants', 'sets', '--registry', reg]);
    expect(r.stdout).toBe([
      'SET       VALUE    TENANTS',
      'customer  acme     tidb/acme-a,tidb/acme-b',
      'customer  globex   tidb/globex-a',
      'region    us-east  tidb/acme-b',
      'region    us-west  tidb/acme-a,tidb/globex-a',
      '-         -        tidb/canary',
      '',
    ].join('\n'));
    const j = JSON.parse((await run(['tenants', 'sets', '--registry', reg, '-o', 'json'])).stdout);
    expect(j.unassigned).toEqual(['tidb/canary']);
  });
  it('a malformed selector or -o value is a usage error (exit 2)', async () => {
    expect((await run(['tenants', '--registry', reg, '-l', 'region in (a'])).code).toBe(2);
    expect((await run(['tenants', '--registry', reg, '-o', 'yaml'])).code).toBe(2);
  });
});
