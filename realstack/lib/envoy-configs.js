// Envoy bootstraps for the real-stack topology (pure: plain objects in, plain objects out).
//
//   tenant netns                                   storage netns
//   ┌──────────────────────────────┐               ┌──────────────────────────────────┐
//   │ tidb-server ─► 127.0.0.1:2379 ┼─ sidecar ──► │ pd.sock   ─ gateway ─► PD :2379   │
//   │             ─► 127.0.0.1:20160┼─ Envoy  ──► │ tikv.sock ─ Envoy   ─► store :20160│
//   └──────────────────────────────┘  (unix sockets on the shared filesystem)          │
//
// PD advertises 127.0.0.1:2379 and the store 127.0.0.1:20160, so every address TiDB learns from
// PD (GetMembers, GetStore, etcd MemberList) lands on its own sidecar, as Istio's interception
// makes it. Outbound mode: the sidecar runs the filter, the gateway is a plain TCP proxy.
// Inbound mode: the sidecar only originates mTLS with the tenant's SPIFFE certificate; the
// gateway terminates it and runs the filter, identifying the tenant by that certificate.
'use strict';

const path = require('path');

const ANY = 'type.googleapis.com/';

/** The tidb-mesh Wasm HTTP filter with a JSON configuration. */
function wasmFilter(wasmPath, pluginConfig) {
  return {
    name: 'envoy.filters.http.wasm',
    typed_config: {
      '@type': ANY + 'envoy.extensions.filters.http.wasm.v3.Wasm',
      config: {
        name: 'tidb-mesh', root_id: 'tidb-mesh',
        configuration: { '@type': ANY + 'google.protobuf.StringValue', value: JSON.stringify(pluginConfig) },
        vm_config: { vm_id: 'tidb-mesh', runtime: 'envoy.wasm.runtime.v8', code: { local: { filename: path.resolve(wasmPath) } } },
        fail_open: false,
      },
    },
  };
}

const router = { name: 'envoy.filters.http.router', typed_config: { '@type': ANY + 'envoy.extensions.filters.http.router.v3.Router' } };

function pipe(p) { return { pipe: { path: p } }; }
function tcp(port) { return { socket_address: { address: '127.0.0.1', port_value: port } }; }

/**
 * An HTTP listener: codec AUTO because TiDB speaks HTTP/1.1 (PD's HTTP API) and HTTP/2 (gRPC)
 * on the same PD port; no timeouts, since BatchCommands, Tso and Watch streams never end.
 */
/**
 * One JSON line per call (what TiDB called, with which outcome): the inventory of the calls a
 * real TiDB makes comes from these, not from what we believe it sends.
 */
function accessLog(file) {
  return [{
    name: 'envoy.access_loggers.file',
    typed_config: {
      '@type': ANY + 'envoy.extensions.access_loggers.file.v3.FileAccessLog',
      path: file,
      log_format: { json_format: { listener: '%REQ(:AUTHORITY)%', method: '%REQ(:METHOD)%', path: '%REQ(:PATH)%', protocol: '%PROTOCOL%', code: '%RESPONSE_CODE%', grpc: '%GRPC_STATUS_NUMBER%', details: '%RESPONSE_CODE_DETAILS%', duration_ms: '%DURATION%' } },
    },
  }];
}

function httpListener(name, address, cluster, filters, transportSocket, accessLogFile) {
  const chain = {
    filters: [{
      name: 'envoy.filters.network.http_connection_manager',
      typed_config: {
        '@type': ANY + 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
        stat_prefix: name,
        codec_type: 'AUTO',
        http2_protocol_options: { max_concurrent_streams: 1024, initial_stream_window_size: 16777216, initial_connection_window_size: 33554432 },
        stream_idle_timeout: '0s',
        request_timeout: '0s',
        route_config: {
          name, virtual_hosts: [{ name, domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster, timeout: '0s' } }] }],
        },
        http_filters: [...filters, router],
        ...(accessLogFile ? { access_log: accessLog(accessLogFile) } : {}),
      },
    }],
  };
  if (transportSocket) chain.transport_socket = transportSocket;
  return { name, address, filter_chains: [chain] };
}

/** A cluster that speaks to its upstream in whatever protocol the downstream used. */
function httpCluster(name, address, transportSocket) {
  const c = {
    name, type: 'STATIC', connect_timeout: '5s',
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address } }] }] },
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': ANY + 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        use_downstream_protocol_config: {
          http_protocol_options: {},
          http2_protocol_options: { max_concurrent_streams: 1024, initial_stream_window_size: 16777216, initial_connection_window_size: 33554432 },
        },
      },
    },
  };
  if (transportSocket) c.transport_socket = transportSocket;
  return c;
}

function tcpListener(name, address, cluster) {
  return {
    name, address,
    filter_chains: [{ filters: [{ name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': ANY + 'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy', stat_prefix: name, cluster, idle_timeout: '0s' } }] }],
  };
}

function tcpCluster(name, address) {
  return { name, type: 'STATIC', connect_timeout: '5s', load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address } }] }] } };
}

function tls(kind, certs, alpn) {
  const common = {
    tls_certificates: [{ certificate_chain: { filename: certs.cert }, private_key: { filename: certs.key } }],
    validation_context: { trusted_ca: { filename: certs.ca } },
  };
  if (alpn) common.alpn_protocols = alpn;
  if (kind === 'downstream') {
    return { name: 'envoy.transport_sockets.tls', typed_config: { '@type': ANY + 'envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext', require_client_certificate: true, common_tls_context: common } };
  }
  return { name: 'envoy.transport_sockets.tls', typed_config: { '@type': ANY + 'envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', common_tls_context: common } };
}

function bootstrap(nodeId, node, adminPipe, listeners, clusters) {
  return {
    node: { id: nodeId, cluster: node.cluster || nodeId, metadata: node.metadata || {} },
    admin: { address: pipe(adminPipe) },
    static_resources: { listeners, clusters },
  };
}

/**
 * The sidecar of one tenant TiDB (runs inside the tenant's netns).
 * @param {object} o
 * @param {string} o.name            tenant name
 * @param {object} o.node            {cluster, metadata: {NAMESPACE, LABELS, SERVICE_ACCOUNT}} (Istio's node metadata)
 * @param {string} o.adminPipe       admin API unix socket
 * @param {{pd: string, tikv: string}} o.upstream   the gateway's unix sockets
 * @param {string|null} o.wasm       filter .wasm (outbound mode) or null (no filter)
 * @param {object|null} o.pluginConfig
 * @param {object|null} o.certs      {cert, key, ca}: originate mTLS (inbound mode)
 * @param {string} [o.accessLog]     JSON access log file (one line per call)
 * @param {Array<{pipe: string, port: number}>} [o.inbound]   plain TCP from a unix socket to an
 *        app port in this netns (Istio's inbound path; a TiProxy reaches the tidb-servers so)
 * @param {Array<{port: number, pipe: string}>} [o.forward]   plain TCP from 127.0.0.1:port to
 *        another sidecar's inbound socket (Istio's outbound path to a service; no filter)
 */
function sidecar(o) {
  const filters = o.wasm ? [wasmFilter(o.wasm, o.pluginConfig)] : [];
  // No ALPN list upstream: Envoy's HTTP/1 and HTTP/2 pools each offer their own protocol, and
  // the gateway's codec AUTO detects it either way.
  const up = o.certs ? tls('upstream', o.certs, undefined) : null;
  const b = bootstrap(`sidecar-${o.name}`, o.node, o.adminPipe, [
    httpListener('pd', tcp(2379), 'pd', filters, null, o.accessLog),
    httpListener('tikv', tcp(20160), 'tikv', filters, null, o.accessLog),
  ], [httpCluster('pd', pipe(o.upstream.pd), up), httpCluster('tikv', pipe(o.upstream.tikv), up)]);
  for (const x of o.inbound || []) {
    b.static_resources.listeners.push(tcpListener(`in_${x.port}`, pipe(x.pipe), `in_${x.port}`));
    b.static_resources.clusters.push(tcpCluster(`in_${x.port}`, tcp(x.port)));
  }
  for (const x of o.forward || []) {
    b.static_resources.listeners.push(tcpListener(`fwd_${x.port}`, tcp(x.port), `fwd_${x.port}`));
    b.static_resources.clusters.push(tcpCluster(`fwd_${x.port}`, pipe(x.pipe)));
  }
  return b;
}

/**
 * The storage-side gateway (runs inside the storage netns). Outbound mode: TCP proxy.
 * Inbound mode (o.wasm + o.certs): mTLS termination and the filter in inbound direction.
 */
function gateway(o) {
  if (!o.wasm) {
    return bootstrap('gateway', {}, o.adminPipe,
      [tcpListener('pd', pipe(o.listen.pd), 'pd'), tcpListener('tikv', pipe(o.listen.tikv), 'tikv')],
      [tcpCluster('pd', tcp(2379)), tcpCluster('tikv', tcp(20160))]);
  }
  const filters = [wasmFilter(o.wasm, o.pluginConfig)];
  const down = tls('downstream', o.certs, ['h2', 'http/1.1']);
  return bootstrap('gateway', {}, o.adminPipe, [
    httpListener('pd', pipe(o.listen.pd), 'pd', filters, down, o.accessLog),
    httpListener('tikv', pipe(o.listen.tikv), 'tikv', filters, down, o.accessLog),
  ], [httpCluster('pd', tcp(2379)), httpCluster('tikv', tcp(20160))]);
}

module.exports = { sidecar, gateway };
