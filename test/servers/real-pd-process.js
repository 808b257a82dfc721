// Starts and stops a REAL pd-server for the real-PD end-to-end tests (test/e2e/pd-real and
// pd-http): the binary realstack/build.sh pd-server builds into
// ${TIDB_MESH_CACHE:-$HOME/.cache/tidb-mesh}/realstack/bin/pd-server (or PD_SERVER_BIN), on
// random loopback ports with a temporary data dir and `[replication] max-replicas = 1`. It can
// bootstrap the cluster over gRPC the way a TiKV store would (Bootstrap, PutStore, store and
// region heartbeats), so PD's HTTP API has a cluster, a store and regions to answer about. A
// missing binary is an error naming the build command, never a skip.
'use strict';

const { spawn } = require('child_process');
const fs = require('fs');
const http = require('http');
const net = require('net');
const os = require('os');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const running = new Set();
process.on('exit', () => { for (const c of running) { try { c.kill('SIGKILL'); } catch { /* gone */ } } });

const ROOT = path.resolve(__dirname, '..', '..');

/** realstack/build.sh's cache path of pd-server; throws with the build command when missing. */
function pdBinary() {
  const cache = process.env.TIDB_MESH_CACHE || path.join(os.homedir(), '.cache', 'tidb-mesh');
  const bin = process.env.PD_SERVER_BIN || path.join(cache, 'realstack', 'bin', 'pd-server');
  if (!fs.existsSync(bin)) {
    throw new Error(`pd-server is missing at ${bin}: build it with \`realstack/build.sh pd-server\` `
      + '(Go from the module proxy, ~4 min cold); this test never skips');
  }
  return bin;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

/** One HTTP/1.1 request (straight to PD or through an Envoy): {status, headers, body}. */
function request(port, method, p, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? null : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const h = { ...headers };
    if (data) { h['content-type'] = h['content-type'] || 'application/json'; h['content-length'] = data.length; }
    const req = http.request({ host: '127.0.0.1', port, method, path: p, headers: h, timeout: 5000, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('aborted', () => reject(new Error(`${method} ${p}: response aborted`)));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${p} timed out`)));
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

let pdProto;
function pdService() {
  if (!pdProto) {
    // longs as strings: PD's cluster id does not fit in a double.
    const def = protoLoader.loadSync(path.join(ROOT, 'test', 'proto', 'pd', 'pd-admin.proto'),
      { keepCase: true, longs: String, enums: Number, bytes: Buffer, defaults: true, arrays: true });
    pdProto = grpc.loadPackageDefinition(def).pdpb;
  }
  return pdProto.PD;
}

function unary(client, method, req) {
  return new Promise((resolve, reject) => {
    client[method](req, { deadline: Date.now() + 5000 }, (err, res) => {
      if (err) return reject(err);
      if (res.header && res.header.error && res.header.error.type) {
        return reject(new Error(`${method}: PD error ${res.header.error.type} ${res.header.error.message}`));
      }
      return resolve(res);
    });
  });
}

/**
 * Starts one PD member; resolves to {port, endpoint, clusterId, logs(), request(), bootstrap(),
 * heartbeatRegions(), stop()}. A port taken between freePort() and PD's bind is retried.
 */
async function startPd(opts = {}) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await startOnce(opts);
    } catch (e) {
      if (attempt < 2 && /address already in use/.test(e.message)) continue;
      throw e;
    }
  }
}

async function startOnce(opts) {
  const bin = pdBinary();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tidb-mesh-pd-'));
  const conf = path.join(dir, 'pd.toml');
  fs.writeFileSync(conf, '[replication]\nmax-replicas = 1\n');
  const [client, peer] = [await freePort(), await freePort()];
  const logFile = path.join(dir, 'pd.log');
  const args = [
    '--name', 'pd', '--data-dir', path.join(dir, 'data'), '--config', conf,
    '--client-urls', `http://127.0.0.1:${client}`, '--advertise-client-urls', `http://127.0.0.1:${client}`,
    '--peer-urls', `http://127.0.0.1:${peer}`, '--advertise-peer-urls', `http://127.0.0.1:${peer}`,
    '--log-file', logFile,
  ];
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let out = '';
  child.stdout.on('data', (c) => { out += c; });
  child.stderr.on('data', (c) => { out += c; });
  let exited = null;
  const exitPromise = new Promise((resolve) => child.once('exit', (code, signal) => { exited = { code, signal }; running.delete(child); resolve(); }));
  const logs = () => out + (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').slice(-8000) : '');

  const pd = {
    port: client, endpoint: `127.0.0.1:${client}`, clusterId: '0', logs,
    request: (method, p, body, headers) => request(client, method, p, body, headers),
    async stop() {
      if (pd.grpc) pd.grpc.close();
      if (!exited) {
        child.kill('SIGTERM');
        const t = setTimeout(() => { if (!exited) child.kill('SIGKILL'); }, 5000);
        await exitPromise;
        clearTimeout(t);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + (opts.timeoutMs || 30000);
  for (;;) {
    if (exited) { const text = logs(); await pd.stop(); throw new Error(`pd-server exited early (${JSON.stringify(exited)}):\n${text}`); }
    if (Date.now() > deadline) { const text = logs(); await pd.stop(); throw new Error(`pd-server did not answer /pd/api/v1/members:\n${text}`); }
    try {
      const r = await pd.request('GET', '/pd/api/v1/members');
      if (r.status === 200 && JSON.parse(r.body).leader) break;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  pd.grpc = new (pdService())(`127.0.0.1:${client}`, grpc.credentials.createInsecure());
  const m = await unary(pd.grpc, 'GetMembers', { header: {} });
  pd.clusterId = m.header.cluster_id;
  const header = () => ({ cluster_id: pd.clusterId });

  /** Bootstraps the cluster with store 1 and region 2 ["", "") as a TiKV would. */
  pd.bootstrap = async (storeAddress = '127.0.0.1:20160') => {
    const store = { id: 1, address: storeAddress, version: '8.5.0', status_address: '127.0.0.1:20180', start_timestamp: Math.floor(Date.now() / 1000) };
    await unary(pd.grpc, 'Bootstrap', {
      header: header(), store,
      region: { id: 2, start_key: Buffer.alloc(0), end_key: Buffer.alloc(0), region_epoch: { conf_ver: 1, version: 1 }, peers: [{ id: 3, store_id: 1 }] },
    });
    await unary(pd.grpc, 'PutStore', { header: header(), store });
    await unary(pd.grpc, 'StoreHeartbeat', { header: header(), stats: { store_id: 1, capacity: 1 << 30, available: 1 << 29, region_count: 1, start_time: Math.floor(Date.now() / 1000), used_size: 1 << 20 } });
  };

  /**
   * Reports regions as their leader would (one RegionHeartbeat stream): [{id, start, end, version}]
   * with memcomparable keys; waits until PD's HTTP API lists them all.
   */
  pd.heartbeatRegions = async (regions) => {
    const s = pd.grpc.RegionHeartbeat();
    s.on('data', () => {});
    s.on('error', () => {});
    let peerId = 1000;
    for (const r of regions) {
      const leader = { id: peerId++, store_id: 1 };
      s.write({
        header: header(), term: 1, leader, approximate_size: 1, approximate_keys: 10,
        region: { id: r.id, start_key: r.start, end_key: r.end, region_epoch: { conf_ver: 1, version: r.version || 2 }, peers: [leader] },
      });
    }
    const until = Date.now() + 10000;
    for (;;) {
      const res = await pd.request('GET', '/pd/api/v1/regions');
      const ids = new Set((JSON.parse(res.body).regions || []).map((x) => x.id));
      if (regions.every((r) => ids.has(r.id))) break;
      if (Date.now() > until) throw new Error(`PD did not take the region heartbeats: ${res.body}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    s.end();
  };
  return pd;
}

module.exports = { startPd, pdBinary, request };
