// Wiring only: the SDK's ABI exports and the root context registration.
export * from "@solo-io/proxy-runtime/proxy";
import { RootContext, registerRootContext } from "@solo-io/proxy-runtime";
import { MeshRoot } from "./filter/root";

/** The Envoy/Istio root id (WasmPlugin.pluginName). */
export const ROOT_ID = "tidb-mesh";

function createRoot(context_id: u32): RootContext {
  return new MeshRoot(context_id);
}

registerRootContext(createRoot, "tidb-mesh");
