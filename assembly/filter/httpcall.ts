// One call to PD's HTTP API (HTTP/1.1 + JSON under /pd/api/, on PD's gRPC port) by a tenant
// that passed the identity gate in stream.ts: the route plan (pdhttp/plan.ts), the :path
// rewrite, whole-body buffering and rewriting in both directions, and every refusal as an HTTP
// local reply with a JSON body {"error":"tidb-mesh: <why>"}. stream.ts delegates every callback
// of such a call here; the gRPC path is not involved.
import {
  HEADERS_CONTINUE, HEADERS_STOP_ITERATION, DATA_CONTINUE, DATA_STOP_ITERATION_NO_BUFFER, TRAILERS_CONTINUE, TRAILERS_STOP_ITERATION,
} from "../abi";
import {
  getHeader, removeHeader, replaceHeader, getBody, lastBodySize, releaseBody, replaceBody, sendHttpResponse, log, LOG_INFO,
  HEADERS_REQUEST, HEADERS_RESPONSE, BUFFER_REQUEST_BODY, BUFFER_RESPONSE_BODY,
} from "../host";
import { Keyspace } from "../keyspace/keyspace";
import { Writer } from "../proto/writer";
import { planRequest, rewriteBody, Plan, BodyResult } from "../pdhttp/plan";
import { errorBody, messageFor, PH_TOO_LARGE, PH_COMPRESSED, httpStatusFor, reasonFor } from "../pdhttp/errors";
import { pathOnly } from "../pdhttp/routes";
import { count, Counters, CALLS_REWRITTEN, CALLS_PASSED, KEYS_REWRITTEN, RESPONSES_FILTERED } from "./metrics";

const JSON_TYPE = "application/json";

// Request side.
/** The request goes on untouched. */
const REQ_PASS: i32 = 0;
/** The request body is being collected for the rewrite. */
const REQ_COLLECT: i32 = 1;
// Response side.
/** The response goes on untouched. */
const RESP_PASS: i32 = 0;
/** A 200 response of a route whose answer is rewritten: its headers are awaited. */
const RESP_CHECK: i32 = 1;
/** Its body is being collected for the rewrite. */
const RESP_COLLECT: i32 = 2;
/** The response failed its check after its headers went out: nothing more is forwarded. */
const RESP_FAILED: i32 = 3;

export class HttpCall {
  private plan: Plan = new Plan();
  private req: i32 = REQ_PASS;
  private resp: i32 = RESP_PASS;
  /** A local reply was sent (refusal or emulated answer): nothing of the call is forwarded. */
  private done: bool = false;
  private body: Writer | null = null;
  private out: Writer | null = null;
  private method: string;
  private path: string;
  private ks: Keyspace;
  private counters: Counters;
  private who: string;
  private maxBytes: u32;

  /** A call of the tenant with keyspace `ks` (counted in `counters`, named `who` in logs). */
  constructor(method: string, path: string, ks: Keyspace, counters: Counters, who: string, maxBytes: u32) {
    this.method = method;
    this.path = path;
    this.ks = ks;
    this.counters = counters;
    this.who = who;
    this.maxBytes = maxBytes;
  }

  /** Plans the call: a local reply (refusal, emulation), or a forward with the :path rewritten. */
  onRequestHeaders(endOfStream: bool): i32 {
    const p = planRequest(this.method, this.path, this.ks);
    this.plan = p;
    if (p.status == 200) {
      // An emulated answer: PD never sees the call.
      count(this.counters.scope, "calls_emulated");
      sendHttpResponse(200, p.body, JSON_TYPE, "tidb_mesh_emulated");
      this.done = true;
      return HEADERS_STOP_ITERATION;
    }
    if (p.status != 0) {
      this.log("denied", p.body, p.reason);
      count(this.counters.scope, "calls_denied." + p.reason);
      sendHttpResponse(<u32>p.status, p.body, JSON_TYPE, "tidb_mesh_" + p.reason);
      this.done = true;
      return HEADERS_STOP_ITERATION;
    }
    if (p.passes) {
      this.counters.add(CALLS_PASSED);
      return HEADERS_CONTINUE;
    }
    this.counters.add(CALLS_REWRITTEN);
    if (p.keys > 0) this.counters.add(KEYS_REWRITTEN, <i64>p.keys);
    if (p.path !== null) replaceHeader(HEADERS_REQUEST, ":path", p.path as string);
    if (p.rewritesResponse) {
      // PD must answer in plain JSON when the filter reads the answer (Go's transport asks for
      // gzip by itself; PD does not compress today, and a compressed answer is refused).
      removeHeader(HEADERS_REQUEST, "accept-encoding");
      this.resp = RESP_CHECK;
    }
    if (p.rewritesRequest) {
      // The body changes size: the upstream gets it chunked instead.
      removeHeader(HEADERS_REQUEST, "content-length");
      this.req = REQ_COLLECT;
      // No body at all: the rewrite of an empty body refuses it (400) before PD sees anything.
      if (endOfStream && !this.finishRequest(0, false)) return HEADERS_STOP_ITERATION;
    }
    return HEADERS_CONTINUE;
  }

  onRequestBody(length: u32, endOfStream: bool): i32 {
    if (this.done) return DATA_STOP_ITERATION_NO_BUFFER;
    if (this.req != REQ_COLLECT) return DATA_CONTINUE;
    if (!this.collect(BUFFER_REQUEST_BODY, length, true)) return DATA_STOP_ITERATION_NO_BUFFER;
    if (!endOfStream) {
      // Held here until the whole body is in: forward nothing yet.
      if (length > 0) replaceBody(BUFFER_REQUEST_BODY, length, 0, 0);
      return DATA_CONTINUE;
    }
    if (!this.finishRequest(length, true)) return DATA_STOP_ITERATION_NO_BUFFER;
    return DATA_CONTINUE;
  }

  onRequestTrailers(): i32 {
    if (this.done) return TRAILERS_STOP_ITERATION;
    if (this.req == REQ_COLLECT) {
      this.refuse(400, "malformed request: request trailers are not supported on rewritten PD HTTP routes", "malformed", "frames_rejected");
      return TRAILERS_STOP_ITERATION;
    }
    return TRAILERS_CONTINUE;
  }

  /**
   * Why the check waits for the body while the headers go on: Envoy turns a plugin's
   * StopIteration from a headers callback into StopAllIterationAndWatermark (Istio does not
   * expose allow_on_headers_stop_iteration) and then stops calling the body callback. So a
   * response that fails its check after this point cannot become a 502 any more; Envoy resets
   * the stream instead (see failResponseWith). Failures known here (compression, no body) are
   * 502s with the JSON error.
   */
  onResponseHeaders(endOfStream: bool): i32 {
    if (this.done || this.resp != RESP_CHECK) return HEADERS_CONTINUE;
    const status = getHeader(HEADERS_RESPONSE, ":status");
    if (status === null || (status as string) != "200") {
      // PD's errors are JSON strings about the request; they pass as they are.
      this.resp = RESP_PASS;
      return HEADERS_CONTINUE;
    }
    const enc = getHeader(HEADERS_RESPONSE, "content-encoding");
    if (enc !== null && (enc as string).length > 0 && (enc as string) != "identity") {
      this.failResponseStatus(PH_COMPRESSED);
      return HEADERS_STOP_ITERATION;
    }
    removeHeader(HEADERS_RESPONSE, "content-length");
    this.resp = RESP_COLLECT;
    if (endOfStream) {
      // A 200 without a body is not the JSON the route answers with.
      const r = this.rewrite(false, 0, 0);
      if (r.status != 0) { this.failResponse(r); return HEADERS_STOP_ITERATION; }
      this.resp = RESP_PASS;
    }
    return HEADERS_CONTINUE;
  }

  onResponseBody(length: u32, endOfStream: bool): i32 {
    if (this.resp == RESP_FAILED) {
      if (length > 0) replaceBody(BUFFER_RESPONSE_BODY, length, 0, 0);
      return DATA_STOP_ITERATION_NO_BUFFER;
    }
    if (this.done || this.resp != RESP_COLLECT) return DATA_CONTINUE;
    if (!this.collect(BUFFER_RESPONSE_BODY, length, false)) return DATA_STOP_ITERATION_NO_BUFFER;
    if (!endOfStream) {
      if (length > 0) replaceBody(BUFFER_RESPONSE_BODY, length, 0, 0);
      return DATA_CONTINUE;
    }
    const b = this.body as Writer;
    const r = this.rewrite(false, b.ptr, b.len);
    if (r.status != 0) {
      if (length > 0) replaceBody(BUFFER_RESPONSE_BODY, length, 0, 0);
      this.failResponse(r);
      return DATA_STOP_ITERATION_NO_BUFFER;
    }
    const o = this.out as Writer;
    replaceBody(BUFFER_RESPONSE_BODY, length, o.ptr, o.len);
    this.resp = RESP_PASS;
    this.dispose();
    return DATA_CONTINUE;
  }

  onResponseTrailers(): i32 {
    if (this.resp == RESP_COLLECT) {
      // HTTP/1.1 PD answers have no trailers; the body could not be replaced from here.
      this.failResponseWith(502, "malformed response: trailers on a rewritten PD HTTP route", "malformed");
    }
    return TRAILERS_CONTINUE;
  }

  /** Frees the body buffers. */
  dispose(): void {
    if (this.body !== null) (this.body as Writer).free();
    if (this.out !== null) (this.out as Writer).free();
    this.body = null;
    this.out = null;
  }

  /** Appends the current chunk to the body buffer; false (call ended) on a host error or oversize. */
  private collect(buffer: u32, length: u32, request: bool): bool {
    if (this.body === null) this.body = new Writer(<usize>length + 256);
    const b = this.body as Writer;
    if (<u64>b.len + <u64>length > <u64>this.maxBytes) {
      if (request) this.refuse(413, messageFor(PH_TOO_LARGE, true), reasonFor(PH_TOO_LARGE), "frames_rejected");
      else this.failResponseStatus(PH_TOO_LARGE);
      return false;
    }
    if (length == 0) return true;
    const ptr = getBody(buffer, length);
    const got = lastBodySize();
    if (ptr == 0 || got != <usize>length) {
      releaseBody(ptr);
      if (request) this.refuse(503, "could not read the body from the proxy", "host_error", "frames_rejected");
      else this.failResponseWith(502, "could not read the body from the proxy", "host_error");
      return false;
    }
    b.bytes(ptr, got);
    releaseBody(ptr);
    return true;
  }

  /**
   * Rewrites the collected request body and, when `chunk`, puts it in place of the current
   * (last) chunk of `length` bytes. False when the call was refused.
   */
  private finishRequest(length: u32, chunk: bool): bool {
    let p: usize = 0, n: usize = 0;
    if (this.body !== null) { p = (this.body as Writer).ptr; n = (this.body as Writer).len; }
    const r = this.rewrite(true, p, n);
    if (r.status != 0) {
      this.refuse(<u32>r.httpStatus, r.message, r.reason, "frames_rejected");
      return false;
    }
    if (chunk) {
      const o = this.out as Writer;
      replaceBody(BUFFER_REQUEST_BODY, length, o.ptr, o.len);
    }
    this.req = REQ_PASS;
    this.dispose();
    return true;
  }

  private rewrite(request: bool, p: usize, n: usize): BodyResult {
    if (this.out === null) this.out = new Writer(n + 64);
    const r = rewriteBody(this.plan, request, this.ks, p, n, this.out as Writer);
    if (r.status == 0) {
      if (r.keys > 0) this.counters.add(KEYS_REWRITTEN, <i64>r.keys);
      if (r.filtered > 0) this.counters.add(RESPONSES_FILTERED, <i64>r.filtered);
    }
    return r;
  }

  /** Ends the call with an HTTP error before any response went out. */
  private refuse(status: u32, message: string, reason: string, counter: string): void {
    const body = errorBody(message);
    this.log("refused", body, reason);
    count(this.counters.scope, counter + "." + reason);
    sendHttpResponse(status, body, JSON_TYPE, "tidb_mesh_" + reason);
    this.done = true;
    this.dispose();
  }

  private failResponse(r: BodyResult): void {
    this.failResponseWith(<u32>r.httpStatus, r.message, r.reason);
  }

  private failResponseStatus(st: i32): void {
    this.failResponseWith(<u32>httpStatusFor(st), messageFor(st, false), reasonFor(st));
  }

  /**
   * A response that must not reach the tenant. From onResponseHeaders this is a real 502 with
   * the JSON error; from a body callback the upstream's status line is already out and Envoy
   * resets the stream (the client sees the connection end before the body does).
   */
  private failResponseWith(status: u32, message: string, reason: string): void {
    const body = errorBody(message);
    this.log("response refused", body, reason);
    count(this.counters.scope, "frames_rejected." + reason);
    sendHttpResponse(status, body, JSON_TYPE, "tidb_mesh_" + reason);
    this.resp = RESP_FAILED;
    this.dispose();
  }

  private log(what: string, body: string, reason: string): void {
    log(LOG_INFO, "tidb-mesh: " + what + " " + this.method + " " + pathOnly(this.path) + " for " + this.who + ": " + body + " [" + reason + "]");
  }
}
