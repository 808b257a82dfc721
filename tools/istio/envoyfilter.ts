// EnvoyFilter (networking.istio.io/v1alpha3) equivalent of the WasmPlugin, for meshes without
// WasmPlugin traffic matching (Istio < 1.16) or by choice. Uses the ECDS form: one
// EXTENSION_CONFIG patch holding the Wasm filter (istio-agent then downloads remote modules as it
// does for WasmPlugin) and one HTTP_FILTER patch per port inserting it before the router.
import { EnvoyFilter, IEnvoyFilter } from '@kubernetes-models/istio/networking.istio.io/v1alpha3/EnvoyFilter';
import { stableJson } from '../render';
import { Labels } from '../types';
import { IstioOptions, PLUGIN_NAME } from './common';

const WASM_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm';

export interface EnvoyFilterParams {
  name: string;
  namespace: string;
  labels: Labels;
  selector: Labels;
  context: 'SIDECAR_OUTBOUND' | 'SIDECAR_INBOUND';
  ports: number[];
  pluginConfig: object;
}

/** Envoy `vm_config.code` for the artifact: local file for file://, remote + sha256 otherwise. */
function code(o: IstioOptions): Record<string, unknown> {
  const { url, sha256 } = o.artifact;
  if (url.startsWith('file://')) return { local: { filename: url.slice('file://'.length) } };
  return { remote: { http_uri: { uri: url, cluster: '_', timeout: '30s' }, sha256 } };
}

/**
 * Builds and validates (with @kubernetes-models/istio) an EnvoyFilter that installs the filter
 * fail-closed (`fail_open: false`, understood by every Envoy that Istio ships) on `ports`.
 */
export function buildEnvoyFilter(p: EnvoyFilterParams, o: IstioOptions): IEnvoyFilter {
  const extName = `tidb-mesh/${p.namespace}.${p.name}`;
  const wasm = {
    name: extName,
    typed_config: {
      '@type': WASM_TYPE,
      config: {
        name: extName,
        root_id: PLUGIN_NAME,
        vm_config: { vm_id: PLUGIN_NAME, runtime: 'envoy.wasm.runtime.v8', code: code(o) },
        configuration: { '@type': 'type.googleapis.com/google.protobuf.StringValue', value: stableJson(p.pluginConfig) },
        fail_open: false,
      },
    },
  };
  const configPatches: NonNullable<IEnvoyFilter['spec']>['configPatches'] = [
    { applyTo: 'EXTENSION_CONFIG', patch: { operation: 'ADD', value: wasm } },
    ...[...p.ports].sort((a, b) => a - b).map((portNumber) => ({
      applyTo: 'HTTP_FILTER' as const,
      match: {
        context: p.context,
        listener: { portNumber, filterChain: { filter: { name: 'envoy.filters.network.http_connection_manager', subFilter: { name: 'envoy.filters.http.router' } } } },
      },
      patch: {
        operation: 'INSERT_BEFORE' as const,
        value: { name: extName, config_discovery: { config_source: { ads: {} }, type_urls: [WASM_TYPE] } },
      },
    })),
  ];
  const model = new EnvoyFilter({
    metadata: { name: p.name, namespace: p.namespace, labels: p.labels },
    spec: { workloadSelector: { labels: { ...p.selector } }, configPatches },
  });
  model.validate();
  return model.toJSON() as unknown as IEnvoyFilter;
}
