// One call: the header gate (:path -> method, caller -> tenant), request and response body
// chunks, and the fail-closed decision. Every refusal goes through refuse(), which sends a
// gRPC error and makes every later callback forward nothing. A plain class, not the SDK's
// Context: index.ts dispatches the ABI and passes the returned statuses (abi.ts) through.
import {
  HEADERS_CONTINUE, HEADERS_STOP_ITERATION, DATA_CONTINUE, DATA_STOP_ITERATION_NO_BUFFER,
  TRAILERS_CONTINUE, TRAILERS_STOP_ITERATION,
} from "../abi";
import {
  getHeader, removeHeader, getBody, lastBodySize, releaseBody, replaceBody, sendGrpcError, sendHttpResponse, getPropertyString, getProperty,
  replaceHeader, percentEncode, log, LOG_INFO, HEADERS_REQUEST, HEADERS_RESPONSE, TRAILERS_RESPONSE,
  BUFFER_REQUEST_BODY, BUFFER_RESPONSE_BODY,
} from "../host";
import { lookupMethod, Method, POLICY_PASS, POLICY_DENY } from "../schema/methods";
import { Config, DIRECTION_INBOUND, Tenant } from "../config/config";
import { Identity, Selection, selectTenant, SELECT_TENANT, SELECT_PASSTHROUGH, SELECT_AMBIGUOUS } from "./identity";
import { DirectionRewriter } from "./direction";
import { refusalFor, Refusal, GRPC_PERMISSION_DENIED, GRPC_UNIMPLEMENTED, GRPC_UNAVAILABLE, GRPC_INVALID_ARGUMENT } from "./decision";
import { OK, ERR_FRAME_TRUNCATED } from "../proto/status";
import { count, Counters, unknownCounters, CALLS_REWRITTEN, CALLS_PASSED, KEYS_REWRITTEN, RESPONSES_FILTERED } from "./metrics";
import { MeshRoot } from "./root";
import { HttpCall } from "./httpcall";
import { isPdHttpRequest } from "../pdhttp/routes";
import { jsonQuote } from "../pdhttp/errors";

const STATE_NEW: i32 = 0;
const STATE_REWRITE: i32 = 1;
const STATE_PASS: i32 = 2;
const STATE_REFUSED: i32 = 3;
/** A unary response failed after its headers went out: drop the body, fix the trailers. */
const STATE_RESPONSE_FAILED: i32 = 4;

export class StreamContext {
  context_id: u32;
  root_context: MeshRoot;
  private state: i32 = STATE_NEW;
  /**
   * The configuration this call started with. Why a copy of the reference: a reconfiguration
   * may replace the root's configuration while the call is open (a long-lived BatchCommands
   * stream); the call keeps its tenant, keyspace and limits until it ends.
   */
  private config: Config | null = null;
  private tenant: Tenant | null = null;
  /**
   * The counters of the caller's metric scope (metrics.ts; made when the configuration loaded,
   * so accepted calls build no metric names) and, for logs, who the caller is. Never keys or values.
   */
  private counters: Counters = unknownCounters();
  private who: string = "unidentified caller";
  private method: Method | null = null;
  private request: DirectionRewriter | null = null;
  private response: DirectionRewriter | null = null;
  /** The refusal that replaces the upstream's grpc-status in STATE_RESPONSE_FAILED. */
  private responseRefusal: Refusal | null = null;
  /**
   * A plain-HTTP call to PD's HTTP API (/pd/api/..., not gRPC): its refusals are HTTP replies
   * with a JSON body, and once the tenant is known every callback goes to `http`.
   */
  private pdHttp: bool = false;
  private http: HttpCall | null = null;

  constructor(context_id: u32, root: MeshRoot) {
    this.context_id = context_id;
    this.root_context = root;
  }

  /**
   * The gate, in this order: a configuration exists; who the caller is (inbound: the peer
   * certificate of a verified mTLS connection; outbound: this workload, resolved once per
   * configuration); passthrough identities go through untouched whatever the method; a caller
   * that is no single tenant is denied; then the method allowlist and the request shape.
   */
  onRequestHeaders(_headers: u32, endOfStream: bool): i32 {
    const root = this.root_context;
    const path = getHeader(HEADERS_REQUEST, ":path");
    let pathStr = "";
    if (path !== null) pathStr = path as string;
    const ct = getHeader(HEADERS_REQUEST, "content-type");
    this.pdHttp = isPdHttpRequest(pathStr, ct);
    if (root.config === null) {
      return this.refuseHeaders(new Refusal(GRPC_UNAVAILABLE, "filter has no valid configuration", "no_config"), pathStr);
    }
    const config = root.config as Config;
    this.config = config;

    let sel: Selection;
    if (config.direction == DIRECTION_INBOUND) {
      const principal = mtlsPeerPrincipal();
      if (principal === null) {
        return this.refuseHeaders(new Refusal(GRPC_PERMISSION_DENIED, "no verified peer identity (mTLS required)", "no_peer_identity"), pathStr);
      }
      const id = new Identity();
      id.principal = principal;
      this.who = id.describe();
      sel = selectTenant(config, id);
    } else {
      this.who = root.outboundIdentity;
      sel = root.outbound;
    }
    if (sel.kind == SELECT_PASSTHROUGH) {
      this.state = STATE_PASS;
      if (config.direction == DIRECTION_INBOUND) this.counters = root.countersFor(sel);
      else this.counters = root.outboundCounters;
      this.counters.add(CALLS_PASSED);
      return HEADERS_CONTINUE;
    }
    if (sel.kind != SELECT_TENANT) {
      let why = "caller matches no tenant";
      if (sel.kind == SELECT_AMBIGUOUS) why = "caller matches more than one tenant";
      return this.refuseHeaders(new Refusal(GRPC_PERMISSION_DENIED, why, "unknown_tenant"), pathStr);
    }
    const tenant = sel.tenant as Tenant;
    this.tenant = tenant;
    if (config.direction == DIRECTION_INBOUND) this.counters = root.countersFor(sel);
    else this.counters = root.outboundCounters;
    this.who = "tenant " + tenant.name;

    if (this.pdHttp) {
      // PD's HTTP API: its own allowlist and rewriting (filter/httpcall.ts, pdhttp/).
      let m = "";
      const mh = getHeader(HEADERS_REQUEST, ":method");
      if (mh !== null) m = mh as string;
      const call = new HttpCall(m, pathStr, tenant.keyspace, this.counters, this.who, config.maxMessageBytes);
      this.http = call;
      return call.onRequestHeaders(endOfStream);
    }

    const method = lookupMethod(pathStr);
    if (method === null) {
      return this.refuseHeaders(new Refusal(GRPC_UNIMPLEMENTED, "method " + pathStr + " is not on the allowlist", "unknown_method"), pathStr);
    }
    this.method = method;
    if (method.policy == POLICY_DENY) {
      return this.refuseHeaders(new Refusal(GRPC_PERMISSION_DENIED, method.reason, "denied_method"), pathStr);
    }
    if (method.apiV2Only && !config.apiV2) {
      return this.refuseHeaders(new Refusal(GRPC_UNIMPLEMENTED, pathStr + " needs mode api-v2", "unsupported_in_prefix_mode"), pathStr);
    }
    if (ct === null || !(ct as string).startsWith("application/grpc")) {
      return this.refuseHeaders(new Refusal(GRPC_INVALID_ARGUMENT, "only gRPC requests are accepted", "not_grpc"), pathStr);
    }
    if (method.policy == POLICY_PASS) {
      this.state = STATE_PASS;
      this.counters.add(CALLS_PASSED);
      return HEADERS_CONTINUE;
    }
    // The body changes size, so a content-length would be wrong; and servers must not
    // compress responses the filter has to read.
    removeHeader(HEADERS_REQUEST, "content-length");
    removeHeader(HEADERS_REQUEST, "grpc-accept-encoding");
    this.state = STATE_REWRITE;
    this.counters.add(CALLS_REWRITTEN);
    return HEADERS_CONTINUE;
  }

  onRequestBody(length: usize, endOfStream: bool): i32 {
    if (this.http !== null) return (this.http as HttpCall).onRequestBody(<u32>length, endOfStream);
    if (this.state == STATE_PASS) return DATA_CONTINUE;
    if (this.state != STATE_REWRITE) return DATA_STOP_ITERATION_NO_BUFFER;
    if (this.request === null) {
      const t = this.tenant as Tenant;
      this.request = new DirectionRewriter(t.keyspace, true, (this.method as Method).request!, this.maxMessage());
    }
    return this.body(this.request as DirectionRewriter, BUFFER_REQUEST_BODY, <u32>length, endOfStream, true);
  }

  onRequestTrailers(_trailers: u32): i32 {
    if (this.http !== null) return (this.http as HttpCall).onRequestTrailers();
    if (this.state == STATE_REWRITE && this.request !== null && (this.request as DirectionRewriter).frames.pending() > 0) {
      this.refuse(refusalFor(ERR_FRAME_TRUNCATED, true));
      return TRAILERS_STOP_ITERATION;
    }
    return TRAILERS_CONTINUE;
  }

  onResponseHeaders(_headers: u32, endOfStream: bool): i32 {
    if (this.http !== null) return (this.http as HttpCall).onResponseHeaders(endOfStream);
    // Why not hold the headers until the first frame is checked: Envoy turns a plugin's
    // StopIteration from a headers callback into StopAllIterationAndWatermark (unless
    // allow_on_headers_stop_iteration, which Istio does not expose) and then stops calling
    // the body callback. Response errors are reported in the trailers instead (see below).
    if (this.state == STATE_REWRITE) removeHeader(HEADERS_RESPONSE, "content-length");
    return HEADERS_CONTINUE;
  }

  onResponseBody(length: usize, endOfStream: bool): i32 {
    if (this.http !== null) return (this.http as HttpCall).onResponseBody(<u32>length, endOfStream);
    if (this.state == STATE_RESPONSE_FAILED) {
      // Nothing more of this response reaches the client.
      if (length > 0) replaceBody(BUFFER_RESPONSE_BODY, <u32>length, 0, 0);
      if (endOfStream) this.writeFailureTrailers();
      return DATA_CONTINUE;
    }
    if (this.state != STATE_REWRITE) return DATA_CONTINUE;
    if (this.response === null) {
      const t = this.tenant as Tenant;
      const resp = new DirectionRewriter(t.keyspace, false, (this.method as Method).response!, this.maxMessage());
      // A value the response is answered from (UpdateGCSafePoint, schema/gc.ts).
      if (this.request !== null) resp.walk.carry = (this.request as DirectionRewriter).walk.carry;
      this.response = resp;
    }
    return this.body(this.response as DirectionRewriter, BUFFER_RESPONSE_BODY, <u32>length, endOfStream, false);
  }

  onResponseTrailers(_trailers: u32): i32 {
    if (this.http !== null) return (this.http as HttpCall).onResponseTrailers();
    if (this.state == STATE_REWRITE && this.response !== null && (this.response as DirectionRewriter).frames.pending() > 0) {
      this.failResponse(refusalFor(ERR_FRAME_TRUNCATED, false), false);
    }
    if (this.state == STATE_RESPONSE_FAILED) this.writeFailureTrailers();
    return TRAILERS_CONTINUE;
  }

  /**
   * A response that cannot be forwarded. The response headers have already gone out, so a
   * local reply could only reset the stream. For a unary response the body is dropped and
   * the trailers carry our grpc-status and grpc-message; a streaming response (whose
   * trailers may never come) is reset, which clients see as an error too.
   */
  private failResponse(r: Refusal, endOfStream: bool): void {
    if ((this.method as Method).streamingResponse) {
      this.refuse(r);
      return;
    }
    this.state = STATE_RESPONSE_FAILED;
    this.responseRefusal = r;
    log(LOG_INFO, "tidb-mesh: response refused for " + this.who + ": " + r.message + " [" + r.reason + "]");
    count(this.counters.scope, "frames_rejected." + r.reason);
    this.disposeRewriters();
    if (endOfStream) this.writeFailureTrailers();
  }

  private writeFailureTrailers(): void {
    const r = this.responseRefusal;
    if (r === null) return;
    replaceHeader(TRAILERS_RESPONSE, "grpc-status", (r as Refusal).grpcStatus.toString());
    replaceHeader(TRAILERS_RESPONSE, "grpc-message", percentEncode((r as Refusal).message));
    this.responseRefusal = null;
  }

  private body(d: DirectionRewriter, buffer: u32, length: u32, endOfStream: bool, isRequest: bool): i32 {
    if (length == 0 && !endOfStream) return DATA_CONTINUE;
    let ptr: usize = 0;
    let got: usize = 0;
    if (length > 0) {
      ptr = getBody(buffer, length);
      got = lastBodySize();
      if (ptr == 0 || got != <usize>length) {
        releaseBody(ptr);
        this.refuse(new Refusal(GRPC_UNAVAILABLE, "could not read the body from the proxy", "host_error"));
        return DATA_STOP_ITERATION_NO_BUFFER;
      }
    }
    const st = d.push(ptr, got, endOfStream);
    if (st != OK) {
      releaseBody(ptr);
      if (isRequest) {
        this.refuse(refusalFor(st, true));
        return DATA_STOP_ITERATION_NO_BUFFER;
      }
      replaceBody(buffer, length, 0, 0);
      this.failResponse(refusalFor(st, false), endOfStream);
      return DATA_CONTINUE;
    }
    const w = d.walk;
    if (w.keys > 0) { this.counters.add(KEYS_REWRITTEN, <i64>w.keys); w.keys = 0; }
    if (w.filtered > 0) { this.counters.add(RESPONSES_FILTERED, <i64>w.filtered); w.filtered = 0; }
    if (w.keylessRewritten > 0) { count(this.counters.scope, "keyless_rewritten", <i64>w.keylessRewritten); w.keylessRewritten = 0; }
    if (w.keylessNoEffect > 0) {
      // Not a refusal of the call (a BatchCommands stream carries other tenants' requests of
      // this TiDB too), but logged like one: the request went out without effect.
      log(LOG_INFO, "tidb-mesh: keyless lock request for " + this.who + " named no lock this tenant was shown; sent without effect [keyless_no_effect]");
      count(this.counters.scope, "keyless_no_effect", <i64>w.keylessNoEffect);
      w.keylessNoEffect = 0;
    }
    // A response chunk the walk left byte for byte as it came (keyless answers: Get values,
    // Commit, Prewrite without errors...) stays in Envoy's buffer: no proxy_set_buffer_bytes,
    // which drains and re-copies the chunk host-side. Comparing is one pass over bytes we
    // just read; requests always change (the Context), so they are not compared.
    if (!isRequest && got > 0 && d.outputLen() == got && memory.compare(d.outputPtr(), ptr, got) == 0) {
      releaseBody(ptr);
      return DATA_CONTINUE;
    }
    releaseBody(ptr);
    replaceBody(buffer, length, d.outputPtr(), d.outputLen());
    return DATA_CONTINUE;
  }

  private maxMessage(): u32 {
    return (this.config as Config).maxMessageBytes;
  }

  private refuseHeaders(r: Refusal, path: string): i32 {
    log(LOG_INFO, "tidb-mesh: denied " + path + " for " + this.who + ": " + r.message + " [" + r.reason + "]");
    this.refuse(r, true);
    return HEADERS_STOP_ITERATION;
  }

  /** Ends the call with a gRPC error; nothing is forwarded after this. */
  private refuse(r: Refusal, logged: bool = false): void {
    if (this.state == STATE_REFUSED) return;
    this.state = STATE_REFUSED;
    // Every refusal is logged once at info (refuseHeaders logs its own line with the path).
    if (!logged) log(LOG_INFO, "tidb-mesh: call ended for " + this.who + ": " + r.message + " [" + r.reason + "]");
    if (r.reason == "unknown_method" || r.reason == "denied_method" || r.reason == "unknown_tenant" ||
        r.reason == "no_peer_identity" || r.reason == "not_grpc" || r.reason == "no_config" || r.reason == "unsupported_in_prefix_mode") {
      count(this.counters.scope, "calls_denied." + r.reason);
    } else {
      count(this.counters.scope, "frames_rejected." + r.reason);
    }
    if (this.pdHttp) sendHttpResponse(httpStatusOf(r.grpcStatus), "{\"error\":" + jsonQuote(r.message) + "}", "application/json", "tidb_mesh_" + r.reason);
    else sendGrpcError(r.grpcStatus, r.message, "tidb_mesh_" + r.reason);
    this.disposeRewriters();
  }

  onDelete(): void {
    this.disposeRewriters();
    if (this.http !== null) (this.http as HttpCall).dispose();
  }

  /** Frame carry buffers live in unmanaged memory: give them back when the call ends. */
  private disposeRewriters(): void {
    if (this.request !== null) (this.request as DirectionRewriter).dispose();
    if (this.response !== null) (this.response as DirectionRewriter).dispose();
    this.request = null;
    this.response = null;
  }
}

/** The HTTP status of a gate refusal sent to a PD-HTTP caller (403 denied, 503 no configuration). */
function httpStatusOf(grpcStatus: u32): u32 {
  if (grpcStatus == GRPC_PERMISSION_DENIED) return 403;
  if (grpcStatus == GRPC_UNAVAILABLE) return 503;
  if (grpcStatus == GRPC_INVALID_ARGUMENT) return 400;
  if (grpcStatus == GRPC_UNIMPLEMENTED) return 404;
  return 500;
}

/**
 * The peer's SPIFFE principal (first URI SAN of its certificate), or null when the downstream
 * connection has no TLS peer certificate. Envoy's attributes (docs/root/intro/arch_overview/
 * advanced/attributes.rst): connection.mtls is true when TLS is applied and the peer presented
 * a certificate; connection.uri_san_peer_certificate is that certificate's first URI SAN.
 * Whether the certificate was verified is the listener's job (a validation context with the
 * mesh CA and require_client_certificate, as Istio STRICT mTLS configures); docs/identity.md.
 */
function mtlsPeerPrincipal(): string | null {
  const mtls = getProperty(["connection", "mtls"]);
  if (mtls === null || (mtls as ArrayBuffer).byteLength == 0 || load<u8>(changetype<usize>(mtls as ArrayBuffer)) == 0) return null;
  const p = getPropertyString(["connection", "uri_san_peer_certificate"]);
  if (p === null || (p as string).length == 0) return null;
  return p;
}
