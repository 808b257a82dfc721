// Step 2 of the kube stack: start a real etcd + kube-apiserver (built by kubestack/build.sh) on
// 127.0.0.1, with RBAC on, and install the CRDs the manifest tool meets in a real cluster:
// Istio's own (manifests/charts/base/files/crd-all.gen.yaml of the istio.io/istio module pinned
// in go/istio/go.mod, read from the Go module cache at run time, never committed) and ours for
// the tidb-operator kinds (crds/tidb-operator.yaml). Used by the live-mode tests
// (test/kube/, `npm run test:kube`) and by hand:
//
//   node kubestack/kube.js up      # starts, prints the admin kubeconfig path, waits for Ctrl-C
//
// Credentials written into the state directory:
//   admin.kubeconfig   client certificate in group system:masters (sets up CRDs, RBAC, operator replay)
//   user.kubeconfig    static token user `tidb-mesh` with no permissions but the ones granted by
//                      the role `tidb-mesh rbac` prints (the least-privilege tests run as it)
// Every process is started and ended by PID; a missing binary fails loudly with the build command.
'use strict';
const { execFileSync, spawn } = require('child_process');
const fs = require('fs');
const https = require('https');
const net = require('net');
const os = require('os');
const path = require('path');

const HERE = __dirname;
const CACHE = path.join(process.env.TIDB_MESH_CACHE || path.join(os.homedir(), '.cache', 'tidb-mesh'), 'kubestack', 'bin');
const USER_TOKEN = 'tidb-mesh-test-token';

/** Path of a binary built by kubestack/build.sh; throws naming the build command if missing. */
function bin(name) {
  const p = path.join(CACHE, name);
  if (!fs.existsSync(p)) throw new Error(`kubestack: ${p} is missing; build it with: bash kubestack/build.sh ${name}`);
  return p;
}

/** The etcd binary (Debian's etcd-server, installed by scripts/install-system.sh). */
function etcdBin() {
  for (const p of ['/usr/bin/etcd', '/usr/local/bin/etcd']) if (fs.existsSync(p)) return p;
  throw new Error('kubestack: etcd is missing; install it with: sh scripts/install-system.sh');
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
    s.on('error', reject);
  });
}

function openssl(args, cwd) { execFileSync('openssl', args, { cwd, stdio: 'pipe' }); }

/** A CA, a serving certificate for 127.0.0.1, an admin client certificate, a service-account key pair. */
function makePki(dir) {
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=tidb-mesh-test-ca'], dir);
  fs.writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=kube-apiserver'], dir);
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'server.ext'], dir);
  fs.writeFileSync(path.join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'admin.key', '-out', 'admin.csr', '-subj', '/O=system:masters/CN=admin'], dir);
  openssl(['x509', '-req', '-in', 'admin.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'admin.crt', '-days', '2', '-extfile', 'client.ext'], dir);
  openssl(['genrsa', '-out', 'sa.key', '2048'], dir);
  openssl(['rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
  fs.writeFileSync(path.join(dir, 'tokens.csv'), `${USER_TOKEN},tidb-mesh,tidb-mesh-uid\n`);
}

function kubeconfig(server, dir, user) {
  const b64 = (f) => fs.readFileSync(path.join(dir, f)).toString('base64');
  const creds = user === 'admin'
    ? `    client-certificate-data: ${b64('admin.crt')}\n    client-key-data: ${b64('admin.key')}\n`
    : `    token: ${USER_TOKEN}\n`;
  return `apiVersion: v1
kind: Config
clusters:
- name: kubestack
  cluster:
    server: ${server}
    certificate-authority-data: ${b64('ca.crt')}
users:
- name: ${user}
  user:
${creds}contexts:
- name: ${user}
  context: {cluster: kubestack, user: ${user}}
current-context: ${user}
`;
}

function get(url, dir) {
  return new Promise((resolve) => {
    const req = https.get(url, { ca: fs.readFileSync(path.join(dir, 'ca.crt')), cert: fs.readFileSync(path.join(dir, 'admin.crt')), key: fs.readFileSync(path.join(dir, 'admin.key')), timeout: 2000 },
      (res) => { let b = ''; res.on('data', (c) => { b += c; }); res.on('end', () => resolve({ status: res.statusCode, body: b })); });
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.on('timeout', () => { req.destroy(); resolve({ status: 0, body: '' }); });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The Istio module's directory in the Go module cache (downloaded if needed; loopback-free: the Go module proxy). */
function istioModuleDir() {
  const gomod = fs.readFileSync(path.join(HERE, 'go', 'istio', 'go.mod'), 'utf8');
  const m = /^\s*(?:require\s+)?istio\.io\/istio (v\S+)/m.exec(gomod);
  if (!m) throw new Error('kubestack: go/istio/go.mod does not require istio.io/istio');
  const out = execFileSync('go', ['mod', 'download', '-json', `istio.io/istio@${m[1]}`], { encoding: 'utf8', env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod' } });
  return { dir: JSON.parse(out).Dir, version: m[1] };
}

/** Istio's CRDs (all 15) as one YAML text, from the pinned istio.io/istio module. */
function istioCrds() {
  const { dir } = istioModuleDir();
  return fs.readFileSync(path.join(dir, 'manifests', 'charts', 'base', 'files', 'crd-all.gen.yaml'), 'utf8');
}

/**
 * Starts etcd and kube-apiserver, installs the CRDs, and resolves to
 * { server, dir, adminKubeconfig, userKubeconfig, kubectl(args, opts), stop() }.
 * `log` receives progress lines.
 */
async function startKube({ log = () => {} } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tidb-mesh-kube-'));
  const procs = [];
  const stop = async () => {
    for (const p of procs.reverse()) { try { process.kill(p.pid, 'SIGTERM'); } catch { /* already gone */ } }
    await sleep(300);
    for (const p of procs) { try { process.kill(p.pid, 'SIGKILL'); } catch { /* already gone */ } }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    const apiserver = bin('kube-apiserver');
    const kubectlBin = bin('kubectl');
    makePki(dir);
    const [etcdClient, etcdPeer, port] = [await freePort(), await freePort(), await freePort()];
    const etcdLog = fs.openSync(path.join(dir, 'etcd.log'), 'a');
    procs.push(spawn(etcdBin(), ['--data-dir', path.join(dir, 'etcd'), '--listen-client-urls', `http://127.0.0.1:${etcdClient}`,
      '--advertise-client-urls', `http://127.0.0.1:${etcdClient}`, '--listen-peer-urls', `http://127.0.0.1:${etcdPeer}`, '--log-level', 'warn'],
    { stdio: ['ignore', etcdLog, etcdLog] }));
    const apiLog = fs.openSync(path.join(dir, 'kube-apiserver.log'), 'a');
    procs.push(spawn(apiserver, [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`, `--secure-port=${port}`, '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1',
      `--tls-cert-file=${dir}/server.crt`, `--tls-private-key-file=${dir}/server.key`, `--client-ca-file=${dir}/ca.crt`,
      `--service-account-key-file=${dir}/sa.pub`, `--service-account-signing-key-file=${dir}/sa.key`, '--service-account-issuer=https://kubernetes.default.svc',
      '--authorization-mode=RBAC', `--token-auth-file=${dir}/tokens.csv`, '--endpoint-reconciler-type=none',
      '--service-cluster-ip-range=10.96.0.0/16', '--enable-priority-and-fairness=false',
    ], { stdio: ['ignore', apiLog, apiLog] }));
    const server = `https://127.0.0.1:${port}`;
    const t0 = Date.now();
    for (;;) {
      for (const p of procs) if (p.exitCode !== null) throw new Error(`kubestack: ${p.spawnfile} exited (${p.exitCode}); see ${dir}/*.log:\n${tail(dir)}`);
      if ((await get(`${server}/readyz`, dir)).status === 200) break;
      if (Date.now() - t0 > 60000) throw new Error(`kubestack: kube-apiserver not ready after 60 s:\n${tail(dir)}`);
      await sleep(250);
    }
    log(`kube-apiserver ready at ${server} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const adminKubeconfig = path.join(dir, 'admin.kubeconfig');
    const userKubeconfig = path.join(dir, 'user.kubeconfig');
    fs.writeFileSync(adminKubeconfig, kubeconfig(server, dir, 'admin'));
    fs.writeFileSync(userKubeconfig, kubeconfig(server, dir, 'tidb-mesh'));
    const kubectl = (args, opts = {}) => execFileSync(kubectlBin, ['--kubeconfig', opts.kubeconfig ?? adminKubeconfig, ...args],
      { encoding: 'utf8', input: opts.input, stdio: ['pipe', 'pipe', 'pipe'] });
    fs.writeFileSync(path.join(dir, 'istio-crds.yaml'), istioCrds());
    kubectl(['apply', '--server-side', '-f', path.join(dir, 'istio-crds.yaml'), '-f', path.join(HERE, 'crds', 'tidb-operator.yaml')]);
    kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
    log(`CRDs installed (${kubectl(['get', 'crd', '-o', 'name']).trim().split('\n').length}) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return { server, dir, adminKubeconfig, userKubeconfig, kubectl, stop, pids: procs.map((p) => p.pid) };
  } catch (e) {
    await stop();
    throw e;
  }
}

function tail(dir) {
  return ['etcd.log', 'kube-apiserver.log'].map((f) => {
    const p = path.join(dir, f);
    return fs.existsSync(p) ? `--- ${f}\n${fs.readFileSync(p, 'utf8').split('\n').slice(-15).join('\n')}` : '';
  }).join('\n');
}

module.exports = { startKube, bin, istioModuleDir, USER_TOKEN };

if (require.main === module && process.argv[2] === 'up') {
  startKube({ log: (l) => console.error(l) }).then((k) => {
    console.log(`admin kubeconfig: ${k.adminKubeconfig}\nuser kubeconfig:  ${k.userKubeconfig}\nCtrl-C stops it.`);
    const bye = () => k.stop().then(() => process.exit(0));
    process.on('SIGINT', bye);
    process.on('SIGTERM', bye);
  }, (e) => { console.error(e.message); process.exit(1); });
}
