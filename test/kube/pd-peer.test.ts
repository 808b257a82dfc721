// The pd-peer remedy against tidb-operator's ownership of `<tc>-pd-peer`, on a real API server:
// the Service is created by a replay of the operator's sync (operator.ts), tidb-mesh patches one
// field, and replayed operator syncs must leave it in place. Before: the remedy repeated the whole
// Service with tidb-mesh labels, which conflicted with the operator's field ownership and was
// replaced at the next sync (the first test shows that, with the old object).
import { ART, examples, kubectl, namespace, run, seed } from './helpers';
import { desiredPdPeer, operatorSync, pdPeer, OPERATOR_MANAGER } from './operator';
import { stringify } from 'yaml';

const port2379 = async (ns: string) => (await pdPeer('storage-layer', ns)).spec!.ports!.find((p) => p.port === 2379)!;

describe('pd-peer remedy vs tidb-operator (replayed sync)', () => {
  it('before: the old remedy (whole Service + tidb-mesh labels) conflicts with the operator and is undone by its next sync', async () => {
    const ns = namespace('pdpeer-old');
    expect(await operatorSync('storage-layer', ns)).toBe('created');
    const old = desiredPdPeer('storage-layer', ns);
    old.metadata!.labels = { 'app.kubernetes.io/managed-by': 'tidb-mesh', 'app.kubernetes.io/part-of': 'tidb-mesh', 'tidb-mesh.io/storage-layer': 'storage-layer' };
    old.spec!.ports![1].appProtocol = 'grpc';
    let conflict = '';
    try { kubectl(['apply', '--server-side', '--field-manager', 'tidb-mesh', '-f', '-'], { input: stringify(old) }); } catch (e) { conflict = String((e as any).stderr); }
    expect(conflict).toMatch(/conflict with "tidb-controller-manager"[\s\S]*\.metadata\.labels\.app\.kubernetes\.io\/managed-by/);
    kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager', 'tidb-mesh', '-f', '-'], { input: stringify(old) });
    expect((await port2379(ns)).appProtocol).toBe('grpc');
    expect(await operatorSync('storage-layer', ns)).toBe('updated');
    expect((await port2379(ns)).appProtocol).toBeUndefined();
  });

  it('after: apply patches only appProtocol; replayed operator syncs change nothing and it stays', async () => {
    const ns = namespace('pdpeer');
    seed(examples(ns));
    // Before the operator created the Service, apply skips the patch and says so (it would create a wrong Service).
    const early = await run(['apply', '--from-cluster', '-n', ns, ...ART]);
    expect(early.code).toBe(0);
    expect(early.stdout).toMatch(/^service\/storage-layer-pd-peer skipped: not created yet by its owner \(tidb-operator\)/m);
    expect((await run(['diff', '--from-cluster', '-n', ns, ...ART])).stdout).toMatch(/~~~ pending Service .*storage-layer-pd-peer/);
    expect(await operatorSync('storage-layer', ns)).toBe('created');
    const a = await run(['apply', '--from-cluster', '-n', ns, ...ART]);
    expect(a.code).toBe(0);
    expect(a.stdout).toMatch(/^service\/storage-layer-pd-peer configured$/m);
    const svc = await pdPeer('storage-layer', ns);
    expect(svc.spec!.ports!.map((p) => [p.name, p.port, p.appProtocol ?? null])).toEqual([['tcp-peer-2380', 2380, null], ['tcp-peer-2379', 2379, 'grpc']]);
    expect(svc.metadata!.labels).toEqual(desiredPdPeer('storage-layer', ns).metadata!.labels);
    const owners = Object.fromEntries(svc.metadata!.managedFields!.map((m) => [m.manager!, JSON.stringify(m.fieldsV1)]));
    expect(Object.keys(owners).sort()).toEqual(['tidb-controller-manager', 'tidb-mesh']);
    expect(owners['tidb-mesh']).toContain('"f:appProtocol"');
    expect(owners['tidb-mesh']).not.toContain('f:labels');
    // The operator's sync, replayed three times: nothing to do, the field stays.
    for (let i = 0; i < 3; i++) expect(await operatorSync('storage-layer', ns)).toBe('unchanged');
    expect((await port2379(ns)).appProtocol).toBe('grpc');
    expect((await run(['diff', '--from-cluster', '-n', ns, ...ART])).code).toBe(0);
    // An operator upgrade that changes the Service replaces the spec: the field is gone, diff
    // shows it, apply restores it without a conflict, and the next sync leaves it.
    const upgraded = desiredPdPeer('storage-layer', ns);
    upgraded.spec!.publishNotReadyAddresses = false;
    expect(await operatorSync('storage-layer', ns, upgraded)).toBe('updated');
    expect((await port2379(ns)).appProtocol).toBeUndefined();
    const d = await run(['diff', '--from-cluster', '-n', ns, ...ART]);
    expect(d.code).toBe(1);
    expect(d.stdout).toMatch(/~~~ change Service .*storage-layer-pd-peer[\s\S]*\+\s+(- )?appProtocol: grpc/);
    expect((await run(['apply', '--from-cluster', '-n', ns, ...ART])).code).toBe(0);
    expect(await operatorSync('storage-layer', ns, upgraded)).toBe('unchanged');
    expect((await port2379(ns)).appProtocol).toBe('grpc');
    expect(OPERATOR_MANAGER).toBe('tidb-controller-manager');
  });
});
