// TiProxy per tenant against a real kube-apiserver (docs/tiproxy.md): the tidb-operator v2 example
// with TiProxyGroups (manifests/examples/v2-tiproxy.yaml) is stored through the tidb-operator CRDs,
// read live (--from-cluster) by the least-privilege user, and every generated WasmPlugin is
// applied through Istio's own WasmPlugin CRD; a TiProxyGroup reaching two tenants writes nothing.
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { ART, getObject, kubectl, namespace, ROOT, run, seed } from './helpers';

function v2Example(ns: string): any[] {
  const text = fs.readFileSync(path.join(ROOT, 'manifests', 'examples', 'v2-tiproxy.yaml'), 'utf8');
  return text.split(/^---$/m).map((d) => parse(d)).filter(Boolean).map((o: any) => ({ ...o, metadata: { ...o.metadata, namespace: ns } }));
}

const plugins = (ns: string) => JSON.parse(kubectl(['get', 'wasmplugins.extensions.istio.io', '-n', ns, '-o', 'json'])).items;

describe('tidb-operator v2 groups with TiProxyGroups, live', () => {
  it('one plugin per TiDB and TiProxy group, applied through the WasmPlugin CRD; a TiProxy gets its tenant\'s keyspace on 2379', async () => {
    const ns = namespace('tiproxy');
    seed(v2Example(ns));
    const r = await run(['apply', '--from-cluster', '-n', ns, ...ART]);
    expect(r.code).toBe(0);
    const live = plugins(ns);
    expect(live.map((p: any) => p.metadata.name).sort()).toEqual(['tidb-mesh-acme', 'tidb-mesh-acme-proxy-tiproxy', 'tidb-mesh-globex-olap', 'tidb-mesh-globex-oltp', 'tidb-mesh-globex-proxy-tiproxy']);
    const proxy = getObject('wasmplugins.extensions.istio.io', ns, 'tidb-mesh-globex-proxy-tiproxy');
    expect(proxy.spec.selector.matchLabels).toEqual({ 'pingcap.com/cluster': 'shared', 'pingcap.com/component': 'tiproxy', 'pingcap.com/group': 'globex-proxy' });
    expect(proxy.spec.match).toEqual([{ mode: 'CLIENT', ports: [{ number: 2379 }] }]);
    const oltp = getObject('wasmplugins.extensions.istio.io', ns, 'tidb-mesh-globex-oltp');
    expect(proxy.spec.pluginConfig.tenants[0].keyspaceId).toBe(oltp.spec.pluginConfig.tenants[0].keyspaceId);
    expect(proxy.spec.pluginConfig.tenants[0].name).toBe('globex');
  });

  it('a TiProxyGroup whose labels reach two tenants\' TiDBGroups: exit 3, nothing applied', async () => {
    const ns = namespace('tiproxy-span');
    const objs = v2Example(ns);
    objs.find((o) => o.kind === 'TiDBGroup' && o.metadata.name === 'globex-olap').spec.template.spec.server.labels.tenant = 'acme';
    seed(objs);
    const r = await run(['apply', '--from-cluster', '-n', ns, ...ART]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/TIPROXY_SPANS_TENANTS TiProxyGroup .*\/acme-proxy/);
    expect(plugins(ns)).toEqual([]);
  });
});
