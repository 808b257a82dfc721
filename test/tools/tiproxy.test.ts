// TiProxy per tenant: tidb-operator v2 tenants (TiDBGroups, grouped by tidb-mesh.io/tenant),
// TiProxyGroups assigned to one tenant by their labels, one WasmPlugin per workload, the
// refusals, and v1's spec.tiproxy. Every generated object is checked against Istio's
// WasmPlugin schema (the @kubernetes-models/istio model generated from the CRD).
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { WasmPlugin } from '@kubernetes-models/istio/extensions.istio.io/v1alpha1/WasmPlugin';
import { configLabels } from '../../tools/tidb/config-labels';
import { discover } from '../../tools/tidb/topology';
import { docs, EXAMPLES, exampleObjects, run, tmpdir, writeYaml } from './helpers';

const EXAMPLE = path.join(EXAMPLES, 'v2-tiproxy.yaml');
const examples = () => fs.readFileSync(EXAMPLE, 'utf8').split(/^---$/m).map((d) => parse(d)).filter(Boolean);
const named = (objs: any[], kind: string, name: string) => objs.find((o) => o.kind === kind && o.metadata.name === name);

async function generate(objs: any[], extra: string[] = []) {
  const dir = tmpdir();
  const r = await run(['generate', '-f', writeYaml(dir, 'in.yaml', objs), '--registry', path.join(dir, 'reg.json'), ...extra]);
  return { ...r, out: r.code === 0 ? docs(r.stdout) : [] };
}

describe('labels and balance.label-name from configs', () => {
  it('reads [labels], an inline labels table and [balance] label-name; reports forms it cannot read', () => {
    expect(configLabels('[balance]\nlabel-name = "tenant"\n\n[labels]\ntenant = "a" # comment\n"zone" = \'z1\'\n')).toEqual({ labels: { tenant: 'a', zone: 'z1' }, labelName: 'tenant', unreadable: [] });
    expect(configLabels('labels = { tenant = "a", x = "y" }\nbalance.label-name = "tenant"')).toMatchObject({ labels: { tenant: 'a', x: 'y' }, labelName: 'tenant' });
    expect(configLabels({ labels: { tenant: 'a' }, balance: { 'label-name': 'tenant' } })).toMatchObject({ labels: { tenant: 'a' }, labelName: 'tenant' });
    expect(configLabels('[labels]\ntenant = 1\n[balance]\nlabel-name = tenant\n').unreadable).toHaveLength(2);
    expect(configLabels('balance = { label-name = "x" }').unreadable).toHaveLength(1);
    expect(configLabels('[log]\nlevel = "info"\n[balance]\npolicy = "resource"')).toEqual({ labels: {}, unreadable: [] });
  });
});

describe('tidb-operator v2 tenants and TiProxyGroups', () => {
  it('a TiDBGroup is a tenant; TiDBGroups labelled tidb-mesh.io/tenant form one; TiProxyGroups join by labels (1:1 and 1:N)', () => {
    const t = discover(examples());
    expect(t.findings).toEqual([]);
    expect(t.tenants.map((x) => [x.name, (x.workloads ?? []).map((w) => `${w.component}:${w.name}`)])).toEqual([
      ['acme', ['tidb:acme', 'tiproxy:acme-proxy']],
      ['globex', ['tidb:globex-olap', 'tidb:globex-oltp', 'tiproxy:globex-proxy']],
    ]);
    expect(t.tenants[1].tenantLabels).toEqual({ customer: 'globex' });
  });

  it('generates one plugin per workload; a TiProxy gets its tenant\'s keyspace on PD/etcd only; all validate against the WasmPlugin schema', async () => {
    const r = await generate(examples());
    expect(r.code).toBe(0);
    const plugins = r.out.filter((o) => o.kind === 'WasmPlugin');
    expect(plugins.map((p) => p.metadata.name)).toEqual(['tidb-mesh-acme', 'tidb-mesh-acme-proxy-tiproxy', 'tidb-mesh-globex-olap', 'tidb-mesh-globex-oltp', 'tidb-mesh-globex-proxy-tiproxy']);
    for (const p of plugins) expect(() => new WasmPlugin(p).validate()).not.toThrow();
    const proxy = named(plugins, 'WasmPlugin', 'tidb-mesh-globex-proxy-tiproxy');
    expect(proxy.metadata.labels).toMatchObject({ 'tidb-mesh.io/tenant': 'globex', 'tidb-mesh.io/keyspace-id': '2', 'tidb-mesh.io/component': 'tiproxy' });
    expect(proxy.spec.selector.matchLabels).toEqual({ 'pingcap.com/cluster': 'shared', 'pingcap.com/component': 'tiproxy', 'pingcap.com/group': 'globex-proxy' });
    expect(proxy.spec.match).toEqual([{ mode: 'CLIENT', ports: [{ number: 2379 }] }]);
    expect(proxy.spec.failStrategy).toBe('FAIL_CLOSE');
    expect(proxy.spec.pluginConfig.tenants).toEqual([{ name: 'globex', keyspaceId: 2,
      match: { namespace: 'tidb', labels: proxy.spec.selector.matchLabels, serviceAccount: 'tiproxy-globex' } }]);
    const tidbs = ['tidb-mesh-globex-olap', 'tidb-mesh-globex-oltp'].map((n) => named(plugins, 'WasmPlugin', n));
    expect(tidbs.map((p) => p.spec.pluginConfig.tenants[0].keyspaceId)).toEqual([2, 2]);
    expect(named(plugins, 'WasmPlugin', 'tidb-mesh-acme-proxy-tiproxy').spec.pluginConfig.tenants[0]).toMatchObject({ name: 'acme', keyspaceId: 1 });
  });

  it('inbound: a tenant is matched by the principals of its TiDB and TiProxy service accounts', async () => {
    const r = await generate(examples(), ['--direction', 'inbound']);
    expect(r.code).toBe(0);
    const pd = r.out.find((o) => o.kind === 'WasmPlugin' && o.metadata.name === 'tidb-mesh-shared-pd-inbound');
    expect(pd.spec.pluginConfig.tenants.map((t: any) => [t.name, t.match.principals])).toEqual([
      ['acme', ['spiffe://cluster.local/ns/tidb/sa/tidb-acme', 'spiffe://cluster.local/ns/tidb/sa/tiproxy-acme']],
      ['globex', ['spiffe://cluster.local/ns/tidb/sa/tidb-globex', 'spiffe://cluster.local/ns/tidb/sa/tiproxy-globex']],
    ]);
    const shared = examples();
    named(shared, 'TiProxyGroup', 'acme-proxy').spec.template.spec.overlay.pod.spec.serviceAccountName = 'tidb-globex';
    const bad = await generate(shared, ['--direction', 'inbound']);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/SHARED_SERVICE_ACCOUNT/);
  });

  it('refuses a TiProxyGroup whose labels reach TiDBs of two tenants, naming both', async () => {
    const objs = examples();
    named(objs, 'TiDBGroup', 'globex-olap').spec.template.spec.server.labels.tenant = 'acme';
    const r = await generate(objs);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/\[error\] TIPROXY_SPANS_TENANTS TiProxyGroup tidb\/acme-proxy: balance.label-name tenant=acme reaches TiDB groups of 2 tenants \(acme of acme, globex-olap of globex\)/);
  });

  it('refuses an ambiguous or contradictory TiProxyGroup; the tidb-mesh.io/tenant label settles a missing association', async () => {
    const objs = examples();
    delete named(objs, 'TiProxyGroup', 'acme-proxy').spec.template.spec.config;
    const r = await generate(objs);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/TIPROXY_TENANT_AMBIGUOUS TiProxyGroup tidb\/acme-proxy/);
    named(objs, 'TiProxyGroup', 'acme-proxy').metadata.labels = { 'tidb-mesh.io/tenant': 'acme' };
    const ok = await generate(objs);
    expect(ok.code).toBe(0);
    expect(ok.stderr).not.toMatch(/\[error\]/);
    named(objs, 'TiProxyGroup', 'acme-proxy').metadata.labels = { 'tidb-mesh.io/tenant': 'globex' };
    named(objs, 'TiProxyGroup', 'acme-proxy').spec.template.spec.config = '[balance]\nlabel-name = "tenant"\n';
    const mismatch = await generate(objs);
    expect(mismatch.code).toBe(3);
    expect(mismatch.stderr).toMatch(/TIPROXY_TENANT_MISMATCH/);
  });

  it('warns when the labels leave one of the tenant\'s TiDBGroups out, and refuses unreadable label config', async () => {
    const objs = examples();
    delete named(objs, 'TiDBGroup', 'globex-olap').spec.template.spec.server;
    const r = await generate(objs);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/\[warning\] TIPROXY_PARTIAL TiProxyGroup tidb\/globex-proxy: tenant globex's TiDBGroups globex-olap lack tenant=globex/);
    named(objs, 'TiProxyGroup', 'globex-proxy').spec.template.spec.config = '[balance]\nlabel-name = tenant\n';
    const bad = await generate(objs);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/TIPROXY_CONFIG_UNREADABLE/);
  });

  it('refuses TiDBGroups of one tenant that pin different keyspace ids', async () => {
    const objs = examples();
    named(objs, 'TiDBGroup', 'globex-oltp').metadata.annotations = { 'tidb-mesh.io/keyspace-id': '7' };
    named(objs, 'TiDBGroup', 'globex-olap').metadata.annotations = { 'tidb-mesh.io/keyspace-id': '8' };
    const r = await generate(objs);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/TENANT_GROUPS_DISAGREE .*keyspace-id annotation: globex-olap=8, globex-oltp=7/);
  });
});

describe('tidb-operator v1: a tenant TidbCluster with spec.tiproxy', () => {
  it('gets a second plugin on its TiProxy pods, PD/etcd port only, same keyspace', async () => {
    const objs: any[] = exampleObjects();
    named(objs, 'TidbCluster', 'cluster1').spec.tiproxy = { baseImage: 'pingcap/tiproxy', replicas: 1, version: 'v1.3.2' };
    const r = await generate(objs);
    expect(r.code).toBe(0);
    const plugins = r.out.filter((o) => o.kind === 'WasmPlugin');
    expect(plugins.map((p) => p.metadata.name)).toEqual(['tidb-mesh-cluster1', 'tidb-mesh-cluster1-tiproxy', 'tidb-mesh-cluster2']);
    const p = named(plugins, 'WasmPlugin', 'tidb-mesh-cluster1-tiproxy');
    expect(p.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/component': 'tiproxy', 'app.kubernetes.io/instance': 'cluster1' });
    expect(p.spec.pluginConfig.tenants[0].keyspaceId).toBe(named(plugins, 'WasmPlugin', 'tidb-mesh-cluster1').spec.pluginConfig.tenants[0].keyspaceId);
    expect(() => new WasmPlugin(p).validate()).not.toThrow();
  });
});
