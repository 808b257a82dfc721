// Istio WasmPlugin (extensions.istio.io/v1alpha1) builders, typed and validated with
// @kubernetes-models/istio. That model (2.3.0, generated from Istio 1.18) predates
// `failStrategy` (Istio 1.19), so the spec type is extended by that one field and the value
// is checked here: only FAIL_CLOSE is ever emitted (FAIL_OPEN would send unprefixed keys).
import { IWasmPlugin, WasmPlugin } from '@kubernetes-models/istio/extensions.istio.io/v1alpha1/WasmPlugin';
import { Labels } from '../types';
import { IstioOptions, PLUGIN_NAME } from './common';

export type WasmPluginSpec = NonNullable<IWasmPlugin['spec']> & { failStrategy: 'FAIL_CLOSE' };
export type WasmPluginObject = Omit<IWasmPlugin, 'spec'> & { spec: WasmPluginSpec; metadata: { name: string; namespace: string; labels: Labels } };

/** Parameters of one WasmPlugin: who it selects, which traffic, which table. */
export interface WasmPluginParams {
  name: string;
  namespace: string;
  labels: Labels;
  selector: Labels;
  mode: 'CLIENT' | 'SERVER';
  ports: number[];
  pluginConfig: object;
}

/**
 * Builds and validates a WasmPlugin. Throws (model validation error) if the result does not
 * satisfy the Istio CRD schema of the model library.
 */
export function buildWasmPlugin(p: WasmPluginParams, o: IstioOptions): WasmPluginObject {
  const spec: WasmPluginSpec = {
    selector: { matchLabels: { ...p.selector } },
    url: o.artifact.url,
    sha256: o.artifact.sha256,
    pluginName: PLUGIN_NAME,
    phase: o.phase,
    failStrategy: 'FAIL_CLOSE',
    match: [{ mode: p.mode, ports: [...p.ports].sort((a, b) => a - b).map((number) => ({ number })) }],
    pluginConfig: p.pluginConfig,
  };
  if (o.imagePullPolicy) spec.imagePullPolicy = o.imagePullPolicy;
  if (o.imagePullSecret) spec.imagePullSecret = o.imagePullSecret;
  const model = new WasmPlugin({
    metadata: { name: p.name, namespace: p.namespace, labels: p.labels },
    spec,
  });
  model.validate();
  if ((model.spec as WasmPluginSpec).failStrategy !== 'FAIL_CLOSE') throw new Error('WasmPlugin failStrategy must be FAIL_CLOSE');
  return model.toJSON() as unknown as WasmPluginObject;
}
