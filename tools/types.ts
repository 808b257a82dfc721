// Shared plain types of the manifest tool. No logic here.

/** String map used for Kubernetes labels and selectors. */
export type Labels = Record<string, string>;

/** Minimal shape of any Kubernetes object the tool reads or writes. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Labels;
    annotations?: Labels;
    resourceVersion?: string;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** Severity of a safety finding: errors block output, warnings are printed. */
export type Severity = 'error' | 'warning' | 'info';

/** One safety-check result. `code` is stable (tests and docs refer to it). */
export interface Finding {
  code: string;
  severity: Severity;
  /** "Kind namespace/name" of the input object the finding is about. */
  object: string;
  message: string;
  /** What the operator should do (documented in docs/manifest-tool.md). */
  fix: string;
}

/** A storage layer: one PD + TiKV cluster that tenants share. */
export interface StorageLayer {
  /** tidb-operator API generation the layer came from. */
  operator: 'v1' | 'v2';
  name: string;
  namespace: string;
  /** "TidbCluster tidb/storage-layer" or "Cluster tidb/x" for messages. */
  source: string;
  tlsCluster: boolean;
  pdServiceAccount: string;
  tikvServiceAccount: string;
  pdSelector: Labels;
  tikvSelector: Labels;
  /** Pod selector covering both PD and TiKV pods (PeerAuthentication). */
  podSelector: Labels;
  /** v1 only: the headless `<tc>-pd-peer` Service that Istio sees as TCP. */
  pdPeerService?: string;
  /** The layer itself runs TiDB (it then uses the default keyspace 0). */
  hasOwnTidb: boolean;
  /** TiKV config as written by the user (TOML string or object), for checks. */
  tikvConfig?: unknown;
}

/**
 * One set of pods that acts for a tenant and gets the tenant's outbound filter: its TiDB (a v1
 * TidbCluster's TiDB, a v2 TiDBGroup) or a TiProxy in front of it (v1 `spec.tiproxy`, a v2
 * TiProxyGroup). Each gets its own WasmPlugin (Istio selects workloads by matchLabels only).
 */
export interface Workload {
  component: 'tidb' | 'tiproxy';
  /** "TiProxyGroup tidb/acme-proxy" for messages. */
  source: string;
  /** v2 group name, or the v1 TidbCluster name. */
  name: string;
  /** Labels the operator puts on these pods (WasmPlugin selector, filter match). */
  podSelector: Labels;
  serviceAccount: string;
  /** The component's config as written by the user (TOML string or object), for checks. */
  config?: unknown;
}

/** A tenant TiDB cluster as read from its TidbCluster / TiDBGroup(s). */
export interface TenantSource {
  operator: 'v1' | 'v2';
  name: string;
  namespace: string;
  source: string;
  /** Referenced storage layer (namespace defaults to the tenant's own). */
  storageRef: { name: string; namespace: string };
  tlsCluster: boolean;
  /** Service account of the first TiDB workload. */
  serviceAccount: string;
  /** Labels the operator puts on the first TiDB workload's pods. */
  podSelector: Labels;
  /** Tenant-set labels (from `tenant.tidb-mesh.io/<key>` labels). */
  tenantLabels: Labels;
  keyspaceName: string;
  /** Keyspace id pinned by annotation `tidb-mesh.io/keyspace-id`, if any. */
  pinnedKeyspaceId?: number;
  /** TiDB config as written by the user, for checks. */
  tidbConfig?: unknown;
  /** The object also declares its own PD or TiKV (not a pure tenant). */
  hasOwnStorage: boolean;
  /**
   * Every workload of the tenant, TiDB first (the first is `podSelector`/`serviceAccount`
   * above), then TiProxy. Absent means the one TiDB workload above (read it with workloadsOf).
   */
  workloads?: Workload[];
}

/** Everything discovered in the inputs. */
export interface Topology {
  storageLayers: StorageLayer[];
  tenants: TenantSource[];
  /** Objects that were neither (with the reason), for stderr reporting. */
  ignored: string[];
  findings: Finding[];
}
