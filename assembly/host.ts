// The only module that touches the proxy-wasm ABI. Everything else in the filter works on
// plain memory and is testable with bytes. Host calls here never throw: a failed call
// returns a status or an empty value, because a trap would fail every stream on the worker.
import * as imports from "@solo-io/proxy-runtime/imports";
import { free } from "@solo-io/proxy-runtime/malloc";

// Why our own import: @solo-io/proxy-runtime 0.1.8 never imports proxy_set_buffer_bytes, and
// its proxy_set_buffer_status is bound to the host's proxy_get_buffer_status.
// @ts-ignore: decorator
@external("env", "proxy_set_buffer_bytes")
declare function proxy_set_buffer_bytes(bufferType: u32, start: u32, length: u32, data: usize, size: usize): u32;

export const WASM_OK: u32 = 0;
export const WASM_NOT_FOUND: u32 = 1;

export const BUFFER_REQUEST_BODY: u32 = 0;
export const BUFFER_RESPONSE_BODY: u32 = 1;
export const BUFFER_PLUGIN_CONFIGURATION: u32 = 7;

export const HEADERS_REQUEST: u32 = 0;
export const HEADERS_RESPONSE: u32 = 2;
export const TRAILERS_RESPONSE: u32 = 3;

export const LOG_DEBUG: u32 = 1;
export const LOG_INFO: u32 = 2;
export const LOG_WARN: u32 = 3;
export const LOG_ERROR: u32 = 4;

// Out-parameters the host fills in: [0] a pointer it got from our exported malloc, [4] a size.
const outParams: usize = __alloc(16, 0);

/**
 * Copies the host-allocated block described by outParams into a fresh ArrayBuffer and frees
 * the block. Why a copy: the block came from our exported malloc with one reference held
 * for the host; turning the raw pointer into a managed reference with changetype and then
 * releasing it (as the SDK's toArrayBuffer does) leaves a dangling reference under
 * AssemblyScript 0.14's reference counting, and the caller's later release corrupts the heap.
 */
function takeResult(): ArrayBuffer {
  const ptr = load<usize>(outParams);
  const size = load<usize>(outParams, 4);
  if (ptr == 0) return new ArrayBuffer(0);
  const buf = new ArrayBuffer(<i32>size);
  memory.copy(changetype<usize>(buf), ptr, size);
  free(ptr);
  return buf;
}

export function log(level: u32, message: string): void {
  const b = String.UTF8.encode(message);
  imports.proxy_log(level, changetype<usize>(b), b.byteLength);
}

/**
 * Reads a property whose path segments are joined with NUL (Envoy splits on '\0').
 * Returns null when the host says NOT_FOUND or anything else goes wrong; never throws,
 * unlike the SDK's get_property.
 */
export function getProperty(segments: Array<string>): ArrayBuffer | null {
  const path = String.UTF8.encode(segments.join("\0"));
  store<usize>(outParams, 0);
  store<usize>(outParams, 0, 4);
  const r = imports.proxy_get_property(changetype<usize>(path), path.byteLength, outParams, outParams + 4);
  if (r != WASM_OK) return null;
  return takeResult();
}

export function getPropertyString(segments: Array<string>): string | null {
  const b = getProperty(segments);
  if (b === null) return null;
  return String.UTF8.decode(b as ArrayBuffer);
}

/**
 * Reads node metadata KEY (and deeper segments, e.g. LABELS.app) from `xds.node.metadata`
 * (Envoy since 2024) and falls back to `node.metadata` (older Envoy).
 */
export function getNodeMetadata(segments: Array<string>): string | null {
  const a = new Array<string>();
  a.push("xds"); a.push("node"); a.push("metadata");
  for (let i = 0; i < segments.length; i++) a.push(segments[i]);
  const v = getPropertyString(a);
  if (v !== null) return v;
  const b = new Array<string>();
  b.push("node"); b.push("metadata");
  for (let i = 0; i < segments.length; i++) b.push(segments[i]);
  return getPropertyString(b);
}

/** The plugin configuration bytes as a string ("" when absent). */
export function getPluginConfiguration(size: u32): string {
  if (size == 0) return "";
  store<usize>(outParams, 0);
  store<usize>(outParams, 0, 4);
  const r = imports.proxy_get_buffer_bytes(BUFFER_PLUGIN_CONFIGURATION, 0, size, outParams, outParams + 4);
  if (r != WASM_OK) return "";
  return String.UTF8.decode(takeResult());
}

/**
 * Fetches [0, length) of a body buffer into guest memory. Returns the pointer (to be given
 * back with releaseBody) or 0 when the host returned nothing.
 */
export function getBody(bufferType: u32, length: u32): usize {
  store<usize>(outParams, 0);
  store<usize>(outParams, 0, 4);
  const r = imports.proxy_get_buffer_bytes(bufferType, 0, length, outParams, outParams + 4);
  if (r != WASM_OK) return 0;
  return load<usize>(outParams);
}

/** Size actually returned by the last getBody. */
export function lastBodySize(): usize { return load<usize>(outParams, 4); }

export function releaseBody(ptr: usize): void { if (ptr != 0) free(ptr); }

/**
 * Replaces the whole current body chunk of `length` bytes with [data, data+size).
 * Why start 0 and the full length: Envoy's proxy_set_buffer_bytes only drains-then-prepends
 * at start 0, or appends at start >= length; anything in between is BAD_ARGUMENT.
 */
export function replaceBody(bufferType: u32, length: u32, data: usize, size: usize): u32 {
  return proxy_set_buffer_bytes(bufferType, 0, length, data, size);
}

/**
 * Envoy's shared data: one key-value store per plugin VM id, shared by the VMs of every
 * worker thread. The value of `key`, or null (absent, or the host refused).
 */
export function getSharedData(key: string): ArrayBuffer | null {
  const k = String.UTF8.encode(key);
  store<usize>(outParams, 0);
  store<usize>(outParams, 0, 4);
  const r = imports.proxy_get_shared_data(changetype<usize>(k), k.byteLength, outParams, outParams + 4, outParams + 8);
  if (r != WASM_OK) return null;
  return takeResult();
}

/** Sets shared data `key` (unconditionally: cas 0). A refusal by the host is ignored (the key keeps its old value). */
export function setSharedData(key: string, value: ArrayBuffer): void {
  const k = String.UTF8.encode(key);
  imports.proxy_set_shared_data(changetype<usize>(k), k.byteLength, changetype<usize>(value), value.byteLength, 0);
}

export function getHeader(mapType: u32, name: string): string | null {
  const k = String.UTF8.encode(name);
  store<usize>(outParams, 0);
  store<usize>(outParams, 0, 4);
  const r = imports.proxy_get_header_map_value(mapType, changetype<usize>(k), k.byteLength, outParams, outParams + 4);
  if (r != WASM_OK) return null;
  return String.UTF8.decode(takeResult());
}

/** Sets (replacing) a header or trailer value. */
export function replaceHeader(mapType: u32, name: string, value: string): void {
  const k = String.UTF8.encode(name);
  const v = String.UTF8.encode(value);
  imports.proxy_replace_header_map_value(mapType, changetype<usize>(k), k.byteLength, changetype<usize>(v), v.byteLength);
}

export function removeHeader(mapType: u32, name: string): void {
  const k = String.UTF8.encode(name);
  imports.proxy_remove_header_map_value(mapType, changetype<usize>(k), k.byteLength);
}

/**
 * Ends the call with a gRPC error: HTTP 200, grpc-status and grpc-message (Envoy turns this
 * into a trailers-only response for gRPC requests; after response headers went out it
 * resets the stream instead). `details` must not contain spaces (Envoy response code details).
 */
export function sendGrpcError(grpcStatus: u32, message: string, details: string): u32 {
  const d = String.UTF8.encode(details);
  const body = String.UTF8.encode(message);
  // No extra headers: Envoy writes grpc-status from `grpcStatus` and a percent-encoded
  // grpc-message from the body text itself for gRPC requests.
  const headers = new ArrayBuffer(4);
  store<u32>(changetype<usize>(headers), 0);
  return imports.proxy_send_local_response(200, changetype<usize>(d), d.byteLength,
    changetype<usize>(body), body.byteLength, changetype<usize>(headers), headers.byteLength, grpcStatus);
}

/**
 * Ends a plain HTTP call with a local reply: `status`, `body`, and one content-type header
 * (Envoy keeps a content-type set by the filter and adds content-length). grpc_status -1
 * (u32.MAX_VALUE): no grpc-status header (Envoy maps values outside 0..16 to none). After
 * the response headers went out Envoy can only reset the stream, which the client sees as an
 * error too. `details` must not contain spaces.
 */
export function sendHttpResponse(status: u32, body: string, contentType: string, details: string): u32 {
  const d = String.UTF8.encode(details);
  const b = String.UTF8.encode(body);
  const k = String.UTF8.encode("content-type");
  const v = String.UTF8.encode(contentType);
  // proxy-wasm pairs: count, then (key length, value length) per pair, then key\0value\0.
  const kl = k.byteLength, vl = v.byteLength;
  const headers = new ArrayBuffer(4 + 8 + kl + 1 + vl + 1);
  const h = changetype<usize>(headers);
  store<u32>(h, 1);
  store<u32>(h, kl, 4);
  store<u32>(h, vl, 8);
  memory.copy(h + 12, changetype<usize>(k), kl);
  store<u8>(h + 12 + kl, 0);
  memory.copy(h + 13 + kl, changetype<usize>(v), vl);
  store<u8>(h + 13 + kl + vl, 0);
  return imports.proxy_send_local_response(status, changetype<usize>(d), d.byteLength,
    changetype<usize>(b), b.byteLength, h, headers.byteLength, u32.MAX_VALUE);
}

/** grpc-message is percent-encoded (gRPC over HTTP/2): printable ASCII except '%' stays. */
export function percentEncode(s: string): string {
  let out = "";
  const hex = "0123456789ABCDEF";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e && c != 0x25) out += String.fromCharCode(c);
    else {
      const b = c & 0xff;
      out += "%" + hex.charAt(b >> 4) + hex.charAt(b & 15);
    }
  }
  return out;
}

export const METRIC_COUNTER: u32 = 0;

/** Defines a counter; returns its id, or u32.MAX_VALUE when the host refused. */
export function defineCounter(name: string): u32 {
  const n = String.UTF8.encode(name);
  store<u32>(outParams, 0);
  const r = imports.proxy_define_metric(METRIC_COUNTER, changetype<usize>(n), n.byteLength, outParams);
  if (r != WASM_OK) return u32.MAX_VALUE;
  return load<u32>(outParams);
}

export function incrementCounter(id: u32, by: i64): void {
  if (id != u32.MAX_VALUE) imports.proxy_increment_metric(id, by);
}
