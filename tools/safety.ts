// Safety checks on the discovered topology and the generation options. Pure; each finding has a
// stable code, a message and a fix (all documented in docs/manifest-tool.md).
import { isDnsLabel, isLabelValue } from './naming';
import { storageKey, workloadsOf } from './tidb/topology';
import { Finding, StorageLayer, TenantSource, Topology } from './types';

/** Options that influence the checks. */
export interface SafetyOptions {
  failStrategy: string;
  /** The generated direction; the service-account checks only matter for inbound. */
  direction: 'outbound' | 'inbound';
  pdPeerRemedy: boolean;
}

function configMentions(config: unknown, key: RegExp, objKey: string): { set: boolean; value?: unknown } {
  if (typeof config === 'string') {
    const m = new RegExp(`^\\s*${key.source}\\s*=\\s*(.+)$`, 'm').exec(config);
    return m ? { set: true, value: m[1].trim().replace(/^"|"$/g, '') } : { set: false };
  }
  if (config && typeof config === 'object') {
    const path = objKey.split('.');
    let cur: any = config;
    for (const p of path) cur = cur?.[p];
    if (cur === undefined && (config as any)[objKey] !== undefined) cur = (config as any)[objKey];
    return cur === undefined ? { set: false } : { set: true, value: cur };
  }
  return { set: false };
}

/**
 * Runs every check. Errors mean "do not generate": TLS_CLUSTER_ENABLED, FAIL_OPEN_REFUSED,
 * STORAGE_LAYER_MISSING, NAMESPACE_MISMATCH, NAME_TOO_LONG, TENANT_HAS_OWN_STORAGE,
 * TIDB_KEYSPACE_CONFIGURED, PD_PEER_TCP (only when the remedy is disabled),
 * SHARED_SERVICE_ACCOUNT and TENANT_SA_IS_STORAGE (only with --direction inbound).
 * Warnings/info: PD_PEER_REMEDY, TIKV_API_VERSION, STORAGE_HAS_TIDB, NO_TENANTS.
 */
export function checkTopology(t: Topology, o: SafetyOptions): Finding[] {
  const f: Finding[] = [...t.findings];
  const add = (severity: Finding['severity'], code: string, object: string, message: string, fix: string) =>
    f.push({ code, severity, object, message, fix });

  if (o.failStrategy !== 'FAIL_CLOSE') {
    add('error', 'FAIL_OPEN_REFUSED', 'options', `failStrategy ${o.failStrategy} is refused: when the filter fails, traffic would reach TiKV/PD with unprefixed keys (other tenants' data)`,
      'Use FAIL_CLOSE (the default). Availability problems of the filter must be fixed, not bypassed.');
  }
  const layers = new Map(t.storageLayers.map((s) => [storageKey(s), s]));
  for (const s of t.storageLayers) checkStorage(s, o, add);
  for (const x of t.tenants) {
    if (x.tlsCluster) {
      add('error', 'TLS_CLUSTER_ENABLED', x.source, 'spec.tlsCluster.enabled: TiDB talks to PD/TiKV over application TLS; the sidecar sees only ciphertext and cannot add keyspace prefixes',
        'Set spec.tlsCluster.enabled: false on the tenant and its storage layer and rely on Istio mTLS for encryption and identity (STRICT PeerAuthentication; generated with --direction inbound).');
    }
    if (x.hasOwnStorage) {
      add('error', 'TENANT_HAS_OWN_STORAGE', x.source, 'a tenant (spec.cluster.name set) must not declare its own spec.pd or spec.tikv',
        'Remove spec.pd/spec.tikv from the tenant TidbCluster; the storage layer provides them.');
    }
    const layer = layers.get(storageKey(x.storageRef));
    if (!layer) {
      add('error', 'STORAGE_LAYER_MISSING', x.source, `references storage layer ${storageKey(x.storageRef)}, which is not among the inputs (or has no PD+TiKV)`,
        'Include the storage layer TidbCluster in the input (-f) or fix spec.cluster.name/namespace.');
    }
    if (x.namespace !== x.storageRef.namespace) {
      add('error', 'NAMESPACE_MISMATCH', x.source, `tenant is in namespace ${x.namespace} but its storage layer is in ${x.storageRef.namespace}; tidb-operator v1 points TiDB at "<ref>-pd:2379" without a namespace, so it would not reach that PD`,
        `Create the tenant TidbCluster in namespace ${x.storageRef.namespace}. Tenants are isolated by service account and labels, not by namespace.`);
    }
    checkNames(x.source, x.operator === 'v1' ? [`${x.name}-tidb-peer`, `${x.name}-tidb`, `${x.name}-discovery`] : [`${x.name}-tidb-peer`], [x.name], add);
    const ks = workloadsOf(x).filter((w) => w.component === 'tidb').map((w) => configMentions(w.config, /keyspace-name/, 'keyspace-name')).find((c) => c.set);
    if (ks) {
      add('error', 'TIDB_KEYSPACE_CONFIGURED', x.source, 'TiDB config sets keyspace-name: TiDB would prefix keys itself and the filter would prefix them again',
        'Remove keyspace-name from the tenant\'s TiDB config; the sidecar filter assigns the keyspace.');
    }
  }
  if (o.direction === 'inbound') {
    // Every workload (TiDB, TiProxy) of a tenant is identified by its service account.
    const bySa = new Map<string, TenantSource[]>();
    for (const x of t.tenants) {
      for (const sa of new Set(workloadsOf(x).map((w) => w.serviceAccount))) {
        const k = `${x.namespace}/${sa}`;
        bySa.set(k, [...(bySa.get(k) ?? []), x]);
        const layer = layers.get(storageKey(x.storageRef));
        if (layer && layer.namespace === x.namespace && [layer.pdServiceAccount, layer.tikvServiceAccount].includes(sa)) {
          add('error', 'TENANT_SA_IS_STORAGE', x.source, `tenant TiDB or TiProxy runs as service account ${sa}, which the storage layer's PD/TiKV also use: the inbound filter would pass it through unprefixed`,
            'Give the tenant its own service account (spec.tidb.serviceAccount / TiDBGroup or TiProxyGroup overlay serviceAccountName).');
        }
      }
    }
    for (const [sa, xs] of bySa) {
      if (xs.length > 1) {
        add('error', 'SHARED_SERVICE_ACCOUNT', xs.map((x) => x.source).join(', '), `tenants share service account ${sa}; the inbound filter identifies tenants by mTLS principal and cannot tell them apart`,
          'Give each tenant TiDB its own service account (spec.tidb.serviceAccount), or generate with --direction outbound (weaker trust: the tenant pod\'s own metadata).');
      }
    }
  }
  if (t.tenants.length === 0) add('warning', 'NO_TENANTS', 'inputs', 'no tenant TidbClusters (spec.cluster.name) found; nothing to generate for TiDB', 'Check the input files / namespace.');
  return f;
}

function checkStorage(s: StorageLayer, o: SafetyOptions, add: (sev: Finding['severity'], code: string, object: string, message: string, fix: string) => void): void {
  if (s.tlsCluster) {
    add('error', 'TLS_CLUSTER_ENABLED', s.source, 'spec.tlsCluster.enabled: PD/TiKV expect application TLS from TiDB; the sidecar cannot rewrite TLS-encrypted gRPC',
      'Set spec.tlsCluster.enabled: false and rely on Istio mTLS (STRICT PeerAuthentication; generated with --direction inbound).');
  }
  if (s.pdPeerService) {
    if (o.pdPeerRemedy) {
      add('info', 'PD_PEER_REMEDY', s.source, `Service ${s.pdPeerService} names port 2379 "tcp-peer-2379" (Istio: TCP); generated a patch adding only appProtocol: grpc to that port so TiDB->PD leader traffic passes the filter`,
        '`tidb-mesh apply` patches it once tidb-operator has created the Service (with kubectl: `kubectl apply --server-side --field-manager tidb-mesh`, only after that); an operator upgrade that rewrites the Service drops it: `tidb-mesh diff` shows it, `apply` restores it.');
    } else {
      add('error', 'PD_PEER_TCP', s.source, `Service ${s.pdPeerService} names port 2379 "tcp-peer-2379": Istio treats TiDB->PD leader traffic as TCP and the filter never sees it (unprefixed PD requests)`,
        'Drop --no-pd-peer-remedy so the appProtocol: grpc override is generated, or set it on the Service yourself.');
    }
  }
  checkNames(s.source, s.operator === 'v1' ? [`${s.name}-pd-peer`, `${s.name}-tikv-peer`, `${s.name}-pd`] : [`${s.name}-pd`], [s.name], add);
  const api = configMentions(s.tikvConfig, /api-version/, 'storage.api-version');
  if (!api.set || String(api.value) !== '2') {
    add('warning', 'TIKV_API_VERSION', s.source, `TiKV config does not set storage.api-version = 2${api.set ? ` (found ${String(api.value)})` : ''}; keyspace-prefixed requests need API v2`,
      'Add `[storage]\\napi-version = 2\\nenable-ttl = true` to spec.tikv.config (only possible on a new, empty cluster).');
  }
  if (s.hasOwnTidb) {
    add('warning', 'STORAGE_HAS_TIDB', s.source, o.direction === 'inbound'
      ? 'the storage layer runs its own TiDB; it is neither a tenant nor passthrough, so the inbound filter denies it'
      : 'the storage layer runs its own TiDB; with --direction outbound it has no filter and reads and writes outside every tenant keyspace',
      `Remove spec.tidb from the storage layer and create a tenant TidbCluster instead${o.direction === 'inbound' ? ', or add its principal with --passthrough' : ''}.`);
  }
}

function checkNames(source: string, serviceNames: string[], labelValues: string[],
  add: (sev: Finding['severity'], code: string, object: string, message: string, fix: string) => void): void {
  for (const n of serviceNames) {
    if (!isDnsLabel(n)) {
      add('error', 'NAME_TOO_LONG', source, `derived Service name "${n}" is not a valid DNS-1123 label of at most 63 characters`,
        'Use a shorter TidbCluster name (at most 53 characters keeps every operator-derived name valid).');
      return;
    }
  }
  for (const v of labelValues) {
    if (!isLabelValue(v)) {
      add('error', 'NAME_TOO_LONG', source, `"${v}" cannot be a label value (at most 63 characters), so no selector can match its pods`,
        'Use a shorter TidbCluster name.');
    }
  }
}
