// Benchmark baseline (d): the proxy-wasm cost of rewriting a body at all. Same SDK and root id
// as the real filter; every request and response body chunk is read into the VM
// (proxy_get_buffer_bytes) and written back unchanged (proxy_set_buffer_bytes), through
// host.ts like the real filter, and nothing else. Envoy + this filter vs Envoy + tidb-mesh
// (bench/envoy.js) is the cost of the walk and of tidb-mesh's per-call work; no-op vs this
// is the cost of moving the bytes across the ABI, which any body-rewriting filter pays.
export * from "@solo-io/proxy-runtime/proxy";
import {
  RootContext, Context, registerRootContext, FilterDataStatusValues, FilterHeadersStatusValues,
} from "@solo-io/proxy-runtime";
import { getBody, lastBodySize, releaseBody, replaceBody, BUFFER_REQUEST_BODY, BUFFER_RESPONSE_BODY } from "./host";

function copyBack(buffer: u32, length: usize): void {
  if (length == 0) return;
  const p = getBody(buffer, <u32>length);
  if (p == 0) return;
  replaceBody(buffer, <u32>length, p, lastBodySize());
  releaseBody(p);
}

class CopyBodyStream extends Context {
  constructor(context_id: u32, root: RootContext) { super(context_id, root); }
  onRequestHeaders(_headers: u32, _endOfStream: bool): FilterHeadersStatusValues { return FilterHeadersStatusValues.Continue; }
  onRequestBody(length: usize, _endOfStream: bool): FilterDataStatusValues {
    copyBack(BUFFER_REQUEST_BODY, length);
    return FilterDataStatusValues.Continue;
  }
  onResponseHeaders(_headers: u32, _endOfStream: bool): FilterHeadersStatusValues { return FilterHeadersStatusValues.Continue; }
  onResponseBody(length: usize, _endOfStream: bool): FilterDataStatusValues {
    copyBack(BUFFER_RESPONSE_BODY, length);
    return FilterDataStatusValues.Continue;
  }
}

class CopyBodyRoot extends RootContext {
  createContext(context_id: u32): Context { return new CopyBodyStream(context_id, this); }
  onConfigure(_configuration_size: u32): bool { return true; }
}

function createRoot(context_id: u32): RootContext { return new CopyBodyRoot(context_id); }

registerRootContext(createRoot, "tidb-mesh");
