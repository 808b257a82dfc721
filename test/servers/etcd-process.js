// Starts and stops a REAL etcd (the Debian etcd-server package, installed by
// scripts/install-system.sh) for the etcd end-to-end test: one member on 127.0.0.1, random free
// ports, a temporary data dir removed on stop. etcd serves h2c gRPC on its client port, so an
// Envoy can point its upstream at it. Missing etcd is an error with the fix, never a skip.
'use strict';

const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const http = require('http');
const net = require('net');
const os = require('os');
const path = require('path');

const running = new Set();
process.on('exit', () => { for (const c of running) { try { c.kill('SIGKILL'); } catch { /* gone */ } } });

function which(bin) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    const p = path.join(dir, bin);
    try { fs.accessSync(p, fs.constants.X_OK); return p; } catch { /* next */ }
  }
  return null;
}

/** Path of the etcd binary (ETCD_BIN or PATH); throws with the install command when missing. */
function etcdBinary() {
  const bin = process.env.ETCD_BIN || which('etcd');
  if (!bin || !fs.existsSync(bin)) {
    throw new Error('etcd is not installed (no `etcd` on PATH and ETCD_BIN unset): run `scripts/install-system.sh` '
      + '(as root: apt-get install -y etcd-server etcd-client)');
  }
  return bin;
}

/** Path of etcdctl next to etcd or on PATH; throws when missing. */
function etcdctlBinary() {
  const bin = process.env.ETCDCTL_BIN || which('etcdctl');
  if (!bin) throw new Error('etcdctl is not installed: run `scripts/install-system.sh` (Debian package etcd-client)');
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
    const req = http.get({ host: '127.0.0.1', port, path: '/health', timeout: 1000 }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve(res.statusCode === 200 && /"health":\s*"true"/.test(body)));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

/**
 * Starts one etcd member. Resolves to {port, endpoint, version, logs(), stop()}.
 * @param {{timeoutMs?: number}} [opts]
 */
async function startEtcd(opts = {}) {
  const bin = etcdBinary();
  const version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).split('\n')[0].trim();
  for (let attempt = 0; ; attempt++) {
    const [client, peer] = [await freePort(), await freePort()];
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tidb-mesh-etcd-'));
    const args = [
      '--name', 'tidb-mesh-test',
      '--data-dir', dataDir,
      '--listen-client-urls', `http://127.0.0.1:${client}`,
      '--advertise-client-urls', `http://127.0.0.1:${client}`,
      '--listen-peer-urls', `http://127.0.0.1:${peer}`,
      '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`,
      '--initial-cluster', `tidb-mesh-test=http://127.0.0.1:${peer}`,
      '--initial-cluster-state', 'new',
      '--logger', 'zap', '--log-outputs', 'stderr', '--log-level', 'warn',
    ];
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let out = '';
    child.stdout.on('data', (c) => { out += c; });
    child.stderr.on('data', (c) => { out += c; });
    let exited = null;
    child.once('exit', (code, sig) => { exited = { code, sig }; running.delete(child); });
    const deadline = Date.now() + (opts.timeoutMs || 15000);
    while (!exited && Date.now() < deadline && !(await healthy(client))) await new Promise((r) => setTimeout(r, 100));
    const cleanup = () => fs.rmSync(dataDir, { recursive: true, force: true });
    if (!exited && Date.now() < deadline) {
      return {
        port: client,
        endpoint: `127.0.0.1:${client}`,
        version,
        logs: () => out,
        stop: () => new Promise((resolve) => {
          if (exited) { cleanup(); resolve(); return; }
          const t = setTimeout(() => child.kill('SIGKILL'), 5000);
          child.once('exit', () => { clearTimeout(t); cleanup(); resolve(); });
          child.kill('SIGTERM');
        }),
      };
    }
    child.kill('SIGKILL');
    cleanup();
    // A port taken between freePort() and etcd's bind: try again with new ports.
    if (attempt < 2 && /address already in use/.test(out)) continue;
    throw new Error(`etcd did not become healthy (${exited ? `exited ${exited.code || exited.sig}` : 'timeout'}):\n${out.slice(-2000)}`);
  }
}

/**
 * Runs etcdctl (API v3) against endpoint; resolves {code, stdout, stderr}. Never throws on a
 * non-zero exit (tests check the code).
 */
function etcdctl(endpoint, args, opts = {}) {
  const bin = etcdctlBinary();
  return new Promise((resolve) => {
    const child = spawn(bin, [`--endpoints=${endpoint}`, '--dial-timeout=3s', '--command-timeout=5s', ...args], {
      env: { ...process.env, ETCDCTL_API: '3' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = ''; let stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    const t = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs || 10000);
    child.on('close', (code) => { clearTimeout(t); resolve({ code, stdout, stderr }); });
  });
}

module.exports = { startEtcd, etcdctl, etcdBinary, etcdctlBinary };
