'use strict';
/**
 * proxy-wasm-host.js — a small JavaScript proxy-wasm host (ABI 0.2.x, Envoy semantics) that runs
 * a compiled filter .wasm in Node's WebAssembly (V8, the engine Envoy uses), so tests and
 * benchmarks can drive the real compiled filter ABI call by ABI call without Envoy.
 * CommonJS, no dependencies (Node built-ins only).
 *
 * Modelled on Envoy's source/extensions/common/wasm/context.cc and proxy-wasm-cpp-host's
 * src/exports.cc + src/context.cc. What IS emulated:
 *  - Load: every import is checked against the host table; an unknown import throws at load.
 *    Requires exports `memory`, `malloc` (or proxy_on_memory_allocate) and a proxy_abi_version_*.
 *    Start-up like Envoy: _initialize/_start (if exported), proxy_on_context_create(root, 0),
 *    proxy_on_vm_start(root, vm_config_size), proxy_on_configure(root, plugin_config_size).
 *    Context ids: root = 1, streams 2, 3, ... (Envoy hands out ids from one counter).
 *  - Memory ABI: data is returned by calling the guest's malloc and writing ptr/size (u32 LE) to
 *    the out-params; empty values are returned as (0, 0) without malloc (copyToPointerSize).
 *    Every guest pointer is bounds-checked (InvalidMemoryAccess = 6 on failure).
 *  - Header maps 0..3 (request headers/trailers, response headers/trailers) with Envoy lifetimes:
 *    a map is only reachable while Envoy holds it — request headers during on_request_headers and
 *    afterwards only while headers are stopped (Envoy nulls request_headers_ after Continue);
 *    trailers during the trailers callback; mutating a trailer map from the last (end_of_stream)
 *    body callback creates it (addDecodedTrailers). Unreachable map: get/mutate -> BadArgument,
 *    get_pairs -> Ok + empty. Keys are lower-cased, pseudo-headers are kept first, replace =
 *    remove all + add, get returns the first value, missing key -> NotFound (ABI 0.2).
 *    During on_log the final maps are readable (access-log phase) but not writable.
 *  - Body buffers 0/1: the CURRENT chunk, or — when the previous body callback returned
 *    StopIterationAndBuffer — the accumulated buffer including the current chunk (Envoy's
 *    addDecodedData). set_buffer_bytes: start == 0 drains `length` then prepends, start >= size
 *    appends, else BadArgument. "forwarded" = what Envoy's filter manager passes on after the
 *    callback (chunk on Continue, everything buffered so far on Continue after a stop, nothing
 *    on Stop*). PluginConfiguration(7)/VmConfiguration(6) serve the config bytes (plugin config
 *    only during vm_start/configure, as Envoy's temp_plugin_); set on them -> BadArgument.
 *    HttpCallResponseBody/GrpcReceiveBuffer/Network* -> NotFound (no calls are ever made).
 *  - Status conversion like cpp-host: headers StopIteration(1) -> StopAllIterationAndWatermark(4)
 *    (allow_on_headers_stop_iteration=false), out-of-range codes clamp, and after
 *    proxy_send_local_response the call result is forced to Stop* (stopNextIteration).
 *  - proxy_send_local_response: recorded on the stream (status, details with whitespace -> '_',
 *    body, extra headers, grpc_status or null if outside 0..16) and, like Envoy, the reply is then
 *    sent through this filter's encode path (on_response_headers/on_response_body) — gRPC requests
 *    get a trailers-only reply (:status 200, grpc-status, grpc-message); localReply.sent holds the
 *    final headers/body. Later request/response chunks are not delivered to the filter.
 *  - Properties: NUL-separated path -> bytes. plugin_root_id/plugin_name/plugin_vm_id, node
 *    metadata at xds\0node\0metadata\0<KEY>[\0<sub>...] and/or node\0metadata\0... (option
 *    metadataPaths 'both'|'xds'|'node'), xds\0node\0id|cluster, per-stream
 *    connection\0uri_san_peer_certificate (+ connection\0mtls), extra static/per-stream
 *    properties, proxy_set_property values. Strings are raw UTF-8, numbers 8-byte LE doubles,
 *    booleans 1 byte, objects/arrays proxy-wasm pairs (like CEL maps/lists). Missing -> NotFound.
 *  - Metrics (define/increment/record/get with Envoy's type rules), logs (proxy_log, and WASI
 *    fd_write to stdout/stderr as info/error), time, random, shared data (with CAS), shared queues,
 *    set_effective_context, continue/close stream (recorded), tick period (host.tick()).
 *  - Traps: a WebAssembly.RuntimeError (or guest proc_exit, which we turn into a trap — AssemblyScript
 *    aborts end in `unreachable` anyway) is caught, counted in host.traps, logged in
 *    host.trapLog, and the VM is marked failed (fail closed, like Envoy): the stream gets a 503
 *    local reply (details "wasm_fail_stream", grpc UNAVAILABLE) and Stop*; every later stream is
 *    failed the same way without entering the VM. With {failOpen: true} streams Continue instead.
 *
 * NOT emulated: other filters in the chain and the router (we only model this filter plus the
 * filter manager's buffering), watermarks/buffer limits (no 413), async resumption after
 * proxy_continue_stream (recorded in stream.continued only), proxy_http_call/grpc_* (no clusters:
 * http_call -> BadArgument, grpc -> BadArgument; recorded in host.calls), on_queue_ready delivery,
 * foreign functions (NotFound), request.* / source.* / other CEL attributes unless passed via
 * `properties`, protobuf-serialized messages (xds\0node itself -> Unimplemented), restricted
 * callbacks during malloc, Envoy log-level filtering beyond the `logLevel` option, metric name
 * prefixes ("wasmcustom."), VM reload after failure, multiple worker threads/VMs.
 */

const fs = require('fs');
const crypto = require('crypto');

const WasmResult = Object.freeze({
  Ok: 0, NotFound: 1, BadArgument: 2, SerializationFailure: 3, ParseFailure: 4, BadExpression: 5,
  InvalidMemoryAccess: 6, Empty: 7, CasMismatch: 8, ResultMismatch: 9, InternalFailure: 10,
  BrokenConnection: 11, Unimplemented: 12,
});
const FilterHeadersStatus = Object.freeze({
  Continue: 0, StopIteration: 1, ContinueAndEndStream: 2, StopAllIterationAndBuffer: 3,
  StopAllIterationAndWatermark: 4,
});
const FilterDataStatus = Object.freeze({
  Continue: 0, StopIterationAndBuffer: 1, StopIterationAndWatermark: 2, StopIterationNoBuffer: 3,
});
const FilterTrailersStatus = Object.freeze({ Continue: 0, StopIteration: 1 });
const HeaderMapType = Object.freeze({
  RequestHeaders: 0, RequestTrailers: 1, ResponseHeaders: 2, ResponseTrailers: 3,
  GrpcReceiveInitialMetadata: 4, GrpcReceiveTrailingMetadata: 5, HttpCallResponseHeaders: 6,
  HttpCallResponseTrailers: 7,
});
const BufferType = Object.freeze({
  HttpRequestBody: 0, HttpResponseBody: 1, NetworkDownstreamData: 2, NetworkUpstreamData: 3,
  HttpCallResponseBody: 4, GrpcReceiveBuffer: 5, VmConfiguration: 6, PluginConfiguration: 7,
  CallData: 8,
});
const MetricType = Object.freeze({ Counter: 0, Gauge: 1, Histogram: 2 });
const LogLevel = Object.freeze({ trace: 0, debug: 1, info: 2, warn: 3, error: 4, critical: 5 });

const EMPTY = Buffer.alloc(0);
const R = WasmResult;

/** Thrown by the host for guest proc_exit; treated exactly like a trap. */
class GuestExit extends Error {
  constructor(code) { super(`guest called proc_exit(${code})`); this.name = 'GuestExit'; this.code = code; }
}

function isGuestFault(e) {
  return e instanceof WebAssembly.RuntimeError || e instanceof GuestExit ||
    // V8 reports a stack overflow inside wasm as a RangeError; Envoy sees it as a trap too.
    (e instanceof RangeError && /call stack/i.test(e.message));
}

// ---------------------------------------------------------------------------------------------
// Pure helpers (exported for unit tests).

function toBuf(v) {
  if (v == null) return EMPTY;
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  throw new TypeError('expected Buffer, Uint8Array or string');
}

/**
 * Envoy Buffer::copyFrom semantics for proxy_set_buffer_bytes on a mutable body buffer.
 * Returns {result, buf} (buf is the new buffer content; unchanged on error).
 */
function setBufferBytes(buf, start, length, data) {
  if (start === 0) {
    const rest = length >= buf.length ? EMPTY : buf.subarray(length); // drain clamps like OwnedImpl
    return { result: R.Ok, buf: rest.length ? Buffer.concat([data, rest]) : Buffer.from(data) };
  }
  if (start >= buf.length) return { result: R.Ok, buf: Buffer.concat([buf, data]) };
  return { result: R.BadArgument, buf };
}

/** proxy_get_buffer_bytes range clamping (cpp-host exports.cc). Returns {result, start, length}. */
function clampRange(size, start, length) {
  if (start + length > 0xffffffff) return { result: R.BadArgument, start, length }; // overflow check
  if (start > size) length = 0;
  else if (start + length > size) length = size - start;
  return { result: R.Ok, start, length };
}

/** Serialize [[k, v], ...] (strings or Buffers) in proxy-wasm pairs format. */
function serializePairs(pairs) {
  const bufs = pairs.map(([k, v]) => [toBuf(k), toBuf(v)]);
  let size = 4;
  for (const [k, v] of bufs) size += 8 + k.length + 1 + v.length + 1;
  const out = Buffer.alloc(size);
  out.writeUInt32LE(bufs.length, 0);
  let off = 4;
  for (const [k, v] of bufs) { out.writeUInt32LE(k.length, off); out.writeUInt32LE(v.length, off + 4); off += 8; }
  for (const [k, v] of bufs) { k.copy(out, off); off += k.length + 1; v.copy(out, off); off += v.length + 1; }
  return out;
}

/** Parse proxy-wasm pairs format into [[k, v], ...] strings (PairsUtil::toPairs; bad input -> []). */
function deserializePairs(b) {
  if (b.length < 4) return [];
  const n = b.readUInt32LE(0);
  if (4 + n * 8 > b.length) return [];
  let off = 4 + n * 8;
  const out = [];
  for (let i = 0; i < n; i++) {
    const kl = b.readUInt32LE(4 + i * 8), vl = b.readUInt32LE(8 + i * 8);
    if (off + kl + 1 + vl + 1 > b.length) return [];
    const k = b.toString('utf8', off, off + kl); off += kl + 1;
    const v = b.toString('utf8', off, off + vl); off += vl + 1;
    out.push([k, v]);
  }
  return out;
}

/** Serialize a JS value the way Envoy's serializeValue serializes the CEL value. */
function serializeValue(v) {
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return { result: R.Ok, value: toBuf(v) };
  switch (typeof v) {
    case 'string': return { result: R.Ok, value: Buffer.from(v, 'utf8') };
    case 'number': { const b = Buffer.alloc(8); b.writeDoubleLE(v); return { result: R.Ok, value: b }; }
    case 'bigint': { const b = Buffer.alloc(8); b.writeBigInt64LE(v); return { result: R.Ok, value: b }; }
    case 'boolean': return { result: R.Ok, value: Buffer.from([v ? 1 : 0]) };
    case 'object': {
      if (v === null) return { result: R.SerializationFailure, value: EMPTY };
      const pairs = [];
      if (Array.isArray(v)) {
        for (const e of v) { const s = serializeValue(e); if (s.result) return s; pairs.push([s.value, EMPTY]); }
      } else {
        for (const k of Object.keys(v)) { const s = serializeValue(v[k]); if (s.result) return s; pairs.push([k, s.value]); }
      }
      return { result: R.Ok, value: serializePairs(pairs) };
    }
    default: return { result: R.SerializationFailure, value: EMPTY };
  }
}

/** Walk `segments` into a JS object/array like CEL map/list traversal. undefined = not found. */
function traverse(value, segments, from) {
  for (let i = from; i < segments.length; i++) {
    if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return undefined;
    const seg = segments[i];
    if (Array.isArray(value)) {
      if (!/^-?\d+$/.test(seg)) return undefined;
      value = value[Number(seg)];
    } else {
      if (!Object.prototype.hasOwnProperty.call(value, seg)) return undefined;
      value = value[seg];
    }
    if (value === undefined) return undefined;
  }
  return value;
}

function normalizeHeaders(h) {
  const out = [];
  if (h == null) return out;
  const push = (k, v) => out.push([String(k).toLowerCase(), String(v)]);
  if (Array.isArray(h)) for (const [k, v] of h) push(k, v);
  else for (const k of Object.keys(h)) {
    const v = h[k];
    if (Array.isArray(v)) for (const e of v) push(k, e); else push(k, v);
  }
  // Envoy's HeaderMap keeps pseudo-headers before regular ones.
  const pseudo = out.filter((p) => p[0].charCodeAt(0) === 58), rest = out.filter((p) => p[0].charCodeAt(0) !== 58);
  return pseudo.concat(rest);
}

function pairsToObject(pairs) {
  const o = {};
  for (const [k, v] of pairs) o[k] = k in o ? `${o[k]},${v}` : v;
  return o;
}

function headerAdd(map, key, value) {
  if (key.charCodeAt(0) === 58) {
    let i = 0;
    while (i < map.length && map[i][0].charCodeAt(0) === 58) i++;
    map.splice(i, 0, [key, value]);
  } else map.push([key, value]);
}

function headerRemove(map, key) {
  for (let i = map.length - 1; i >= 0; i--) if (map[i][0] === key) map.splice(i, 1);
}

// Http::Utility::httpToGrpcStatus
function httpToGrpcStatus(code) {
  switch (code) {
    case 400: return 13; case 401: return 16; case 403: return 7; case 404: return 12;
    case 429: case 502: case 503: case 504: return 14;
    default: return 2;
  }
}

function percentEncodeGrpcMessage(s) {
  const b = Buffer.from(s, 'utf8');
  let out = '';
  for (const c of b) out += (c < 0x20 || c > 0x7e || c === 0x25) ? `%${c.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(c);
  return out;
}

// ---------------------------------------------------------------------------------------------

/** Per-direction (request = decode, response = encode) state of one stream. */
class Direction {
  constructor() {
    this.headers = null;        // [[k, v]] as received/mutated (kept for the final view)
    this.headersReachable = false;
    this.trailers = null;
    this.trailersReachable = false;
    this.body = null;           // Buffer visible as HttpRequestBody/HttpResponseBody, or null
    this.bodyMutable = false;
    this.buffering = false;     // Wasm context's buffering_*_body_
    this.fmBuffered = null;     // filter manager's buffered data for this filter (Buffer) or null
    this.stopped = false;       // filter manager iteration stopped for this filter
    this.stoppedAll = false;    // headers returned StopAll*: data is buffered without calling us
    this.endOfStream = false;
    this.inBodyCall = false;
    this.trailersCreated = false;
    this.forwardedBytes = 0;
  }
}

class Stream {
  constructor(host, id, rootId, opts) {
    this.host = host;
    this.id = id;
    this.rootContextId = rootId;
    this.isRoot = false;
    this.req = new Direction();
    this.resp = new Direction();
    this.localReply = null;
    this.failed = false;        // stream_failed_ (VM failure reply sent)
    this.created = false;       // in_vm_context_created_
    this.finished = false;
    this.continued = [];        // proxy_continue_stream calls (stream types)
    this.closed = [];           // proxy_close_stream calls
    this.routeCacheCleared = 0;
    this.accessLogPhase = false;
    this.properties = new Map();
    if (opts.peerPrincipal != null) {
      this.properties.set('connection\0uri_san_peer_certificate', Buffer.from(String(opts.peerPrincipal), 'utf8'));
      this.properties.set('connection\0mtls', Buffer.from([1]));
    }
    if (opts.properties) for (const k of Object.keys(opts.properties)) {
      const s = serializeValue(opts.properties[k]);
      if (s.result === R.Ok) this.properties.set(k, s.value);
    }
  }

  _isGrpc() {
    const h = this.req.headers;
    if (!h) return false;
    for (const [k, v] of h) if (k === 'content-type') return v.startsWith('application/grpc');
    return false;
  }

  _ensureCreated() {
    if (this.created) return;
    const h = this.host;
    if (!h.failed && h._ex.proxy_on_context_create) h._call(this, 'proxy_on_context_create', this.id, this.rootContextId);
    this.created = true;
  }

  /** CHECK_FAIL_HTTP: returns null if the VM is healthy, else the status to return. */
  _checkFail(openValue, closedValue) {
    const h = this.host;
    if (!h.failed) return null;
    if (h.failOpen) return openValue;
    if (!this.failed) {
      this.failed = true;
      if (!this.localReply) {
        this.localReply = {
          status: 503, details: 'wasm_fail_stream', body: EMPTY, headers: [], grpcStatus: 14,
          hostFailure: true, sent: null,
        };
        // Envoy's encodeHeaders/encodeData skip the VM once failure_local_reply_sent_.
        this.localReply.sent = this._localReplyWire(this.localReply);
      }
    }
    return closedValue;
  }

  _localReplyWire(lr) {
    const grpc = this._isGrpc();
    const headers = [[':status', String(grpc ? 200 : lr.status)]];
    for (const [k, v] of lr.headers) headerAdd(headers, k.toLowerCase(), v);
    let body = lr.body;
    if (grpc) {
      headerRemove(headers, 'content-type'); headerAdd(headers, 'content-type', 'application/grpc');
      if (!headers.some((p) => p[0] === 'grpc-status')) {
        headerAdd(headers, 'grpc-status', String(lr.grpcStatus != null ? lr.grpcStatus : httpToGrpcStatus(lr.status)));
      }
      if (body.length) {
        let text = body.toString('utf8');
        if (text.endsWith('\n')) text = text.slice(0, -1);
        headerRemove(headers, 'grpc-message'); headerAdd(headers, 'grpc-message', percentEncodeGrpcMessage(text));
      }
      headerRemove(headers, 'content-length');
      body = EMPTY;
    } else if (body.length) {
      headerRemove(headers, 'content-length'); headerAdd(headers, 'content-length', String(body.length));
      if (!headers.some((p) => p[0] === 'content-type')) headerAdd(headers, 'content-type', 'text/plain');
    } else {
      headerRemove(headers, 'content-length'); headerRemove(headers, 'content-type');
    }
    return { headers, body };
  }

  /** After-VM-call action: Envoy's sendLocalReply runs through this filter's encode path. */
  _deliverLocalReply() {
    const lr = this.localReply;
    const wire = this._localReplyWire(lr);
    const h = this.host;
    if (!h.localReplyEncodePath || this.resp.headers) { lr.sent = wire; return; }
    const eos = wire.body.length === 0;
    this._lrDelivering = true;
    try {
      const r = this._headers(this.resp, 'proxy_on_response_headers', wire.headers, eos, true);
      let body = EMPTY;
      if (!eos) body = this._data(this.resp, 'proxy_on_response_body', wire.body, true, true).forwarded;
      lr.sent = { headers: r.headerPairs, body, responseHeadersAction: r.action };
    } finally { this._lrDelivering = false; }
  }

  _headers(dir, fn, headers, eos, internal) {
    const h = this.host;
    if (!internal && this.localReply) {
      // Local reply already sent: the real request/response is not given to the filter.
      if (!dir.headers) dir.headers = normalizeHeaders(headers);
      return { action: null, rawAction: null, headers: pairsToObject(dir.headers), headerPairs: dir.headers, forwarded: false, localReply: this.localReply };
    }
    this._ensureCreated();
    dir.headers = normalizeHeaders(headers);
    dir.endOfStream = !!eos;
    h._eos = !!eos;
    let action = this._checkFail(FilterHeadersStatus.Continue, FilterHeadersStatus.StopAllIterationAndWatermark);
    let raw = null;
    if (action === null) {
      if (!h._ex[fn]) action = FilterHeadersStatus.Continue;
      else {
        dir.headersReachable = true;
        raw = h._call(this, fn, this.id, dir.headers.length, eos ? 1 : 0);
        const closed = this._checkFail(FilterHeadersStatus.Continue, FilterHeadersStatus.StopAllIterationAndWatermark);
        if (closed !== null) action = closed;
        else if (h._stopNext || raw > 4) action = FilterHeadersStatus.StopAllIterationAndWatermark;
        else if (raw === 1 && !h.allowOnHeadersStopIteration) action = FilterHeadersStatus.StopAllIterationAndWatermark;
        else action = raw;
      }
    }
    if (action === FilterHeadersStatus.Continue || action === FilterHeadersStatus.ContinueAndEndStream) {
      dir.headersReachable = false;
      dir.stopped = false; dir.stoppedAll = false;
    } else {
      dir.stopped = true;
      dir.stoppedAll = action !== FilterHeadersStatus.StopIteration;
    }
    const forwarded = !dir.stopped;
    const res = { action, rawAction: raw, headers: pairsToObject(dir.headers), headerPairs: dir.headers.slice(), forwarded, localReply: this.localReply };
    this._afterCall();
    return res;
  }

  _data(dir, fn, chunk, eos, internal) {
    const h = this.host;
    chunk = toBuf(chunk);
    if (!internal && this.localReply) {
      return { action: null, rawAction: null, forwarded: EMPTY, localReply: this.localReply };
    }
    if (dir.stoppedAll) {
      // Filter manager buffers the data without calling the filter (handleDataIfStopAll).
      dir.fmBuffered = dir.fmBuffered ? Buffer.concat([dir.fmBuffered, chunk]) : Buffer.from(chunk);
      dir.endOfStream = !!eos;
      return { action: null, rawAction: null, forwarded: EMPTY, localReply: this.localReply };
    }
    dir.endOfStream = !!eos;
    h._eos = !!eos;
    let current = Buffer.from(chunk); // Envoy's Buffer::Instance for this call (owned copy)
    if (dir.buffering) {
      dir.fmBuffered = dir.fmBuffered ? Buffer.concat([dir.fmBuffered, current]) : current;
      current = EMPTY;
    }
    let action = this._checkFail(FilterDataStatus.Continue, FilterDataStatus.StopIterationNoBuffer);
    let raw = null;
    const wasBuffering = dir.buffering;
    if (action === null) {
      if (!h._ex[fn]) action = FilterDataStatus.Continue;
      else {
        dir.body = wasBuffering ? dir.fmBuffered : current;
        dir.bodyMutable = true;
        dir.inBodyCall = true;
        try {
          raw = h._call(this, fn, this.id, dir.body.length, eos ? 1 : 0);
        } finally { dir.inBodyCall = false; }
        if (wasBuffering) dir.fmBuffered = dir.body; else current = dir.body;
        const closed = this._checkFail(FilterDataStatus.Continue, FilterDataStatus.StopIterationNoBuffer);
        if (closed !== null) action = closed;
        else if (h._stopNext || raw > 3) action = FilterDataStatus.StopIterationNoBuffer;
        else action = raw;
      }
    }
    dir.buffering = action === FilterDataStatus.StopIterationAndBuffer;
    let forwarded = EMPTY;
    if (action === FilterDataStatus.Continue) {
      if (dir.stopped || dir.fmBuffered) {
        forwarded = dir.fmBuffered ? (current.length ? Buffer.concat([dir.fmBuffered, current]) : dir.fmBuffered) : current;
        dir.fmBuffered = null;
      } else forwarded = current;
      dir.stopped = false;
      dir.body = null;
    } else {
      dir.stopped = true;
      if (action === FilterDataStatus.StopIterationAndBuffer || action === FilterDataStatus.StopIterationAndWatermark) {
        if (current.length) dir.fmBuffered = dir.fmBuffered ? Buffer.concat([dir.fmBuffered, current]) : current;
      }
      // StopIterationNoBuffer: the chunk is dropped by the filter manager.
    }
    dir.forwardedBytes += forwarded.length;
    const res = { action, rawAction: raw, forwarded, localReply: this.localReply };
    if (eos && dir.trailersCreated) res.addedTrailers = pairsToObject(dir.trailers);
    this._afterCall();
    return res;
  }

  _trailers(dir, fn, trailers) {
    const h = this.host;
    if (this.localReply) return { action: null, rawAction: null, trailers: null, forwarded: false, localReply: this.localReply };
    dir.trailers = normalizeHeaders(trailers);
    dir.endOfStream = true;
    h._eos = true;
    let action = this._checkFail(FilterTrailersStatus.Continue, FilterTrailersStatus.StopIteration);
    let raw = null;
    if (action === null) {
      if (!h._ex[fn]) action = FilterTrailersStatus.Continue;
      else {
        dir.trailersReachable = true;
        raw = h._call(this, fn, this.id, dir.trailers.length);
        const closed = this._checkFail(FilterTrailersStatus.Continue, FilterTrailersStatus.StopIteration);
        if (closed !== null) action = closed;
        else if (h._stopNext || raw > 1) action = FilterTrailersStatus.StopIteration;
        else action = raw;
      }
    }
    if (action === FilterTrailersStatus.Continue) dir.trailersReachable = false;
    const res = { action, rawAction: raw, trailers: pairsToObject(dir.trailers), trailerPairs: dir.trailers.slice(), forwarded: action === 0, localReply: this.localReply };
    this._afterCall();
    return res;
  }

  _afterCall() {
    const h = this.host;
    h._stopNext = false;
    if (this._pendingLocalReply) {
      this._pendingLocalReply = false;
      this._deliverLocalReply();
    }
  }

  requestHeaders(headers, endOfStream = false) { return this._headers(this.req, 'proxy_on_request_headers', headers, endOfStream, false); }
  requestBody(bytes, endOfStream = false) { return this._data(this.req, 'proxy_on_request_body', bytes, endOfStream, false); }
  requestTrailers(trailers) { return this._trailers(this.req, 'proxy_on_request_trailers', trailers); }
  responseHeaders(headers, endOfStream = false) { return this._headers(this.resp, 'proxy_on_response_headers', headers, endOfStream, false); }
  responseBody(bytes, endOfStream = false) { return this._data(this.resp, 'proxy_on_response_body', bytes, endOfStream, false); }
  responseTrailers(trailers) { return this._trailers(this.resp, 'proxy_on_response_trailers', trailers); }

  /** Stream end like Envoy's HCM: access log (proxy_on_log), then destroyFilters (on_done, on_delete). */
  done() {
    if (this.finished) return;
    this.finished = true;
    const h = this.host;
    this._ensureCreated();
    this.req.headersReachable = this.resp.headersReachable = false;
    this.req.trailersReachable = this.resp.trailersReachable = false;
    this.req.body = this.resp.body = null;
    if (!h.failed && h._ex.proxy_on_log) {
      this.accessLogPhase = true;
      try { h._call(this, 'proxy_on_log', this.id); } finally { this.accessLogPhase = false; }
    }
    if (!h.failed && h._ex.proxy_on_done) h._call(this, 'proxy_on_done', this.id);
    if (!h.failed && h._ex.proxy_on_delete) h._call(this, 'proxy_on_delete', this.id);
    h._contexts.delete(this.id);
    h._stopNext = false;
  }
}

class ProxyWasmHost {
  /**
   * @param {string|Buffer|WebAssembly.Module} wasm path, bytes or compiled module
   * @param {object} opts rootId, config (string|Buffer|object), vmConfig, pluginName, vmId,
   *   nodeMetadata, nodeId, nodeCluster, metadataPaths ('both'|'xds'|'node'), properties,
   *   failOpen, allowOnHeadersStopIteration, localReplyEncodePath (default true),
   *   logLevel (min captured level, default 0 = everything), maxLogs (default 100000),
   *   now() -> ms since epoch (default Date.now), echoLogs (print captured logs),
   *   extraImports ({module: {name: fn}}: additional host functions, e.g. test hooks)
   */
  static async load(wasm, opts = {}) {
    let module;
    if (wasm instanceof WebAssembly.Module) module = wasm;
    else module = await WebAssembly.compile(typeof wasm === 'string' ? fs.readFileSync(wasm) : toBuf(wasm));
    const host = new ProxyWasmHost(module, opts);
    host.start();
    return host;
  }

  /** Synchronous variant (small modules / pre-compiled). */
  static loadSync(wasm, opts = {}) {
    const module = wasm instanceof WebAssembly.Module ? wasm
      : new WebAssembly.Module(typeof wasm === 'string' ? fs.readFileSync(wasm) : toBuf(wasm));
    const host = new ProxyWasmHost(module, opts);
    host.start();
    return host;
  }

  constructor(module, opts) {
    this.opts = opts;
    this.rootId = opts.rootId != null ? String(opts.rootId) : '';
    this.pluginName = opts.pluginName != null ? String(opts.pluginName) : this.rootId;
    this.vmId = opts.vmId != null ? String(opts.vmId) : '';
    this.failOpen = !!opts.failOpen;
    this.allowOnHeadersStopIteration = !!opts.allowOnHeadersStopIteration;
    this.localReplyEncodePath = opts.localReplyEncodePath !== false;
    this.metadataPaths = opts.metadataPaths || 'both';
    if (!['both', 'xds', 'node'].includes(this.metadataPaths)) throw new Error(`metadataPaths must be both|xds|node, got ${this.metadataPaths}`);
    this.nodeMetadata = opts.nodeMetadata || {};
    this.logLevel = opts.logLevel != null ? opts.logLevel : 0;
    this.maxLogs = opts.maxLogs != null ? opts.maxLogs : 100000;
    this.echoLogs = !!opts.echoLogs;
    this._now = opts.now || Date.now;
    this._pluginConfig = opts.config == null ? EMPTY
      : toBuf(typeof opts.config === 'object' && !Buffer.isBuffer(opts.config) && !(opts.config instanceof Uint8Array) ? JSON.stringify(opts.config) : opts.config);
    this._vmConfig = toBuf(opts.vmConfig);

    this.traps = 0;
    this.trapLog = [];
    this.failed = false;
    this.configured = false;
    this.vmStarted = false;
    this.tickPeriodMs = 0;
    this.calls = [];          // http/grpc calls attempted (never dispatched)
    this._logs = [];
    this._droppedLogs = 0;
    this._metrics = new Map();      // id -> {name, type}
    this._metricValues = new Map(); // `${type}:${name}` -> number | number[]
    this._nextMetricId = [1, 1, 1]; // per type; ids carry the type in the low 2 bits
    this._sharedData = new Map();   // key -> {value: Buffer, cas}
    this._nextCas = 1;
    this._queues = new Map();       // token -> {vmId, name, items: Buffer[]}
    this._queueByName = new Map();
    this._nextQueueToken = 1;
    this._props = new Map();
    this._setProps = new Map();
    this._contexts = new Map();
    this._nextContextId = 1;
    this._cur = null;
    this._effective = 0;
    this._stopNext = false;
    this._eos = false;
    this._inRootConfig = false;

    const put = (k, v) => { const s = serializeValue(v); if (s.result === R.Ok) this._props.set(k, s.value); };
    put('plugin_root_id', this.rootId);
    put('plugin_name', this.pluginName);
    put('plugin_vm_id', this.vmId);
    if (opts.properties) for (const k of Object.keys(opts.properties)) put(k, opts.properties[k]);

    this.module = module;
    const imports = this._buildImports();
    if (opts.extraImports) {
      for (const ns of Object.keys(opts.extraImports)) imports[ns] = { ...(imports[ns] || {}), ...opts.extraImports[ns] };
    }
    const missing = [];
    for (const imp of WebAssembly.Module.imports(module)) {
      const ns = imports[imp.module];
      if (imp.kind !== 'function' || !ns || typeof ns[imp.name] !== 'function') missing.push(`${imp.module}.${imp.name} (${imp.kind})`);
    }
    if (missing.length) {
      throw new Error(`proxy-wasm-host: the module imports ${missing.length} function(s) this host does not provide: ${missing.join(', ')}`);
    }
    const exportNames = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
    this.abiVersion = ['proxy_abi_version_0_2_1', 'proxy_abi_version_0_2_0', 'proxy_abi_version_0_1_0'].find((n) => exportNames.has(n));
    if (!this.abiVersion) throw new Error('proxy-wasm-host: module exports no proxy_abi_version_* function (Envoy rejects it)');
    this.abiVersion = this.abiVersion.replace('proxy_abi_version_', '').replace(/_/g, '.');

    this.instance = new WebAssembly.Instance(module, imports);
    const ex = this.instance.exports;
    this._ex = ex;
    if (!(ex.memory instanceof WebAssembly.Memory)) throw new Error('proxy-wasm-host: module does not export "memory"');
    this._malloc = ex.malloc || ex.proxy_on_memory_allocate;
    if (typeof this._malloc !== 'function') throw new Error('proxy-wasm-host: module exports no malloc/proxy_on_memory_allocate');
    this._memory = ex.memory;
    this._ab = null;
    this._refresh();
  }

  // ------------------------------------------------------------------ memory helpers
  _refresh() {
    const ab = this._memory.buffer;
    if (ab !== this._ab) {
      this._ab = ab;
      this._mem = Buffer.from(ab);          // Buffer view, no copy
      this._dv = new DataView(ab);
    }
  }

  _inBounds(ptr, len) {
    this._refresh();
    return ptr + len <= this._mem.length;
  }

  _view(ptr, len) { // view (not a copy) of guest memory, or null if out of bounds
    this._refresh();
    if (ptr + len > this._mem.length) return null;
    return this._mem.subarray(ptr, ptr + len);
  }

  _str(ptr, len) {
    this._refresh();
    if (ptr + len > this._mem.length) return null;
    return this._mem.toString('utf8', ptr, ptr + len);
  }

  _setU32(ptr, v) {
    this._refresh();
    if (ptr + 4 > this._mem.length) return false;
    this._dv.setUint32(ptr, v, true);
    return true;
  }

  _setU64(ptr, v) {
    this._refresh();
    if (ptr + 8 > this._mem.length) return false;
    this._dv.setBigUint64(ptr, BigInt.asUintN(64, BigInt(v)), true);
    return true;
  }

  /** WasmBase::allocMemory: call guest malloc; returns pointer or 0. */
  _alloc(size) {
    const p = this._malloc(size) >>> 0;
    this._refresh();
    if (p === 0 || p + size > this._mem.length) return 0;
    return p;
  }

  /** copyToPointerSize: returns a WasmResult. */
  _copyOut(bytes, ptrPtr, sizePtr) {
    let p = 0;
    const n = bytes.length;
    if (n > 0) {
      p = this._alloc(n);
      if (!p) return R.InvalidMemoryAccess;
      bytes.copy(this._mem, p);
    }
    if (!this._setU32(ptrPtr, p) || !this._setU32(sizePtr, n)) return R.InvalidMemoryAccess;
    return R.Ok;
  }

  /** Like _copyOut for a JS string, without an intermediate Buffer. */
  _copyOutStr(s, ptrPtr, sizePtr) {
    const n = Buffer.byteLength(s, 'utf8');
    let p = 0;
    if (n > 0) {
      p = this._alloc(n);
      if (!p) return R.InvalidMemoryAccess;
      this._mem.write(s, p, n, 'utf8');
    }
    if (!this._setU32(ptrPtr, p) || !this._setU32(sizePtr, n)) return R.InvalidMemoryAccess;
    return R.Ok;
  }

  // ------------------------------------------------------------------ calls into the guest
  /** Call a guest export in the context of `ctx`; guest faults are caught and fail the VM. */
  _call(ctx, fn, a, b, c) {
    const prevCur = this._cur, prevEff = this._effective;
    this._cur = ctx;
    this._effective = 0;
    try {
      const r = this._ex[fn](a, b, c); // extra args are ignored by wasm exports
      return r === undefined ? 0 : (typeof r === 'number' ? r >>> 0 : r);
    } catch (e) {
      if (!isGuestFault(e)) throw e; // host bug: surface it
      this.traps++;
      this.failed = true;
      this.trapLog.push({ function: fn, contextId: ctx ? ctx.id : 0, message: String(e && e.message), stack: e && e.stack });
      this._pushLog(LogLevel.critical, `wasm trap in ${fn}: ${e && e.message}`);
      return 0;
    } finally {
      this._cur = prevCur;
      this._effective = prevEff;
    }
  }

  _ctx() {
    if (this._effective) {
      const c = this._contexts.get(this._effective);
      if (c) return c;
    }
    return this._cur;
  }

  /** Envoy start-up (root context, vm_start, configure). load()/loadSync() call it; idempotent. */
  start() {
    if (this._root) return this;
    this._start();
    return this;
  }

  _start() {
    const ex = this._ex;
    const root = { id: this._nextContextId++, isRoot: true, properties: new Map(), accessLogPhase: false };
    this._root = root;
    this._contexts.set(root.id, root);
    if (ex._initialize) this._call(root, '_initialize');
    else if (ex._start) this._call(root, '_start');
    if (this.failed) return;
    this._inRootConfig = true;
    try {
      if (ex.proxy_on_context_create) this._call(root, 'proxy_on_context_create', root.id, 0);
      this.vmStarted = !this.failed && (!ex.proxy_on_vm_start || this._call(root, 'proxy_on_vm_start', root.id, this._vmConfig.length) !== 0) && !this.failed;
      this.configured = this.vmStarted && (!ex.proxy_on_configure || this._call(root, 'proxy_on_configure', root.id, this._pluginConfig.length) !== 0) && !this.failed;
    } finally { this._inRootConfig = false; }
  }

  /**
   * New plugin configuration. Envoy-style (default): a new root context (new id) is created for
   * the new plugin (context_create, vm_start, configure) and the old root gets on_done/on_delete.
   * With {sameRoot: true}: proxy_on_configure on the existing root context. Returns `configured`.
   */
  reconfigure(config, { sameRoot = false } = {}) {
    this._pluginConfig = toBuf(typeof config === 'object' && !Buffer.isBuffer(config) && !(config instanceof Uint8Array) ? JSON.stringify(config) : config);
    if (this.failed) { this.configured = false; return false; }
    const ex = this._ex;
    this._inRootConfig = true;
    try {
      if (sameRoot) {
        this.configured = (!ex.proxy_on_configure || this._call(this._root, 'proxy_on_configure', this._root.id, this._pluginConfig.length) !== 0) && !this.failed;
        return this.configured;
      }
      const old = this._root;
      const root = { id: this._nextContextId++, isRoot: true, properties: new Map(), accessLogPhase: false };
      this._contexts.set(root.id, root);
      this._root = root;
      if (ex.proxy_on_context_create) this._call(root, 'proxy_on_context_create', root.id, 0);
      const started = !this.failed && (!ex.proxy_on_vm_start || this._call(root, 'proxy_on_vm_start', root.id, this._vmConfig.length) !== 0);
      this.configured = started && !this.failed && (!ex.proxy_on_configure || this._call(root, 'proxy_on_configure', root.id, this._pluginConfig.length) !== 0) && !this.failed;
      this._inRootConfig = false;
      if (!this.failed && ex.proxy_on_done) this._call(old, 'proxy_on_done', old.id);
      if (!this.failed && ex.proxy_on_delete) this._call(old, 'proxy_on_delete', old.id);
      this._contexts.delete(old.id);
      return this.configured;
    } finally { this._inRootConfig = false; this._stopNext = false; }
  }

  /** Create a stream (HTTP filter instance). opts: peerPrincipal, properties. */
  newStream(opts = {}) {
    const s = new Stream(this, this._nextContextId++, this._root.id, opts);
    this._contexts.set(s.id, s);
    return s;
  }

  /** proxy_on_tick on the root context. */
  tick() {
    if (!this.failed && this._ex.proxy_on_tick) this._call(this._root, 'proxy_on_tick', this._root.id);
  }

  /** Guest memory size in bytes. */
  memoryBytes() { return this._memory.buffer.byteLength; }

  /** Captured logs [{level, message, contextId}]. */
  logs() { return this._logs; }
  clearLogs() { this._logs = []; this._droppedLogs = 0; }

  /** {name: value}; counters/gauges are numbers, histograms arrays of recorded values. */
  metrics() {
    const o = {};
    for (const [key, v] of this._metricValues) o[key.slice(key.indexOf(':') + 1)] = Array.isArray(v) ? v.slice() : v;
    return o;
  }

  /** Host-side property lookup with the same rules as proxy_get_property. */
  getProperty(path, stream) {
    return this._lookupProperty(typeof path === 'string' ? path : String(path), stream || null);
  }

  _pushLog(level, message) {
    if (level < this.logLevel) return;
    if (this.echoLogs) process.stderr.write(`[wasm ${level}] ${message}\n`);
    if (this._logs.length >= this.maxLogs) { this._droppedLogs++; return; }
    const c = this._ctx();
    this._logs.push({ level, message, contextId: c ? c.id : 0 });
  }

  _lookupProperty(path, ctx) {
    if (ctx && ctx.properties && ctx.properties.has(path)) return { result: R.Ok, value: ctx.properties.get(path) };
    if (this._setProps.has(path)) return { result: R.Ok, value: this._setProps.get(path) };
    if (this._props.has(path)) return { result: R.Ok, value: this._props.get(path) };
    const seg = path.split('\0');
    if (seg.length && seg[seg.length - 1] === '') seg.pop(); // trailing NUL terminates the path
    let from = -1;
    if (seg[0] === 'xds' && seg[1] === 'node' && this.metadataPaths !== 'node') from = 2;
    else if (seg[0] === 'node' && this.metadataPaths !== 'xds') from = 1;
    if (from < 0) return { result: R.NotFound, value: EMPTY };
    if (seg.length === from) return { result: R.Unimplemented, value: EMPTY }; // whole Node message
    const field = seg[from];
    let v;
    if (field === 'metadata') v = traverse(this.nodeMetadata, seg, from + 1);
    else if (field === 'id' && seg.length === from + 1) v = this.opts.nodeId;
    else if (field === 'cluster' && seg.length === from + 1) v = this.opts.nodeCluster;
    if (v === undefined || (v === null && field !== 'metadata')) return { result: R.NotFound, value: EMPTY };
    return serializeValue(v);
  }

  // ------------------------------------------------------------------ header maps
  /** Mutable map (Envoy getMap) for the current context, or null. Returns the array. */
  _getMap(ctx, type) {
    if (!ctx || ctx.isRoot || ctx.accessLogPhase) return null;
    switch (type) {
      case 0: return ctx.req.headersReachable ? ctx.req.headers : null;
      case 2: return ctx.resp.headersReachable ? ctx.resp.headers : null;
      case 1: case 3: {
        const d = type === 1 ? ctx.req : ctx.resp;
        if (d.trailersReachable) return d.trailers;
        if (d.inBodyCall && d.endOfStream && !d.trailers) {
          d.trailers = []; d.trailersReachable = true; d.trailersCreated = true;
          return d.trailers;
        }
        return null;
      }
      default: return null;
    }
  }

  /** Read-only map (Envoy getConstMap). */
  _getConstMap(ctx, type) {
    if (!ctx || ctx.isRoot) return null;
    if (ctx.accessLogPhase) {
      switch (type) {
        case 0: return ctx.req.headers;
        case 2: return ctx.resp.headers;
        case 3: return ctx.resp.trailers;
        default: return null;
      }
    }
    switch (type) {
      case 0: return ctx.req.headersReachable ? ctx.req.headers : null;
      case 1: return ctx.req.trailersReachable ? ctx.req.trailers : null;
      case 2: return ctx.resp.headersReachable ? ctx.resp.headers : null;
      case 3: return ctx.resp.trailersReachable ? ctx.resp.trailers : null;
      default: return null;
    }
  }

  // ------------------------------------------------------------------ buffers
  _bufferFor(ctx, type) {
    // returns {buf, mutable, dir} or null (NotFound)
    switch (type) {
      case 0: case 1: {
        if (!ctx || ctx.isRoot) return { buf: EMPTY, mutable: false, dir: null };
        const d = type === 0 ? ctx.req : ctx.resp;
        return d.body ? { buf: d.body, mutable: d.bodyMutable, dir: d } : { buf: EMPTY, mutable: false, dir: null };
      }
      case 6: return { buf: this._vmConfig, mutable: false, dir: null };
      case 7: return this._inRootConfig ? { buf: this._pluginConfig, mutable: false, dir: null } : null;
      case 8: return { buf: EMPTY, mutable: false, dir: null };
      default: return null;
    }
  }

  // ------------------------------------------------------------------ imports
  _buildImports() {
    const host = this;
    const ok = R.Ok;
    const env = {
      proxy_log(level, ptr, size) {
        if (level > 5) return R.BadArgument;
        if (level < host.logLevel) return host._inBounds(ptr, size) ? ok : R.InvalidMemoryAccess; // skip decoding
        const s = host._str(ptr, size);
        if (s === null) return R.InvalidMemoryAccess;
        host._pushLog(level, s);
        return ok;
      },
      proxy_get_log_level(ptr) {
        return host._setU32(ptr, host.logLevel) ? ok : R.InvalidMemoryAccess;
      },
      proxy_get_status(codePtr, msgPtrPtr, msgSizePtr) {
        if (!host._setU32(codePtr, 0)) return R.InvalidMemoryAccess;
        return host._copyOut(EMPTY, msgPtrPtr, msgSizePtr);
      },
      proxy_set_tick_period_milliseconds(ms) { host.tickPeriodMs = ms >>> 0; return ok; },
      proxy_get_current_time_nanoseconds(ptr) {
        return host._setU64(ptr, BigInt(Math.round(host._now() * 1e6))) ? ok : R.InvalidMemoryAccess;
      },
      proxy_get_property(pathPtr, pathLen, valuePtrPtr, valueSizePtr) {
        const path = host._str(pathPtr, pathLen);
        if (path === null) return R.InvalidMemoryAccess;
        const r = host._lookupProperty(path, host._ctx());
        if (r.result !== ok) return r.result;
        return host._copyOut(r.value, valuePtrPtr, valueSizePtr);
      },
      proxy_set_property(pathPtr, pathLen, valuePtr, valueLen) {
        const path = host._str(pathPtr, pathLen);
        const v = host._view(valuePtr, valueLen);
        if (path === null || v === null) return R.InvalidMemoryAccess;
        const c = host._ctx();
        const target = c && c.properties && !c.isRoot ? c.properties : host._setProps;
        target.set(path, Buffer.from(v));
        return ok;
      },
      proxy_continue_stream(type) {
        if (type > 3) return R.BadArgument;
        if (type === 3) return R.Unimplemented;
        const c = host._ctx();
        if (c && !c.isRoot) c.continued.push(type);
        return ok;
      },
      proxy_close_stream(type) {
        if (type > 3) return R.BadArgument;
        const c = host._ctx();
        if (c && !c.isRoot) c.closed.push(type);
        return ok;
      },
      proxy_send_local_response(code, detailsPtr, detailsLen, bodyPtr, bodyLen, hdrPtr, hdrLen, grpcStatus) {
        const details = host._str(detailsPtr, detailsLen);
        const body = host._view(bodyPtr, bodyLen);
        const hdrs = host._view(hdrPtr, hdrLen);
        if (details === null || body === null || hdrs === null) return R.InvalidMemoryAccess;
        const c = host._ctx();
        host._stopNext = true;
        if (!c || c.isRoot) return ok; // no decoder callbacks: Envoy ignores it
        const gs = grpcStatus | 0;
        const lr = {
          status: code >>> 0,
          details: details.replace(/\s/g, '_'),
          body: Buffer.from(body),
          headers: deserializePairs(hdrs).map(([k, v]) => [k.toLowerCase(), v]),
          grpcStatus: gs >= 0 && gs <= 16 ? gs : null,
          hostFailure: false,
          sent: null,
        };
        if (!c.localReply) { c.localReply = lr; c._pendingLocalReply = true; }
        return ok;
      },
      proxy_clear_route_cache() {
        const c = host._ctx();
        if (c && !c.isRoot) c.routeCacheCleared++;
        return ok;
      },
      proxy_get_shared_data(keyPtr, keyLen, valuePtrPtr, valueSizePtr, casPtr) {
        const key = host._str(keyPtr, keyLen);
        if (key === null) return R.InvalidMemoryAccess;
        const e = host._sharedData.get(key);
        if (!e) return R.NotFound;
        const r = host._copyOut(e.value, valuePtrPtr, valueSizePtr);
        if (r !== ok) return r;
        return host._setU32(casPtr, e.cas) ? ok : R.InvalidMemoryAccess;
      },
      proxy_set_shared_data(keyPtr, keyLen, valuePtr, valueLen, cas) {
        const key = host._str(keyPtr, keyLen);
        const v = host._view(valuePtr, valueLen);
        if (key === null || v === null) return R.InvalidMemoryAccess;
        const e = host._sharedData.get(key);
        if (cas && e && e.cas !== cas) return R.CasMismatch;
        host._sharedData.set(key, { value: Buffer.from(v), cas: host._nextCas++ });
        return ok;
      },
      proxy_register_shared_queue(namePtr, nameLen, tokenPtr) {
        const name = host._str(namePtr, nameLen);
        if (name === null) return R.InvalidMemoryAccess;
        const k = `${host.vmId}\0${name}`;
        let token = host._queueByName.get(k);
        if (!token) {
          token = host._nextQueueToken++;
          host._queueByName.set(k, token);
          host._queues.set(token, { name, items: [] });
        }
        return host._setU32(tokenPtr, token) ? ok : R.InvalidMemoryAccess;
      },
      proxy_resolve_shared_queue(vmPtr, vmLen, namePtr, nameLen, tokenPtr) {
        const vm = host._str(vmPtr, vmLen);
        const name = host._str(namePtr, nameLen);
        if (vm === null || name === null) return R.InvalidMemoryAccess;
        const token = host._queueByName.get(`${vm}\0${name}`);
        if (!token) return R.NotFound;
        return host._setU32(tokenPtr, token) ? ok : R.InvalidMemoryAccess;
      },
      proxy_dequeue_shared_queue(token, dataPtrPtr, dataSizePtr) {
        const q = host._queues.get(token >>> 0);
        if (!q) return R.NotFound;
        if (!q.items.length) return R.Empty;
        return host._copyOut(q.items.shift(), dataPtrPtr, dataSizePtr);
      },
      proxy_enqueue_shared_queue(token, dataPtr, dataLen) {
        const v = host._view(dataPtr, dataLen);
        if (v === null) return R.InvalidMemoryAccess;
        const q = host._queues.get(token >>> 0);
        if (!q) return R.NotFound;
        q.items.push(Buffer.from(v));
        return ok;
      },
      proxy_add_header_map_value(type, keyPtr, keyLen, valPtr, valLen) {
        if (type > 7) return R.BadArgument;
        const k = host._str(keyPtr, keyLen), v = host._str(valPtr, valLen);
        if (k === null || v === null) return R.InvalidMemoryAccess;
        const m = host._getMap(host._ctx(), type);
        if (!m) return R.BadArgument;
        headerAdd(m, k.toLowerCase(), v);
        return ok;
      },
      proxy_get_header_map_value(type, keyPtr, keyLen, valPtrPtr, valSizePtr) {
        if (type > 7) return R.BadArgument;
        const k = host._str(keyPtr, keyLen);
        if (k === null) return R.InvalidMemoryAccess;
        const c = host._ctx();
        const m = host._getConstMap(c, type);
        const abi01 = host.abiVersion === '0.1.0';
        if (!m) {
          if (c && c.accessLogPhase) return abi01 ? host._copyOut(EMPTY, valPtrPtr, valSizePtr) : R.NotFound;
          return R.BadArgument;
        }
        const lk = k.toLowerCase();
        for (let i = 0; i < m.length; i++) {
          if (m[i][0] === lk) return host._copyOutStr(m[i][1], valPtrPtr, valSizePtr);
        }
        return abi01 ? host._copyOut(EMPTY, valPtrPtr, valSizePtr) : R.NotFound;
      },
      proxy_replace_header_map_value(type, keyPtr, keyLen, valPtr, valLen) {
        if (type > 7) return R.BadArgument;
        const k = host._str(keyPtr, keyLen), v = host._str(valPtr, valLen);
        if (k === null || v === null) return R.InvalidMemoryAccess;
        const m = host._getMap(host._ctx(), type);
        if (!m) return R.BadArgument;
        const lk = k.toLowerCase();
        headerRemove(m, lk);
        headerAdd(m, lk, v);
        return ok;
      },
      proxy_remove_header_map_value(type, keyPtr, keyLen) {
        if (type > 7) return R.BadArgument;
        const k = host._str(keyPtr, keyLen);
        if (k === null) return R.InvalidMemoryAccess;
        const m = host._getMap(host._ctx(), type);
        if (!m) return R.BadArgument;
        headerRemove(m, k.toLowerCase());
        return ok;
      },
      proxy_get_header_map_pairs(type, ptrPtr, sizePtr) {
        if (type > 7) return R.BadArgument;
        const m = host._getConstMap(host._ctx(), type);
        if (!m || m.length === 0) return host._copyOut(EMPTY, ptrPtr, sizePtr);
        let size = 4 + m.length * 8;
        const lens = new Array(m.length * 2);
        for (let i = 0; i < m.length; i++) {
          const kl = Buffer.byteLength(m[i][0], 'utf8'), vl = Buffer.byteLength(m[i][1], 'utf8');
          lens[2 * i] = kl; lens[2 * i + 1] = vl;
          size += kl + vl + 2;
        }
        const p = host._alloc(size);
        if (!p) return R.InvalidMemoryAccess;
        const mem = host._mem, dv = host._dv;
        dv.setUint32(p, m.length, true);
        let off = p + 4;
        for (let i = 0; i < lens.length; i++, off += 4) dv.setUint32(off, lens[i], true);
        for (let i = 0; i < m.length; i++) {
          off += mem.write(m[i][0], off, lens[2 * i], 'utf8'); mem[off++] = 0;
          off += mem.write(m[i][1], off, lens[2 * i + 1], 'utf8'); mem[off++] = 0;
        }
        if (!host._setU32(ptrPtr, p) || !host._setU32(sizePtr, size)) return R.InvalidMemoryAccess;
        return ok;
      },
      proxy_set_header_map_pairs(type, ptr, size) {
        if (type > 7) return R.BadArgument;
        const b = host._view(ptr, size);
        if (b === null) return R.InvalidMemoryAccess;
        const m = host._getMap(host._ctx(), type);
        if (!m) return R.BadArgument;
        const pairs = deserializePairs(b);
        m.length = 0;
        for (const [k, v] of pairs) headerAdd(m, k.toLowerCase(), v);
        return ok;
      },
      proxy_get_header_map_size(type, sizePtr) {
        if (type > 7) return R.BadArgument;
        const m = host._getMap(host._ctx(), type);
        if (!m) return R.BadArgument;
        let n = 0;
        for (const [k, v] of m) n += Buffer.byteLength(k, 'utf8') + Buffer.byteLength(v, 'utf8');
        return host._setU32(sizePtr, n) ? ok : R.InvalidMemoryAccess;
      },
      proxy_get_buffer_bytes(type, start, length, ptrPtr, sizePtr) {
        if (type > 8) return R.BadArgument;
        const b = host._bufferFor(host._ctx(), type);
        if (!b) return R.NotFound;
        start >>>= 0; length >>>= 0;
        const c = clampRange(b.buf.length, start, length);
        if (c.result !== ok) return c.result;
        if (c.length === 0) {
          if (!host._setU32(ptrPtr, 0) || !host._setU32(sizePtr, 0)) return R.InvalidMemoryAccess;
          return ok;
        }
        const p = host._alloc(c.length);
        if (!p) return R.InvalidMemoryAccess;
        b.buf.copy(host._mem, p, start, start + c.length);
        if (!host._setU32(ptrPtr, p) || !host._setU32(sizePtr, c.length)) return R.InvalidMemoryAccess;
        return ok;
      },
      proxy_get_buffer_status(type, lengthPtr, flagsPtr) {
        if (type > 8) return R.BadArgument;
        const b = host._bufferFor(host._ctx(), type);
        if (!b) return R.NotFound;
        if (!host._setU32(lengthPtr, b.buf.length) || !host._setU32(flagsPtr, 0)) return R.InvalidMemoryAccess;
        return ok;
      },
      proxy_set_buffer_bytes(type, start, length, dataPtr, dataLen) {
        if (type > 8) return R.BadArgument;
        const b = host._bufferFor(host._ctx(), type);
        if (!b) return R.NotFound;
        const data = host._view(dataPtr, dataLen);
        if (data === null) return R.InvalidMemoryAccess;
        if (!b.mutable) return R.BadArgument;
        const r = setBufferBytes(b.buf, start >>> 0, length >>> 0, data);
        if (r.result === ok) b.dir.body = r.buf;
        return r.result;
      },
      proxy_http_call(uriPtr, uriLen, hPtr, hLen, bodyPtr, bodyLen, tPtr, tLen, timeout, tokenPtr) {
        const uri = host._str(uriPtr, uriLen);
        if (uri === null || !host._inBounds(hPtr, hLen) || !host._inBounds(bodyPtr, bodyLen) || !host._inBounds(tPtr, tLen)) return R.InvalidMemoryAccess;
        if (!host._setU32(tokenPtr, 0)) return R.InvalidMemoryAccess;
        host.calls.push({ kind: 'http', cluster: uri, headers: deserializePairs(host._view(hPtr, hLen)), body: Buffer.from(host._view(bodyPtr, bodyLen)), timeout });
        return R.BadArgument; // no such cluster
      },
      proxy_grpc_call(...args) { host.calls.push({ kind: 'grpc_call', args }); return R.BadArgument; },
      proxy_grpc_stream(...args) { host.calls.push({ kind: 'grpc_stream', args }); return R.BadArgument; },
      proxy_grpc_cancel() { return R.NotFound; },
      proxy_grpc_close() { return R.NotFound; },
      proxy_grpc_send() { return R.NotFound; },
      proxy_define_metric(type, namePtr, nameLen, idPtr) {
        if (type > 2) return R.BadArgument;
        const name = host._str(namePtr, nameLen);
        if (name === null) return R.InvalidMemoryAccess;
        // Envoy: ids carry the type in the low 2 bits (counter 1, gauge 2, histogram 3).
        const tag = type + 1;
        const id = (host._nextMetricId[type] << 2 | tag) >>> 0;
        host._nextMetricId[type] += 1;
        host._metrics.set(id, { name, type });
        const key = `${type}:${name}`;
        if (!host._metricValues.has(key)) host._metricValues.set(key, type === 2 ? [] : 0);
        return host._setU32(idPtr, id) ? ok : R.InvalidMemoryAccess;
      },
      proxy_increment_metric(id, offset) {
        const m = host._metrics.get(id >>> 0);
        const tag = id & 3;
        if (!m) return tag === 1 || tag === 2 ? R.NotFound : R.BadArgument;
        const key = `${m.type}:${m.name}`;
        const off = Number(offset);
        if (m.type === 0) {
          if (off <= 0) return R.BadArgument;
          host._metricValues.set(key, host._metricValues.get(key) + off);
          return ok;
        }
        if (m.type === 1) { host._metricValues.set(key, host._metricValues.get(key) + off); return ok; }
        return R.BadArgument;
      },
      proxy_record_metric(id, value) {
        const m = host._metrics.get(id >>> 0);
        if (!m) return R.NotFound;
        const key = `${m.type}:${m.name}`;
        const v = Number(BigInt.asUintN(64, BigInt(value)));
        if (m.type === 0) host._metricValues.set(key, host._metricValues.get(key) + v);
        else if (m.type === 1) host._metricValues.set(key, v);
        else host._metricValues.get(key).push(v);
        return ok;
      },
      proxy_get_metric(id, resultPtr) {
        const m = host._metrics.get(id >>> 0);
        if (!m) return R.NotFound;
        if (m.type === 2) return R.BadArgument;
        return host._setU64(resultPtr, host._metricValues.get(`${m.type}:${m.name}`)) ? ok : R.InvalidMemoryAccess;
      },
      proxy_set_effective_context(id) {
        if (!host._contexts.has(id >>> 0)) return R.BadArgument;
        host._effective = id >>> 0;
        return ok;
      },
      proxy_done() { return ok; },
      proxy_call_foreign_function(namePtr, nameLen, argPtr, argLen) {
        if (!host._inBounds(namePtr, nameLen) || !host._inBounds(argPtr, argLen)) return R.InvalidMemoryAccess;
        return R.NotFound;
      },
    };

    const wasi = {
      fd_write(fd, iovs, iovsLen, nwrittenPtr) {
        if (fd !== 1 && fd !== 2) return 8; // EBADF
        let s = '';
        for (let i = 0; i < iovsLen; i++) {
          if (!host._inBounds(iovs + i * 8, 8)) return 21; // EFAULT
          const p = host._dv.getUint32(iovs + i * 8, true), n = host._dv.getUint32(iovs + i * 8 + 4, true);
          if (n === 0) continue;
          const part = host._str(p, n);
          if (part === null) return 21;
          s += part;
        }
        const written = Buffer.byteLength(s, 'utf8');
        if (written) host._pushLog(fd === 1 ? LogLevel.info : LogLevel.error, s.endsWith('\n') ? s.slice(0, -1) : s);
        return host._setU32(nwrittenPtr, written) ? 0 : 21;
      },
      fd_read() { return 52; },
      fd_close() { return 0; },
      fd_seek() { return 0; },
      fd_fdstat_get(fd, statPtr) {
        if (fd !== 1 && fd !== 2) return 8;
        if (!host._inBounds(statPtr, 24)) return 21;
        host._mem.fill(0, statPtr, statPtr + 24);
        host._dv.setBigUint64(statPtr + 8, 64n, true);
        return 0;
      },
      fd_prestat_get() { return 8; },
      fd_prestat_dir_name() { return 52; },
      path_open() { return 44; },
      proc_exit(code) { throw new GuestExit(code); },
      clock_time_get(id, _precision, resultPtr) {
        let ns;
        if (id === 0) ns = BigInt(Math.round(host._now() * 1e6));
        else if (id === 1) ns = process.hrtime.bigint();
        else return 58;
        return host._setU64(resultPtr, ns) ? 0 : 21;
      },
      clock_res_get(id, resultPtr) {
        if (id !== 0 && id !== 1) return 58;
        return host._setU64(resultPtr, 1n) ? 0 : 21;
      },
      random_get(ptr, len) {
        if (len > 64 * 1024) return 28; // EINVAL (cpp-host limit)
        if (len === 0) return 0;
        const v = host._view(ptr, len);
        if (v === null) return 21;
        crypto.randomFillSync(v);
        return 0;
      },
      environ_sizes_get(countPtr, sizePtr) { return host._setU32(countPtr, 0) && host._setU32(sizePtr, 0) ? 0 : 21; },
      environ_get() { return 0; },
      args_sizes_get(argcPtr, sizePtr) { return host._setU32(argcPtr, 0) && host._setU32(sizePtr, 0) ? 0 : 21; },
      args_get() { return 0; },
      sched_yield() { return 0; },
      poll_oneoff(_in, _out, _n, neventsPtr) { return host._setU32(neventsPtr, 0) ? 0 : 21; },
    };
    return { env, wasi_unstable: wasi, wasi_snapshot_preview1: { ...wasi } };
  }
}

ProxyWasmHost.WasmResult = WasmResult;
ProxyWasmHost.FilterHeadersStatus = FilterHeadersStatus;
ProxyWasmHost.FilterDataStatus = FilterDataStatus;
ProxyWasmHost.FilterTrailersStatus = FilterTrailersStatus;
ProxyWasmHost.HeaderMapType = HeaderMapType;
ProxyWasmHost.BufferType = BufferType;
ProxyWasmHost.MetricType = MetricType;
ProxyWasmHost.LogLevel = LogLevel;

module.exports = {
  ProxyWasmHost,
  Stream,
  GuestExit,
  WasmResult,
  FilterHeadersStatus,
  FilterDataStatus,
  FilterTrailersStatus,
  HeaderMapType,
  BufferType,
  MetricType,
  LogLevel,
  // pure helpers, exported for unit tests
  _internals: { setBufferBytes, clampRange, serializePairs, deserializePairs, serializeValue, normalizeHeaders, httpToGrpcStatus },
};
