// Wiring only: the proxy-wasm 0.2.0 ABI entry points, dispatched to our own contexts.
//
// Why not the SDK's dispatch (@solo-io/proxy-runtime/proxy): on every new stream it builds
// debug log strings of every open context id (context_map.keys().join), O(open streams) per
// call, and it logs more debug strings in onDone/onDelete/onLog; Envoy drops them by level
// only after the guest built them (docs/performance.md). Here: two maps, no logging.
// Host calls stay in host.ts; the SDK still provides malloc/free (the host allocates guest
// memory through them) and abort_proc_exit (the build's --use abort=abort_proc_exit).
import "@solo-io/proxy-runtime/runtime";
import { MeshRoot } from "./filter/root";
import { StreamContext } from "./filter/stream";
import { METADATA_CONTINUE, DONE_NOW } from "./abi";
import { useSharedLedger } from "./filter/ledger-host";

// The lock ledger lives in Envoy's shared data, seen by the VMs of every worker.
useSharedLedger();

export { malloc, free } from "@solo-io/proxy-runtime/malloc";

/** The Envoy/Istio root id (WasmPlugin.pluginName). */
export const ROOT_ID = "tidb-mesh";

// Envoy context ids are unique across root and stream contexts. A root context per plugin
// configuration (a new configuration may come with a new root; the old one is deleted after),
// a stream context per HTTP stream. Only "tidb-mesh" is registered, so every root is a MeshRoot
// (the SDK looked the class up by the plugin_root_id property).
const roots = new Map<u32, MeshRoot>();
const streams = new Map<u32, StreamContext>();

function ensureRoot(root_context_id: u32): MeshRoot {
  if (roots.has(root_context_id)) return roots.get(root_context_id);
  const root = new MeshRoot(root_context_id);
  roots.set(root_context_id, root);
  return root;
}

export function proxy_abi_version_0_2_0(): void { }

export function proxy_on_vm_start(_root_context_id: u32, _vm_configuration_size: u32): u32 { return 1; }
export function proxy_validate_configuration(_root_context_id: u32, _configuration_size: u32): u32 { return 1; }
/** Returning 0 fails the configuration (Envoy rejects the plugin config). */
export function proxy_on_configure(root_context_id: u32, configuration_size: u32): u32 {
  if (ensureRoot(root_context_id).onConfigure(configuration_size)) return 1;
  return 0;
}
export function proxy_on_tick(_root_context_id: u32): void { }
export function proxy_on_foreign_function(_root_context_id: u32, _function_id: u32, _data_size: u32): void { }
export function proxy_on_queue_ready(_root_context_id: u32, _token: u32): void { }

/** root_context_id 0: a root context; otherwise a stream under that root. */
export function proxy_on_context_create(context_id: u32, root_context_id: u32): void {
  if (root_context_id == 0) {
    ensureRoot(context_id);
    return;
  }
  const root = ensureRoot(root_context_id);
  if (!streams.has(context_id)) streams.set(context_id, root.createContext(context_id));
}

export function proxy_on_request_headers(context_id: u32, headers: u32, end_of_stream: u32): i32 {
  return streams.get(context_id).onRequestHeaders(headers, end_of_stream != 0);
}
export function proxy_on_request_body(context_id: u32, body_buffer_length: u32, end_of_stream: u32): i32 {
  return streams.get(context_id).onRequestBody(body_buffer_length, end_of_stream != 0);
}
export function proxy_on_request_trailers(context_id: u32, trailers: u32): i32 {
  return streams.get(context_id).onRequestTrailers(trailers);
}
export function proxy_on_request_metadata(_context_id: u32, _nelements: u32): i32 { return METADATA_CONTINUE; }
export function proxy_on_response_headers(context_id: u32, headers: u32, end_of_stream: u32): i32 {
  return streams.get(context_id).onResponseHeaders(headers, end_of_stream != 0);
}
export function proxy_on_response_body(context_id: u32, body_buffer_length: u32, end_of_stream: u32): i32 {
  return streams.get(context_id).onResponseBody(body_buffer_length, end_of_stream != 0);
}
export function proxy_on_response_trailers(context_id: u32, trailers: u32): i32 {
  return streams.get(context_id).onResponseTrailers(trailers);
}
export function proxy_on_response_metadata(_context_id: u32, _nelements: u32): i32 { return METADATA_CONTINUE; }

// No HTTP or gRPC calls are made by the filter.
export function proxy_on_http_call_response(_context_id: u32, _token: u32, _headers: u32, _body_size: u32, _trailers: u32): void { }
export function proxy_on_grpc_receive_initial_metadata(_context_id: u32, _token: u32, _headers: u32): void { }
export function proxy_on_grpc_trailing_metadata(_context_id: u32, _token: u32, _trailers: u32): void { }
export function proxy_on_grpc_receive(_context_id: u32, _token: u32, _response_size: u32): void { }
export function proxy_on_grpc_close(_context_id: u32, _token: u32, _status_code: u32): void { }

/** Nothing to finish asynchronously: done now. Cleanup happens in proxy_on_delete. */
export function proxy_on_done(_context_id: u32): u32 { return DONE_NOW; }
export function proxy_on_log(_context_id: u32): void { }

/** The context is gone (not always after proxy_on_done): free the stream's buffers. */
export function proxy_on_delete(context_id: u32): void {
  if (streams.has(context_id)) {
    streams.get(context_id).onDelete();
    streams.delete(context_id);
    return;
  }
  roots.delete(context_id);
}
