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

/** A tenant TiDB cluster as read from its TidbCluster / TiDBGroup. */
export interface TenantSource {
  operator: 'v1' | 'v2';
  name: string;
  namespace: string;
  source: string;
  /** Referenced storage layer (namespace defaults to the tenant's own). */
  storageRef: { name: string; namespace: string };
  tlsCluster: boolean;
  serviceAccount: string;
  /** Labels the operator puts on this tenant's TiDB pods (WasmPlugin selector). */
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
}

/** Everything discovered in the inputs. */
export interface Topology {
  storageLayers: StorageLayer[];
  tenants: TenantSource[];
  /** Objects that were neither (with the reason), for stderr reporting. */
  ignored: string[];
  findings: Finding[];
}
