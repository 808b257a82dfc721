// Shared pieces of the Istio builders: ports, labels on generated objects, artifact reference.
import { Labels } from '../types';

export const PD_PORT = 2379;
export const TIKV_PORT = 20160;
/** Root id the filter registers (registerRootContext(..., "tidb-mesh")) = WasmPlugin pluginName. */
export const PLUGIN_NAME = 'tidb-mesh';
export const FIELD_MANAGER = 'tidb-mesh';

/** The built filter module: where Istio fetches it and its digest. */
export interface Artifact {
  /** oci://, https:// (or http://) or file:// (path inside the istio-proxy container). */
  url: string;
  /** 64 lowercase hex digits: the module's sha256 (for oci:// the image digest). */
  sha256: string;
}

export type Phase = 'UNSPECIFIED_PHASE' | 'AUTHN' | 'AUTHZ' | 'STATS';

/** Options every Istio builder takes. */
export interface IstioOptions {
  artifact: Artifact;
  phase: Phase;
  imagePullPolicy?: 'IfNotPresent' | 'Always';
  imagePullSecret?: string;
}

/** Labels put on every generated object (plus tenant/storage specifics by the caller). */
export function managedLabels(extra: Labels): Labels {
  return { 'app.kubernetes.io/managed-by': 'tidb-mesh', 'app.kubernetes.io/part-of': 'tidb-mesh', ...extra };
}
