// Starts and stops a REAL pd-server (the binary realstack/build.sh builds into
// ${TIDB_MESH_CACHE:-~/.cache/tidb-mesh}/realstack/bin/pd-server, or PD_SERVER_BIN) for the
// real-PD end-to-end test: one member on 127.0.0.1, random free ports, a temporary data dir
// removed on stop, `[replication] max-replicas = 1`. A missing binary is an error that says
// how to build it, never a skip.
'use strict';

const { spawn } = require('child_process');
const fs = require('fs');
const http = require('http');
const net = require('net');
const os = require('os');
const path = require('path');

const running = new Set();
process.on('exit', () => { for (const c of running) { try { c.kill('SIGKILL'); } catch { /* gone */ } } });

/** Path of pd-server (PD_SERVER_BIN, else the realstack cache); throws with the build command when missing. */
function pdServerBinary() {
  const cache = process.env.TIDB_MESH_CACHE || path.join(os.homedir(), '.cache', 'tidb-mesh');
  const bin = process.env.PD_SERVER_BIN || path.join(cache, 'realstack', 'bin', 'pd-server');
  if (!fs.existsSync(bin)) {
    throw new Error(`pd-server not found at ${bin}: build it with \`realstack/build.sh pd-server\` `
      + '(Go >= 1.23, ~4 min cold) or set PD_SERVER_BIN');
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

function healthy(port) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/pd/api/v1/health', timeout: 1000 }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve(res.statusCode === 200 && /"health":\s*true/.test(body)));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

/**
 * Starts one PD member. Resolves to {port, endpoint, logs(), stop()}.
 * @param {{timeoutMs?: number}} [opts]
 */
async function startPd(opts = {}) {
  const bin = pdServerBinary();
  for (let attempt = 0; ; attempt++) {
    const [client, peer] = [await freePort(), await freePort()];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tidb-mesh-pd-'));
    const config = path.join(dir, 'pd.toml');
    fs.writeFileSync(config, '[replication]\nmax-replicas = 1\n');
    const args = [
      '--name', 'pd', '--data-dir', path.join(dir, 'data'), '--config', config,
      '--client-urls', `http://127.0.0.1:${client}`, '--peer-urls', `http://127.0.0.1:${peer}`,
      '--advertise-client-urls', `http://127.0.0.1:${client}`, '--log-file', path.join(dir, 'pd.log'),
    ];
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let out = '';
    child.stdout.on('data', (c) => { out += c; });
    child.stderr.on('data', (c) => { out += c; });
    let exited = null;
    const exitPromise = new Promise((resolve) => child.once('exit', (code, sig) => { exited = { code, sig }; running.delete(child); resolve(); }));
    const logs = () => {
      let file = '';
      try { file = fs.readFileSync(path.join(dir, 'pd.log'), 'utf8'); } catch { /* not yet */ }
      return out + file;
    };
    const deadline = Date.now() + (opts.timeoutMs || 30000);
    while (!exited && Date.now() < deadline && !(await healthy(client))) await new Promise((r) => setTimeout(r, 100));
    const cleanup = () => fs.rmSync(dir, { recursive: true, force: true });
    const stop = async () => {
      if (!exited) {
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.kill('SIGTERM');
        await exitPromise;
        clearTimeout(t);
      }
      cleanup();
    };
    if (!exited && Date.now() < deadline) return { port: client, endpoint: `127.0.0.1:${client}`, logs, stop };
    const text = logs();
    await stop();
    // A port taken between freePort() and PD's bind: try again with new ports.
    if (attempt < 2 && /address already in use/.test(text)) continue;
    throw new Error(`pd-server did not become healthy (${exited ? `exited ${exited.code || exited.sig}` : 'timeout'}):\n${text.slice(-3000)}`);
  }
}

module.exports = { startPd, pdServerBinary };
