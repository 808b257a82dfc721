#!/usr/bin/env node
// Step 2 of the real stack: start one PD, one unistore store and N unmodified tidb-servers, each
// tenant in its own network namespace behind its own sidecar Envoy, as Istio's interception
// makes it (lib/envoy-configs.js draws the topology). Modes:
//   outbound   the filter in each tenant's sidecar, tenant from Istio node metadata (default)
//   inbound    the filter on the storage gateway, tenant from the sidecar's mTLS certificate
//   keyspace   no filter; each tidb-server runs TiDB's own keyspace mode (--keyspace-name),
//              the reference the mesh is compared with
//
// Options for TiProxy (docs/tiproxy.md): `tidbsPerTenant: N` runs N tidb-servers per tenant netns
// (SQL 4000+i, status 10080+i); `tiproxy: true | {labelName, sidecar(t) -> {node, pluginConfig}}`
// runs per tenant a tiproxy-standin in its own netns behind its own sidecar (lib/tiproxy.js).
// The defaults (one tidb-server, no TiProxy) are what test/tidb/real-tidb.test.js runs.
//
// Options for the SQL benchmark (bench/sql.js), defaults unchanged:
//   sidecarFilter  outbound mode: 'mesh' (default, dist/tidb-mesh.wasm), 'noop' (the no-op wasm
//                  filter, dist/tidb-mesh-noop.wasm) or 'none' (a sidecar without wasm). With
//                  'noop'/'none' the tidb-servers are plain API-v1 TiDBs: run ONE tenant then
//                  (two would share one key space) and requireKeyspace: false.
//   requireKeyspace  true (default): the store refuses requests without api_version=V2 and a
//                  keyspace (--require-keyspace v2); false: no check, as a plain TiKV.
//   direct         keyspace mode only: the tidb-servers run in the storage netns and talk to
//                  PD and the store directly, no sidecar, no gateway (ONE tenant: ports 4000/10080).
//
// CLI:  node realstack/stack.js up [--mode outbound|inbound|keyspace] [--dir DIR]   (Ctrl-C stops)
// API:  const s = await startStack({mode}); ...; await s.stop();
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const YAML = require('yaml');

const { ensureBinaries } = require('./lib/binaries');
const { sidecar, gateway } = require('./lib/envoy-configs');
const P = require('./lib/processes');
const { Mysql } = require('./lib/mysql');
const TP = require('./lib/tiproxy');

const ROOT = path.resolve(__dirname, '..');

/** The tenants of every run: same names and ids in mesh and keyspace mode. */
const TENANTS = [
  { name: 'tenant1', keyspaceId: 1 },
  { name: 'tenant2', keyspaceId: 2 },
];

function envoyBinary() {
  return require('../test/harness/envoy').envoyBinary();
}

/** The filter configuration Istio would deliver (schema/plugin-config.schema.json). */
function pluginConfig(mode, tenants, principals) {
  if (mode === 'inbound') {
    return {
      version: 1, direction: 'inbound', mode: 'api-v2', unknownCaller: 'deny',
      tenants: tenants.map((t) => ({ name: t.name, keyspaceId: t.keyspaceId, match: { principals: [principals[t.name]] } })),
    };
  }
  return {
    version: 1, direction: 'outbound', mode: 'api-v2', unknownCaller: 'deny',
    tenants: tenants.map((t) => ({ name: t.name, keyspaceId: t.keyspaceId, match: { namespace: 'tidb', labels: { 'app.kubernetes.io/instance': t.name } } })),
  };
}

/** Istio's node metadata for a TiProxy pod of tenant `name` (operator v1 labels; matches the stack's table). */
function tiproxyNodeMetadata(name) {
  return {
    cluster: `tiproxy-${name}`,
    metadata: { NAMESPACE: 'tidb', LABELS: { 'app.kubernetes.io/instance': name, 'app.kubernetes.io/component': 'tiproxy' }, SERVICE_ACCOUNT: `tiproxy-${name}` },
  };
}

/** Istio's node metadata for a TiDB pod of tenant `name`. */
function tidbNodeMetadata(name) {
  return {
    cluster: `tidb-${name}`,
    metadata: { NAMESPACE: 'tidb', LABELS: { 'app.kubernetes.io/instance': name, 'app.kubernetes.io/component': 'tidb' }, SERVICE_ACCOUNT: `tidb-${name}` },
  };
}

function pdConfig(tenants) {
  // max-replicas 1: one store. The keyspaces are created in every mode so that PD's view
  // (and the ids) are the same in the mesh runs and in the keyspace-mode reference run.
  return [
    '[replication]', 'max-replicas = 1',
    '[keyspace]', `pre-alloc = [${tenants.map((t) => `"${t.name}"`).join(', ')}]`, 'wait-region-split = false', '',
  ].join('\n');
}

function tidbConfig(o) {
  const lines = [
    // split-table: unistore's SplitRegion is a no-op; run-auto-analyze: less background noise.
    'split-table = false',
    `socket = "${o.socket}"`,
    // Each tidb-server locks its temp dir, which defaults to one path per host:port.
    `temp-dir = "${o.tmp}"`,
    `tmp-storage-path = "${o.tmp}/tmp-storage"`,
  ];
  if (o.keyspaceName) lines.push(`keyspace-name = "${o.keyspaceName}"`);
  lines.push('[performance]', 'run-auto-analyze = false', '[log]', 'level = "info"');
  // Server labels (what TiProxy's balance.label-name matches), only when given.
  if (o.labels) lines.push('[labels]', ...Object.entries(o.labels).map(([k, v]) => `${k} = "${v}"`));
  lines.push('');
  return lines.join('\n');
}

async function envoyReady(adminPipe) {
  const r = await P.httpUnix(adminPipe, 'GET', '/ready');
  return r.status === 200 && r.body.trim() === 'LIVE';
}

/**
 * Starts the stack. Returns {mode, dir, tenants: [{name, keyspaceId, mysql, sidecarAdmin, ns}],
 * raw(), rawKeys(prefixHex), storeStats(), pdDirect(method, path, body), sidecarStats(name),
 * stop()}. On failure everything already started is stopped and the error names the log.
 */
async function startStack({ mode = 'outbound', dir = null, tenants = TENANTS, wasm = path.join(ROOT, 'dist', 'tidb-mesh.wasm'), log = console.log, capture = true,
  tidbsPerTenant = 1, tiproxy = null, sidecarFilter = 'mesh', requireKeyspace = true, direct = false } = {}) {
  if (!['outbound', 'inbound', 'keyspace'].includes(mode)) throw new Error(`realstack: unknown mode ${mode}`);
  if (!['mesh', 'noop', 'none'].includes(sidecarFilter)) throw new Error(`realstack: unknown sidecarFilter ${sidecarFilter}`);
  if (sidecarFilter !== 'mesh' && mode !== 'outbound') throw new Error('realstack: sidecarFilter applies to outbound mode only');
  if (direct && (mode !== 'keyspace' || tiproxy)) throw new Error('realstack: direct applies to keyspace mode without tiproxy only');
  if ((direct || sidecarFilter !== 'mesh') && (tenants.length > 1 || tidbsPerTenant > 1)) throw new Error('realstack: direct and sidecarFilter noop/none run one tenant, one tidb-server');
  if (sidecarFilter === 'noop') wasm = path.join(ROOT, 'dist', 'tidb-mesh-noop.wasm');
  const sidecarWasm = mode === 'outbound' && sidecarFilter !== 'none' ? wasm : null;
  if (process.getuid && process.getuid() !== 0) throw new Error('realstack: network namespaces need root');
  if ((mode === 'inbound' || sidecarWasm) && !fs.existsSync(wasm)) throw new Error(`realstack: ${wasm} is missing: run npm run build`);
  if (tiproxy && mode !== 'outbound') throw new Error('realstack: tiproxy needs mode outbound (its filter is in its own sidecar)');
  const tp = tiproxy === true ? {} : tiproxy;
  const bins = ensureBinaries({ quiet: true, names: tenants.length ? ['pd-server', 'unistore-server', 'tidb-server', ...(tp ? ['tiproxy-standin'] : [])] : ['pd-server', 'unistore-server'] });
  const envoy = envoyBinary();
  const id = `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
  dir = dir || fs.mkdtempSync(path.join(os.tmpdir(), 'tm-'));
  fs.mkdirSync(dir, { recursive: true });
  const f = (n) => path.join(dir, n);
  const procs = [];
  const namespaces = [];
  const stack = { mode, dir, tenants: [], procs, bins, admins: {} };

  // The run dir keeps logs, captures and configs for a look afterwards; the data dirs (a few
  // hundred MB of preallocated badger and etcd files per run) go unless TIDB_MESH_KEEP_DATA=1.
  const stop = async () => {
    for (const p of procs.slice().reverse()) await P.stopProcess(p);
    for (const n of namespaces) P.deleteNetns(n);
    if (process.env.TIDB_MESH_KEEP_DATA !== '1') {
      for (const d of ['store-data', 'pd-data']) fs.rmSync(f(d), { recursive: true, force: true });
    }
  };
  stack.stop = stop;
  const exitHook = () => { for (const p of procs) { try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ } } for (const n of namespaces) P.deleteNetns(n); };
  process.once('exit', exitHook);

  try {
    const t0 = Date.now();
    const storageNs = `tm-${id}-s`;
    P.createNetns(storageNs); namespaces.push(storageNs);

    // Certificates for inbound mode: one SPIFFE identity per tenant, as Istio's CA issues them.
    let certs = null;
    const principals = {};
    if (mode === 'inbound') {
      const { makeCa, spiffe } = require('../test/harness/certs');
      const ca = makeCa(f('ca'), 'tidb-mesh-realstack-ca');
      certs = { gateway: { ...ca.issue('gateway', spiffe('tidb-storage', 'pd')), ca: ca.cert } };
      for (const t of tenants) {
        principals[t.name] = spiffe('tidb', `tidb-${t.name}`);
        certs[t.name] = { ...ca.issue(t.name, principals[t.name]), ca: ca.cert };
      }
    }

    fs.writeFileSync(f('pd.toml'), pdConfig(tenants));
    const pd = P.startProcess('pd-server', storageNs, bins['pd-server'], [
      '--name', 'pd', '--data-dir', f('pd-data'), '--config', f('pd.toml'),
      '--client-urls', 'http://127.0.0.1:2379', '--advertise-client-urls', 'http://127.0.0.1:2379',
      '--peer-urls', 'http://127.0.0.1:2380', '--advertise-peer-urls', 'http://127.0.0.1:2380',
      '--log-file', f('pd.log'),
    ], f('pd.stdout'));
    procs.push(pd);

    const sock = { pd: f('pd.sock'), tikv: f('tikv.sock'), pdDirect: f('pd-direct.sock'), raw: f('store-status.sock') };
    const gw = gateway({
      adminPipe: f('gateway-admin.sock'), listen: { pd: sock.pd, tikv: sock.tikv },
      wasm: mode === 'inbound' ? wasm : null, pluginConfig: mode === 'inbound' ? pluginConfig('inbound', tenants, principals) : null,
      certs: certs && certs.gateway, accessLog: f('gateway-access.jsonl'),
    });
    // The platform's own door to PD (for checks that bypass the mesh): a plain TCP proxy.
    gw.static_resources.listeners.push({
      name: 'pd_direct', address: { pipe: { path: sock.pdDirect } },
      filter_chains: [{ filters: [{ name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy', stat_prefix: 'pd_direct', cluster: 'pd_direct' } }] }],
    });
    gw.static_resources.clusters.push({ name: 'pd_direct', type: 'STATIC', connect_timeout: '5s', load_assignment: { cluster_name: 'pd_direct', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 2379 } } } }] }] } });
    fs.writeFileSync(f('gateway.yaml'), YAML.stringify(gw));
    const gwProc = P.startProcess('gateway-envoy', storageNs, envoy, ['-c', f('gateway.yaml'), '--use-dynamic-base-id', '--log-level', 'warn', '--component-log-level', 'wasm:info', '--concurrency', '2'], f('gateway.log'));
    procs.push(gwProc);
    await P.waitFor('gateway Envoy', () => envoyReady(f('gateway-admin.sock')), { proc: gwProc, timeoutMs: 30000 });
    const pdDirect = (method, p, body) => P.httpUnix(sock.pdDirect, method, p, body);
    await P.waitFor('PD', async () => (await pdDirect('GET', '/pd/api/v1/health')).status === 200, { proc: pd, timeoutMs: 60000 });

    const store = P.startProcess('unistore-server', storageNs, bins['unistore-server'], [
      '--pd', '127.0.0.1:2379', '--addr', '127.0.0.1:20160', '--status-addr', 'unix:' + sock.raw,
      '--data-dir', f('store-data'), ...(requireKeyspace ? ['--require-keyspace', 'v2'] : []),
      ...(capture ? ['--capture', f('store-capture.jsonl')] : []),
    ], f('store.log'));
    procs.push(store);
    await P.waitFor('store registered in PD', async () => {
      const r = await pdDirect('GET', '/pd/api/v1/stores');
      const s = JSON.parse(r.body);
      return s.count >= 1 && s.stores.every((x) => x.store.state_name === 'Up');
    }, { proc: store, timeoutMs: 60000 });
    log(`realstack: storage up in ${((Date.now() - t0) / 1000).toFixed(1)} s (PD, unistore, gateway in netns ${storageNs})`);

    // tidb-server i of a tenant (tidbsPerTenant > 1): SQL 4000+i, status 10080+i; i = 0 is the
    // tenant's tidb-server below, with its usual names. The *.in.sock are its sidecar's inbound
    // sockets (only with tiproxy).
    const tidbPorts = (name) => Array.from({ length: tidbsPerTenant }, (_, i) => ({
      i, port: 4000 + i, statusPort: 10080 + i, sqlIn: f(`${name}-tidb${i}-sql.in.sock`), statusIn: f(`${name}-tidb${i}-status.in.sock`),
    }));
    const tidbLabels = (name) => (tp ? { [tp.labelName || 'tenant']: name } : null);

    // One netns per tenant: sidecar + unmodified tidb-server (direct: the storage netns, no sidecar).
    for (const t of tenants) {
      if (direct) {
        stack.tenants.push({ ...t, ns: storageNs, sidecarAdmin: null, sidecarProc: null, socket: f(`${t.name}-mysql.sock`) });
        continue;
      }
      const ns = `tm-${id}-${t.keyspaceId}`;
      P.createNetns(ns); namespaces.push(ns);
      const admin = f(`${t.name}-sidecar-admin.sock`);
      const sc = sidecar({
        name: t.name, node: tidbNodeMetadata(t.name), adminPipe: admin, upstream: { pd: sock.pd, tikv: sock.tikv },
        wasm: sidecarWasm, pluginConfig: sidecarWasm ? pluginConfig('outbound', tenants) : null,
        certs: mode === 'inbound' ? certs[t.name] : null, accessLog: f(`${t.name}-access.jsonl`),
        inbound: tp ? tidbPorts(t.name).flatMap((d) => [{ pipe: d.sqlIn, port: d.port }, { pipe: d.statusIn, port: d.statusPort }]) : undefined,
      });
      stack.admins[t.name] = admin;
      fs.writeFileSync(f(`${t.name}-sidecar.yaml`), YAML.stringify(sc));
      const scProc = P.startProcess(`${t.name}-sidecar`, ns, envoy, ['-c', f(`${t.name}-sidecar.yaml`), '--use-dynamic-base-id', '--log-level', 'warn', '--component-log-level', 'wasm:info', '--concurrency', '2'], f(`${t.name}-sidecar.log`));
      procs.push(scProc);
      stack.tenants.push({ ...t, ns, sidecarAdmin: admin, sidecarProc: scProc, socket: f(`${t.name}-mysql.sock`) });
    }
    for (const t of stack.tenants) if (t.sidecarProc) await P.waitFor(`${t.name} sidecar`, () => envoyReady(t.sidecarAdmin), { proc: t.sidecarProc, timeoutMs: 30000 });

    const t1 = Date.now();
    for (const t of stack.tenants) {
      fs.writeFileSync(f(`${t.name}-tidb.toml`), tidbConfig({ socket: t.socket, tmp: f(`${t.name}-tmp`), keyspaceName: mode === 'keyspace' ? t.name : null, labels: tidbLabels(t.name) }));
      t.tidbArgs = [
        '--store', 'tikv', '--path', '127.0.0.1:2379', '--host', '127.0.0.1', '-P', '4000', '--status', '10080',
        '--config', f(`${t.name}-tidb.toml`), '--log-file', f(`${t.name}-tidb.log`),
      ];
      t.tidbProc = P.startProcess(`${t.name}-tidb-server`, t.ns, bins['tidb-server'], t.tidbArgs, f(`${t.name}-tidb.stdout`));
      procs.push(t.tidbProc);
      t.mysql = new Mysql(t.socket);
    }
    for (const t of stack.tenants) {
      await P.waitFor(`${t.name} tidb-server bootstrap`, async () => (await t.mysql.query('SELECT 1')).length === 1, { proc: t.tidbProc, timeoutMs: 180000, intervalMs: 1000 });
    }
    for (const t of stack.tenants) {
      // unistore has no ImportSST: ADD INDEX must not take the ingest path. Order matters
      // (dist task first), see realstack.md.
      await t.mysql.query('SET GLOBAL tidb_enable_dist_task = OFF');
      await t.mysql.query('SET GLOBAL tidb_ddl_enable_fast_reorg = OFF');
    }
    // The other tidb-servers of each tenant (after the first bootstrapped the keyspace).
    const startExtra = (t, d) => {
      d.proc = P.startProcess(d.name, t.ns, bins['tidb-server'], d.args, d.stdout);
      procs.push(d.proc);
      return P.waitFor(`${d.name} up`, async () => (await d.mysql.query('SELECT 1')).length === 1, { proc: d.proc, timeoutMs: 180000, intervalMs: 500 });
    };
    for (const t of stack.tenants) {
      const first = tidbPorts(t.name)[0];
      t.tidbs = [Object.defineProperty({ ...first, socket: t.socket, mysql: t.mysql }, 'proc', { get: () => t.tidbProc, enumerable: true })];
      for (const d of tidbPorts(t.name).slice(1)) {
        const n = `${t.name}-tidb${d.i}`;
        Object.assign(d, { name: `${n}-server`, socket: f(`${n}-mysql.sock`), stdout: f(`${n}.stdout`) });
        fs.writeFileSync(f(`${n}.toml`), tidbConfig({ socket: d.socket, tmp: f(`${n}-tmp`), keyspaceName: mode === 'keyspace' ? t.name : null, labels: tidbLabels(t.name) }));
        d.args = ['--store', 'tikv', '--path', '127.0.0.1:2379', '--host', '127.0.0.1', '-P', String(d.port), '--status', String(d.statusPort),
          '--config', f(`${n}.toml`), '--log-file', f(`${n}.log`)];
        d.mysql = new Mysql(d.socket);
        t.tidbs.push(d);
        await startExtra(t, d);
      }
    }
    log(`realstack: ${stack.tenants.length * tidbsPerTenant} tidb-servers up in ${((Date.now() - t1) / 1000).toFixed(1)} s (mode ${mode}; run dir ${dir})`);

    // Per tenant a TiProxy stand-in in its own netns, behind its own sidecar (lib/tiproxy.js).
    for (const t of tp ? stack.tenants : []) {
      const ns = `${t.ns}p`;
      P.createNetns(ns); namespaces.push(ns);
      const own = tp.sidecar ? tp.sidecar(t) : { node: tiproxyNodeMetadata(t.name), pluginConfig: pluginConfig('outbound', tenants) };
      const name = `${t.name}-tiproxy`;
      const admin = f(`${name}-sidecar-admin.sock`);
      const sc = sidecar({ name, node: own.node, adminPipe: admin, upstream: { pd: sock.pd, tikv: sock.tikv }, wasm, pluginConfig: own.pluginConfig,
        accessLog: f(`${name}-access.jsonl`), forward: t.tidbs.flatMap((d) => [{ port: d.port, pipe: d.sqlIn }, { port: d.statusPort, pipe: d.statusIn }]) });
      fs.writeFileSync(f(`${name}-sidecar.yaml`), YAML.stringify(sc));
      const scProc = P.startProcess(`${name}-sidecar`, ns, envoy, ['-c', f(`${name}-sidecar.yaml`), '--use-dynamic-base-id', '--log-level', 'warn', '--component-log-level', 'wasm:info', '--concurrency', '2'], f(`${name}-sidecar.log`));
      procs.push(scProc);
      stack.admins[name] = admin;
      await P.waitFor(`${name} sidecar`, () => envoyReady(admin), { proc: scProc, timeoutMs: 30000 });
      const labelName = tp.labelName || 'tenant';
      t.tiproxy = await TP.startTiproxy({ name, ns, bin: bins['tiproxy-standin'], log: f(`${name}.log`),
        socket: f(`${name}-mysql.sock`), apiSocket: f(`${name}-api.sock`), labelName, labels: { [labelName]: t.name } });
      procs.push(t.tiproxy);
      Object.assign(t.tiproxy, { ns, sidecarAdmin: admin, sidecarLog: f(`${name}-sidecar.log`), mysql: new Mysql(t.tiproxy.socket), backends: () => TP.backends(t.tiproxy.apiSocket) });
    }
    if (tp) log(`realstack: ${stack.tenants.length} TiProxy stand-ins up, each in its own netns behind its own sidecar`);

    stack.pdDirect = pdDirect;
    stack.raw = async () => JSON.parse((await P.httpUnix(sock.raw, 'GET', '/raw')).body);
    stack.rawKeys = async (prefixHex) => JSON.parse((await P.httpUnix(sock.raw, 'GET', `/raw/keys?prefix=${prefixHex}`)).body).keys;
    stack.storeStats = async () => JSON.parse((await P.httpUnix(sock.raw, 'GET', '/stats')).body);
    stack.adminOf = (name) => (name === 'gateway' ? f('gateway-admin.sock') : stack.admins[name]);
    stack.envoyStats = async (name, filter = 'tidb_mesh') => {
      const r = await P.httpUnix(stack.adminOf(name), 'GET', `/stats?filter=${encodeURIComponent(filter)}`);
      const out = {};
      for (const line of r.body.split('\n')) { const m = line.match(/^(\S+): (\d+)$/); if (m) out[m[1]] = Number(m[2]); }
      return out;
    };
    stack.capture = f('store-capture.jsonl');
    // For the tenant-lifecycle tests (test/tidb/lifecycle.test.js): the storage netns, where
    // platform tools such as `tidb-mesh gc` run next to PD and the store; the store's other
    // views (/raw/versions, /raw/locks, /gc: realstack/go/unistore/rawview.go); and a tenant's
    // tidb-server killed (SIGKILL by PID, as a crash) and started again with the same flags.
    stack.storageNs = storageNs;
    stack.storeView = async (p) => JSON.parse((await P.httpUnix(sock.raw, 'GET', p)).body);
    stack.killTidb = async (name) => {
      const t = stack.tenants.find((x) => x.name === name);
      try { process.kill(t.tidbProc.pid, 'SIGKILL'); } catch { /* gone */ }
      while (!t.tidbProc.exited) await P.sleep(20);
    };
    stack.startTidb = async (name, i = 0) => {
      const t = stack.tenants.find((x) => x.name === name);
      if (i > 0) return startExtra(t, t.tidbs[i]);
      t.tidbProc = P.startProcess(`${t.name}-tidb-server`, t.ns, bins['tidb-server'], t.tidbArgs, f(`${t.name}-tidb.stdout`));
      procs.push(t.tidbProc);
      await P.waitFor(`${t.name} tidb-server restart`, async () => (await t.mysql.query('SELECT 1')).length === 1, { proc: t.tidbProc, timeoutMs: 180000, intervalMs: 500 });
    };
    // TiProxy tests: tidb-server i of a tenant stopped gracefully (SIGTERM, then SIGKILL after 5 s);
    // startTidb(name, i) starts it again.
    stack.stopTidb = async (name, i = 0) => P.stopProcess(stack.tenants.find((x) => x.name === name).tidbs[i].proc);
    return stack;
  } catch (e) {
    await stop();
    throw e;
  }
}

async function main() {
  const args = process.argv.slice(2);
  if (args[0] !== 'up') {
    console.error('usage: node realstack/stack.js up [--mode outbound|inbound|keyspace] [--dir DIR]');
    process.exit(2);
  }
  const opt = (n, d) => { const i = args.indexOf(n); return i >= 0 ? args[i + 1] : d; };
  const s = await startStack({ mode: opt('--mode', 'outbound'), dir: opt('--dir', null) });
  for (const t of s.tenants) console.log(`  ${t.name} (keyspace ${t.keyspaceId}): mysql --socket ${t.socket} -uroot`);
  console.log(`  raw store view: curl --unix-socket ${path.join(s.dir, 'store-status.sock')} http://x/raw`);
  console.log('Ctrl-C stops everything.');
  const done = async () => { await s.stop(); process.exit(0); };
  process.on('SIGINT', done);
  process.on('SIGTERM', done);
}

if (require.main === module) main().catch((e) => { console.error(e.message); process.exit(1); });

module.exports = { startStack, TENANTS, pluginConfig, tiproxyNodeMetadata };
