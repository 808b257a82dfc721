// One enforcement direction per storage layer: a call through an outbound (CLIENT) and an inbound
// (SERVER) tidb-mesh filter is prefixed twice, so no output may ever hold both for one storage
// layer. Checked on the raw output (match[].mode / configPatches[].match.context), independently
// of tools/direction.ts, for both directions x both kinds, with two storage layers; plus units of
// the helpers that find leftovers of the other direction.
import * as path from 'path';
import { assertOneDirection, directionsOf, otherDirection } from '../../tools/direction';
import { docs, EXAMPLES, exampleObjects, run, SHA, tmpdir, writeYaml } from './helpers';

const ART = ['--url', 'oci://registry.example/tidb-mesh:1', '--sha256', SHA];

/** Modes (CLIENT/SERVER) of the tidb-mesh plugins in `objs`, per storage layer "ns/name". */
function modesByLayer(objs: any[]): Map<string, Set<string>> {
  const m = new Map<string, Set<string>>();
  for (const o of objs) {
    if (o.metadata?.labels?.['app.kubernetes.io/managed-by'] !== 'tidb-mesh') continue;
    const modes: string[] = o.kind === 'WasmPlugin' ? o.spec.match.map((x: any) => x.mode)
      : o.kind === 'EnvoyFilter' ? o.spec.configPatches.filter((p: any) => p.match).map((p: any) => (p.match.context === 'SIDECAR_OUTBOUND' ? 'CLIENT' : 'SERVER'))
        : [];
    if (!modes.length) continue;
    const layer = `${o.metadata.namespace}/${o.metadata.labels['tidb-mesh.io/storage-layer']}`;
    m.set(layer, new Set([...(m.get(layer) ?? []), ...modes]));
  }
  return m;
}

/** The examples plus a second storage layer (namespace tidb2) with one tenant. */
function twoLayers(): string {
  const objs = exampleObjects() as any[];
  const extra = JSON.parse(JSON.stringify(objs)).slice(0, 2);
  for (const o of extra) o.metadata.namespace = 'tidb2';
  extra[1].spec.cluster.namespace = 'tidb2';
  return writeYaml(tmpdir(), 'tc.yaml', [...objs, ...extra]);
}

describe('one direction per storage layer', () => {
  const f = twoLayers();
  for (const direction of ['outbound', 'inbound']) {
    for (const kind of ['wasmplugin', 'envoyfilter']) {
      it(`--direction ${direction} --kind ${kind}: never CLIENT and SERVER plugins for the same storage layer`, async () => {
        const r = await run(['generate', '-f', f, ...ART, '--direction', direction, '--kind', kind]);
        expect(r.code).toBe(0);
        const objs = docs(r.stdout);
        const byLayer = modesByLayer(objs);
        expect([...byLayer.keys()].sort()).toEqual(['tidb/storage-layer', 'tidb2/storage-layer']);
        for (const modes of byLayer.values()) expect([...modes]).toEqual([direction === 'outbound' ? 'CLIENT' : 'SERVER']);
        // Objects of the other direction are absent altogether; the pd-peer remedy is there in both.
        const kinds = objs.map((o) => o.kind);
        expect(kinds.filter((k) => k === 'PeerAuthentication')).toHaveLength(direction === 'inbound' ? 2 : 0);
        expect(kinds.filter((k) => k === 'Service')).toHaveLength(2);
        expect(() => assertOneDirection(objs)).not.toThrow();
      });
    }
  }
  it('the default is outbound', async () => {
    const r = await run(['generate', '-f', path.join(EXAMPLES, 'tidbclusters.yaml'), ...ART]);
    expect([...modesByLayer(docs(r.stdout)).values()].map((s) => [...s])).toEqual([['CLIENT']]);
  });
});

describe('direction helpers', () => {
  const managed = { 'app.kubernetes.io/managed-by': 'tidb-mesh', 'tidb-mesh.io/storage-layer': 's' };
  const wp = (name: string, mode: string, labels: Record<string, string> = managed) =>
    ({ apiVersion: 'extensions.istio.io/v1alpha1', kind: 'WasmPlugin', metadata: { name, namespace: 'ns', labels }, spec: { match: [{ mode }] } });
  const ef = (name: string, context: string) =>
    ({ apiVersion: 'networking.istio.io/v1alpha3', kind: 'EnvoyFilter', metadata: { name, namespace: 'ns', labels: managed },
      spec: { configPatches: [{ applyTo: 'EXTENSION_CONFIG' }, { match: { context } }] } });
  const pa = { apiVersion: 'security.istio.io/v1beta1', kind: 'PeerAuthentication', metadata: { name: 'p', namespace: 'ns', labels: managed }, spec: {} };

  it('reads the direction from mode / context / kind, only for tidb-mesh objects', () => {
    expect(directionsOf(wp('a', 'CLIENT'))).toEqual(['outbound']);
    expect(directionsOf(wp('a', 'SERVER'))).toEqual(['inbound']);
    expect(directionsOf(ef('a', 'SIDECAR_OUTBOUND'))).toEqual(['outbound']);
    expect(directionsOf(ef('a', 'SIDECAR_INBOUND'))).toEqual(['inbound']);
    expect(directionsOf(pa)).toEqual(['inbound']);
    expect(directionsOf(wp('a', 'SERVER', { 'tidb-mesh.io/storage-layer': 's' }))).toEqual([]);
  });
  it('assertOneDirection throws on both directions for one layer, not across layers', () => {
    expect(() => assertOneDirection([wp('a', 'CLIENT'), ef('b', 'SIDECAR_INBOUND')])).toThrow(/prefixed twice/);
    const other = { ...wp('b', 'SERVER'), metadata: { name: 'b', namespace: 'other', labels: managed } };
    expect(() => assertOneDirection([wp('a', 'CLIENT'), other])).not.toThrow();
  });
  it('otherDirection keeps the other direction of the given layers only', () => {
    const objs = [wp('out', 'CLIENT'), wp('in', 'SERVER'), pa, { ...wp('x', 'SERVER'), metadata: { name: 'x', namespace: 'else', labels: managed } }];
    expect(otherDirection(objs, 'outbound', new Set(['ns/s'])).map((o) => o.metadata.name)).toEqual(['p', 'in']);
    expect(otherDirection(objs, 'inbound', new Set(['ns/s'])).map((o) => o.metadata.name)).toEqual(['out']);
  });
});
