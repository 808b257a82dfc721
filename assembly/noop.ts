// Benchmark baseline (b): a pass-through filter on the same SDK and runtime as the real one
// (root id "tidb-mesh"), so Envoy-with-noop vs Envoy-with-tidb-mesh isolates the cost of
// decorating from the cost of having any AssemblyScript proxy-wasm filter at all. It reads
// no configuration, touches no headers or bodies and logs nothing.
export * from "@solo-io/proxy-runtime/proxy";
import {
  RootContext, Context, registerRootContext, FilterDataStatusValues, FilterHeadersStatusValues,
} from "@solo-io/proxy-runtime";

class NoopStream extends Context {
  constructor(context_id: u32, root: RootContext) { super(context_id, root); }
  onRequestHeaders(_headers: u32, _endOfStream: bool): FilterHeadersStatusValues { return FilterHeadersStatusValues.Continue; }
  onRequestBody(_length: usize, _endOfStream: bool): FilterDataStatusValues { return FilterDataStatusValues.Continue; }
  onResponseHeaders(_headers: u32, _endOfStream: bool): FilterHeadersStatusValues { return FilterHeadersStatusValues.Continue; }
  onResponseBody(_length: usize, _endOfStream: bool): FilterDataStatusValues { return FilterDataStatusValues.Continue; }
}

class NoopRoot extends RootContext {
  createContext(context_id: u32): Context { return new NoopStream(context_id, this); }
  onConfigure(_configuration_size: u32): bool { return true; }
}

function createRoot(context_id: u32): RootContext { return new NoopRoot(context_id); }

registerRootContext(createRoot, "tidb-mesh");
