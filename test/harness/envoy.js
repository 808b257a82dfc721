// Real-Envoy harness: writes a bootstrap for one Envoy process (one "sidecar"), starts it on
// loopback, waits until it is ready, and exposes ports, logs, stats and stop().
//
// Layout of the generated bootstrap:
//   admin 127.0.0.1:<free port>
//   node {id, cluster, metadata {NAMESPACE, LABELS, SERVICE_ACCOUNT}}
//   listener 127.0.0.1:<free port> -> http_connection_manager (codec AUTO, HTTP/2 options)
//     -> [envoy.filters.http.wasm (root_id tidb-mesh, V8, local .wasm, StringValue configuration)]
//     -> envoy.filters.http.router -> cluster "upstream" (STATIC, explicit HTTP/2) -> host:port
//
// Free ports are chosen by Envoy itself (port 0) and read back from the admin API, so several
// Envoys can start at once without port races; --use-dynamic-base-id keeps their shared-memory
// regions apart. Every Envoy started here is killed when the Node process exits.
'use strict';

const { spawn } = require('child_process');
const fs = require('fs');
const http = require('http');
const net = require('net');
const os = require('os');
const path = require('path');
const YAML = require('yaml');

const ROOT = path.resolve(__dirname, '..', '..');
// TIDB_MESH_WASM overrides the filter module (e.g. a debug build) for the e2e tests and the demo.
const DEFAULT_WASM = process.env.TIDB_MESH_WASM ? path.resolve(process.env.TIDB_MESH_WASM) : path.join(ROOT, 'dist', 'tidb-mesh.wasm');
const NOOP_WASM = path.join(ROOT, 'dist', 'tidb-mesh-noop.wasm');

const running = new Set();
let exitHookInstalled = false;
function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const killAll = () => { for (const child of running) { try { child.kill('SIGKILL'); } catch { /* gone */ } } };
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, () => { killAll(); process.exit(130); });
  }
}

/** Path of the Envoy binary installed by `npm run setup`; throws (never skips) if missing. */
function envoyBinary() {
  if (process.env.ENVOY_BIN) {
    if (!fs.existsSync(process.env.ENVOY_BIN)) throw new Error(`ENVOY_BIN=${process.env.ENVOY_BIN} does not exist`);
    return process.env.ENVOY_BIN;
  }
  const marker = path.join(ROOT, '.tools', 'envoy', 'current');
  if (!fs.existsSync(marker)) {
    throw new Error(`Envoy is not installed (${path.relative(ROOT, marker)} is missing): run \`npm run setup\` first`);
  }
  const bin = fs.readFileSync(marker, 'utf8').trim();
  if (!bin || !fs.existsSync(bin)) {
    throw new Error(`Envoy binary ${bin || '(empty path)'} named in .tools/envoy/current is missing: run \`npm run setup\``);
  }
  return bin;
}

function isPlainObject(v) { return v !== null && typeof v === 'object' && !Array.isArray(v) && !Buffer.isBuffer(v); }

// Deep merge: objects merge recursively, arrays and scalars from `extra` replace.
function merge(base, extra) {
  if (extra === undefined || extra === null) return base;
  if (typeof extra === 'string') extra = YAML.parse(extra);
  if (!isPlainObject(base) || !isPlainObject(extra)) return extra;
  const out = { ...base };
  for (const [k, v] of Object.entries(extra)) out[k] = k in base ? merge(base[k], v) : v;
  return out;
}

/**
 * Builds the bootstrap object (exported for tests that want to inspect or extend it).
 * @param {object} o see startEnvoy
 * @param {{adminAddressPath: string}} files
 */
function buildBootstrap(o, files) {
  const node = o.node || {};
  const labels = node.labels || {};
  const metadata = { NAMESPACE: node.namespace || 'default', LABELS: labels };
  if (node.serviceAccount !== undefined) metadata.SERVICE_ACCOUNT = node.serviceAccount;
  Object.assign(metadata, node.extraMetadata || {});

  const httpFilters = [];
  const wasm = o.wasm === undefined ? DEFAULT_WASM : o.wasm; // null/false: no wasm filter at all
  if (wasm) {
    let configuration = o.pluginConfig === undefined ? '' : o.pluginConfig;
    if (typeof configuration !== 'string') configuration = JSON.stringify(configuration);
    httpFilters.push({
      name: 'envoy.filters.http.wasm',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm',
        config: {
          name: o.pluginName || 'tidb-mesh',
          root_id: o.rootId || 'tidb-mesh',
          configuration: { '@type': 'type.googleapis.com/google.protobuf.StringValue', value: configuration },
          vm_config: {
            vm_id: o.vmId || 'tidb-mesh',
            runtime: 'envoy.wasm.runtime.v8',
            code: { local: { filename: path.resolve(wasm) } },
          },
          fail_open: false,
        },
      },
    });
  }
  httpFilters.push(...(o.extraHttpFilters || []));
  httpFilters.push({
    name: 'envoy.filters.http.router',
    typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' },
  });

  const upstream = o.upstream || {};
  if (!upstream.port) throw new Error('startEnvoy: upstream.port is required');

  let listener = {
    name: 'tidb_mesh_listener',
    address: { socket_address: { address: '127.0.0.1', port_value: o.listenPort || 0 } },
    filter_chains: [{
      filters: [{
        name: 'envoy.filters.network.http_connection_manager',
        typed_config: {
          '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
          stat_prefix: 'tidb_mesh',
          codec_type: 'AUTO',
          http2_protocol_options: { max_concurrent_streams: 1024 },
          stream_idle_timeout: '0s',
          route_config: {
            name: 'local_route',
            virtual_hosts: [{
              name: 'upstream', domains: ['*'],
              routes: [{ match: { prefix: '/' }, route: { cluster: 'upstream', timeout: '0s' } }],
            }],
          },
          http_filters: httpFilters,
        },
      }],
    }],
  };
  let cluster = {
    name: 'upstream',
    type: 'STATIC',
    connect_timeout: '2s',
    load_assignment: {
      cluster_name: 'upstream',
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: upstream.host || '127.0.0.1', port_value: upstream.port } } } }] }],
    },
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        explicit_http_config: { http2_protocol_options: { max_concurrent_streams: 1024 } },
      },
    },
  };
  // mTLS hooks: envoy.transport_sockets.tls configs for the downstream (listener) and upstream side.
  if (o.downstreamTransportSocket) listener.filter_chains[0].transport_socket = o.downstreamTransportSocket;
  if (o.upstreamTransportSocket) cluster.transport_socket = o.upstreamTransportSocket;
  listener = merge(listener, o.extraListenerConfig);
  cluster = merge(cluster, o.extraClusterConfig);

  let bootstrap = {
    node: { id: node.id || `tidb-mesh-test-${process.pid}-${Date.now()}`, cluster: node.cluster || 'tidb-mesh-test', metadata },
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
    static_resources: { listeners: [listener, ...(o.extraListeners || [])], clusters: [cluster, ...(o.extraClusters || [])] },
  };
  bootstrap = merge(bootstrap, o.extraBootstrap);
  if (typeof o.transformBootstrap === 'function') bootstrap = o.transformBootstrap(bootstrap) || bootstrap;
  void files;
  return bootstrap;
}

function httpGet(port, pathName, timeoutMs = 2000) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: pathName, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${pathName} timed out`)));
    req.on('error', reject);
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const done = (ok) => { s.destroy(); resolve(ok); };
    s.setTimeout(1000, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts one Envoy.
 * @param {object} o
 * @param {{host?: string, port: number}} o.upstream   h2c gRPC upstream (TiKV/PD/etcd test server)
 * @param {string|null|false} [o.wasm]   .wasm path; default dist/tidb-mesh.wasm; null/false = no wasm filter
 * @param {object|string} [o.pluginConfig]  filter configuration (object is JSON.stringify'd)
 * @param {{namespace?: string, labels?: object, serviceAccount?: string, id?: string, cluster?: string, extraMetadata?: object}} [o.node]
 * @param {number} [o.concurrency=1]
 * @param {number} [o.baseId]  fixed --base-id (default: --use-dynamic-base-id)
 * @param {string} [o.logLevel='warning']  global log level
 * @param {string} [o.componentLogLevel='wasm:info']  `--component-log-level`
 * @param {object} [o.downstreamTransportSocket]  listener filter chain transport_socket (e.g. TLS with client certs)
 * @param {object} [o.upstreamTransportSocket]    upstream cluster transport_socket
 * @param {object|string} [o.extraListenerConfig]  merged into the listener (objects merge, arrays replace)
 * @param {object|string} [o.extraClusterConfig]   merged into the upstream cluster
 * @param {object[]} [o.extraListeners] [o.extraClusters] [o.extraHttpFilters] (inserted before the router)
 * @param {object|string} [o.extraBootstrap]  merged into the whole bootstrap
 * @param {(b: object) => object} [o.transformBootstrap]
 * @param {number} [o.startTimeoutMs=30000]
 * @param {string[]} [o.extraArgs]
 */
async function startEnvoy(o = {}) {
  const bin = envoyBinary();
  const wasm = o.wasm === undefined ? DEFAULT_WASM : o.wasm;
  if (wasm && !fs.existsSync(wasm)) throw new Error(`wasm module ${wasm} is missing: run \`npm run build\` first`);
  installExitHook();

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tidb-mesh-envoy-'));
  const adminAddressPath = path.join(dir, 'admin-address');
  const bootstrap = buildBootstrap(o, { adminAddressPath });
  const configPath = path.join(dir, 'envoy.yaml');
  fs.writeFileSync(configPath, YAML.stringify(bootstrap));

  const args = [
    '-c', configPath,
    '--concurrency', String(o.concurrency || 1),
    ...(o.baseId !== undefined ? ['--base-id', String(o.baseId)] : ['--use-dynamic-base-id']),
    '--admin-address-path', adminAddressPath,
    '-l', o.logLevel || 'warning',
    '--component-log-level', o.componentLogLevel || 'wasm:info',
    '--log-format', '[%Y-%m-%d %T.%e][%l][%n] %v',
    ...(o.extraArgs || []),
  ];
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let logText = '';
  const append = (c) => { logText += c.toString('utf8'); if (logText.length > 4e6) logText = logText.slice(-2e6); };
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  let exited = null;
  const exitPromise = new Promise((resolve) => child.once('exit', (code, signal) => {
    exited = { code, signal };
    running.delete(child);
    resolve(exited);
  }));

  const handle = {
    pid: child.pid,
    dir,
    configPath,
    bootstrap,
    port: 0,
    adminPort: 0,
    logs: () => logText,
    exited: () => exited,
    async stats() {
      const r = await httpGet(handle.adminPort, '/stats?format=json');
      const out = {};
      for (const s of JSON.parse(r.body).stats || []) {
        if (s.name !== undefined && s.value !== undefined) out[s.name] = s.value;
      }
      return out;
    },
    async statsText() { return (await httpGet(handle.adminPort, '/stats')).body; },
    admin: (p) => httpGet(handle.adminPort, p),
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        const t = setTimeout(() => { if (!exited) child.kill('SIGKILL'); }, 3000);
        await exitPromise;
        clearTimeout(t);
      }
      if (!o.keepTempDir) fs.rmSync(dir, { recursive: true, force: true });
    },
  };

  const fail = async (why) => {
    const logs = logText;
    await handle.stop().catch(() => {});
    throw new Error(`Envoy did not become ready: ${why}\n--- envoy config ${configPath}\n--- envoy log (tail) ---\n${logs.slice(-6000)}`);
  };

  const deadline = Date.now() + (o.startTimeoutMs || 30000);
  // 1. admin address file
  while (!fs.existsSync(adminAddressPath) || !fs.readFileSync(adminAddressPath, 'utf8').trim()) {
    if (exited) return fail(`exited early (${JSON.stringify(exited)})`);
    if (Date.now() > deadline) return fail('timeout waiting for the admin address');
    await sleep(50);
  }
  handle.adminPort = Number(fs.readFileSync(adminAddressPath, 'utf8').trim().split(':').pop());
  // 2. /ready == LIVE
  for (;;) {
    if (exited) return fail(`exited early (${JSON.stringify(exited)})`);
    if (Date.now() > deadline) return fail('timeout waiting for /ready');
    try {
      const r = await httpGet(handle.adminPort, '/ready');
      if (r.status === 200 && r.body.trim() === 'LIVE') break;
    } catch { /* not yet */ }
    await sleep(50);
  }
  // 3. listener port from the admin API, then a TCP connect
  for (;;) {
    if (exited) return fail(`exited early (${JSON.stringify(exited)})`);
    if (Date.now() > deadline) return fail('timeout waiting for the listener');
    try {
      const r = await httpGet(handle.adminPort, '/listeners?format=json');
      const st = (JSON.parse(r.body).listener_statuses || []).find((l) => l.name === 'tidb_mesh_listener');
      const addr = st && st.local_address && st.local_address.socket_address;
      if (addr && addr.port_value && await canConnect(addr.port_value)) { handle.port = addr.port_value; break; }
    } catch { /* not yet */ }
    await sleep(50);
  }
  return handle;
}

/** The two-tenant configuration used by the e2e tests and the demo (schema/plugin-config.schema.json). */
function twoTenantConfig(extra = {}) {
  return {
    version: 1,
    direction: 'outbound',
    mode: 'api-v2',
    tenants: [
      { name: 'cluster1', keyspaceId: 1, match: { namespace: 'tidb', labels: { 'app.kubernetes.io/instance': 'cluster1' } } },
      { name: 'cluster2', keyspaceId: 2, match: { namespace: 'tidb', labels: { 'app.kubernetes.io/instance': 'cluster2' } } },
    ],
    unknownCaller: 'deny',
    ...extra,
  };
}

/** Node metadata for a TiDB pod of the given tenant instance name. */
function tidbNode(instance, extra = {}) {
  return {
    id: `tidb-${instance}-0.tidb`,
    cluster: `tidb-${instance}`,
    namespace: 'tidb',
    labels: { 'app.kubernetes.io/instance': instance, 'app.kubernetes.io/component': 'tidb' },
    serviceAccount: `tidb-${instance}`,
    ...extra,
  };
}

module.exports = { startEnvoy, buildBootstrap, envoyBinary, twoTenantConfig, tidbNode, DEFAULT_WASM, NOOP_WASM, ROOT };
