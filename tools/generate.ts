// Pure generation: topology + resolved registry + options -> Istio/Kubernetes objects.
// IO (reading inputs, allocating ids, writing the registry) happens before, in the commands.
import { assertOneDirection, Direction } from './direction';
import { buildEnvoyFilter } from './istio/envoyfilter';
import { buildPdPeerService } from './istio/pd-peer';
import { buildPeerAuthentication } from './istio/security';
import { buildWasmPlugin } from './istio/wasmplugin';
import { Artifact, IstioOptions, managedLabels, PD_PORT, Phase, TIKV_PORT } from './istio/common';
import { boundedName } from './naming';
import { inboundConfig, outboundConfig } from './plugin-config';
import { findRecord, Registry, TenantRecord } from './registry';
import { sortObjects } from './render';
import { storageKey, workloadsOf } from './tidb/topology';
import { KubeObject, Labels, TenantSource, Topology, Workload } from './types';

export type OutputKind = 'wasmplugin' | 'envoyfilter';
/** Which side of a storage layer's traffic runs the filter (exactly one; see direction.ts). */
export type { Direction };

/** Everything generation needs besides the inputs. */
export interface GenerateOptions {
  artifact: Artifact;
  kind: OutputKind;
  phase: Phase;
  trustDomain: string;
  /**
   * outbound: one plugin per tenant on its TiDB pods (CLIENT / SIDECAR_OUTBOUND). inbound: the
   * PD and TiKV plugins (SERVER / SIDECAR_INBOUND) keyed by mTLS principal, plus a STRICT
   * PeerAuthentication. Never both.
   */
  direction: Direction;
  /** Emit the pd-peer appProtocol override for v1 storage layers. */
  pdPeerRemedy: boolean;
  /** Extra inbound passthrough principals (admin tools such as BR or TiCDC). */
  passthrough: string[];
  imagePullPolicy?: 'IfNotPresent' | 'Always';
  imagePullSecret?: string;
}

/** Chooses the output kind for an Istio version "1.x": WasmPlugin needs `match` (1.16+). */
export function kindForIstio(version: string): OutputKind {
  const m = /^v?(\d+)\.(\d+)/.exec(version.trim());
  if (!m) throw new Error(`cannot parse Istio version "${version}" (expected e.g. 1.22)`);
  const [maj, min] = [Number(m[1]), Number(m[2])];
  return maj > 1 || (maj === 1 && min >= 16) ? 'wasmplugin' : 'envoyfilter';
}

function tenantObjectLabels(t: TenantSource, rec: TenantRecord): Labels {
  const l: Labels = { 'tidb-mesh.io/tenant': t.name, 'tidb-mesh.io/storage-layer': t.storageRef.name, 'tidb-mesh.io/keyspace-id': String(rec.keyspaceId) };
  for (const [k, v] of Object.entries(rec.labels)) l[`tenant.tidb-mesh.io/${k}`] = v;
  return managedLabels(l);
}

/**
 * `tidb-mesh-<workload>` for a TiDB workload (the v1 TidbCluster or v2 TiDBGroup name, so a
 * tenant of one group keeps `tidb-mesh-<tenant>`), `tidb-mesh-<workload>-tiproxy` for a TiProxy
 * (v1: `tidb-mesh-<tc>-tiproxy`). Capped at 63 characters.
 */
export function workloadPluginName(w: Workload): string {
  return boundedName(`tidb-mesh-${w.name}${w.component === 'tiproxy' ? '-tiproxy' : ''}`);
}

/**
 * Builds exactly one enforcement direction. outbound: per tenant workload (TiDB, TiProxy), the
 * WasmPlugin (or EnvoyFilter) selecting its pods. inbound: per storage layer, the PD and TiKV plugins and a
 * STRICT PeerAuthentication. Both: (v1) the pd-peer Service override per storage layer. Every tenant must have an active registry record (throws otherwise);
 * run the safety checks first. Objects come back in render order; object names are capped at 63
 * characters with a hash suffix.
 */
export function generate(t: Topology, registry: Registry, o: GenerateOptions): KubeObject[] {
  const io: IstioOptions = { artifact: o.artifact, phase: o.phase, imagePullPolicy: o.imagePullPolicy, imagePullSecret: o.imagePullSecret };
  const out: KubeObject[] = [];
  const recOf = (x: TenantSource) => {
    const r = findRecord(registry, x.namespace, x.name);
    if (!r || r.state !== 'active') throw new Error(`internal: tenant ${x.namespace}/${x.name} has no active registry record`);
    return r;
  };
  const emit = (p: { name: string; namespace: string; labels: Labels; selector: Labels; client: boolean; ports: number[]; pluginConfig: object }) => {
    if (o.kind === 'wasmplugin') {
      out.push(buildWasmPlugin({ ...p, mode: p.client ? 'CLIENT' : 'SERVER' }, io) as unknown as KubeObject);
    } else {
      out.push(buildEnvoyFilter({ ...p, context: p.client ? 'SIDECAR_OUTBOUND' : 'SIDECAR_INBOUND' }, io) as unknown as KubeObject);
    }
  };
  for (const x of t.tenants) {
    const rec = recOf(x);
    if (o.direction !== 'outbound') continue;
    // One plugin per workload (Istio selects by matchLabels only): the TiDBs, and a TiProxy in
    // front of them, which reaches PD's etcd only (2379) and gets the same tenant table.
    for (const w of workloadsOf(x)) {
      const labels = tenantObjectLabels(x, rec);
      if (w.component === 'tiproxy') labels['tidb-mesh.io/component'] = 'tiproxy';
      emit({ name: workloadPluginName(w), namespace: x.namespace, labels, selector: w.podSelector, client: true,
        ports: w.component === 'tiproxy' ? [PD_PORT] : [PD_PORT, TIKV_PORT], pluginConfig: outboundConfig(x, rec, w) });
    }
  }
  for (const s of t.storageLayers) {
    const tenants = t.tenants.filter((x) => storageKey(x.storageRef) === storageKey(s)).map((x) => ({ t: x, rec: recOf(x) }));
    const labels = managedLabels({ 'tidb-mesh.io/storage-layer': s.name });
    if (o.pdPeerRemedy && s.pdPeerService) out.push(buildPdPeerService(s.name, s.namespace) as unknown as KubeObject);
    if (o.direction !== 'inbound') continue;
    const cfg = inboundConfig(s, tenants, o.trustDomain, o.passthrough);
    emit({ name: boundedName(`tidb-mesh-${s.name}-pd-inbound`), namespace: s.namespace, labels, selector: s.pdSelector, client: false, ports: [PD_PORT], pluginConfig: cfg });
    emit({ name: boundedName(`tidb-mesh-${s.name}-tikv-inbound`), namespace: s.namespace, labels, selector: s.tikvSelector, client: false, ports: [TIKV_PORT], pluginConfig: cfg });
    out.push(buildPeerAuthentication(boundedName(`tidb-mesh-${s.name}-strict`), s.namespace, labels, s.podSelector) as unknown as KubeObject);
  }
  assertOneDirection(out);
  const names = out.map((x) => `${x.kind}/${x.metadata.namespace}/${x.metadata.name}`);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new Error(`internal: two generated objects are named ${dup}`);
  return sortObjects(out);
}
