// TiProxy per tenant in the real stack (`npm run test:tidb`; docs/tiproxy.md). Two tenants, each
// with two unmodified tidb-servers in its netns and a TiProxy in front of them in its own netns
// behind its own sidecar. The TiProxy is realstack/go/tiproxy-standin (TiProxy v1.4's etcd calls
// with its etcd client, and per-connection routing): no TiProxy can be built from the Go module
// proxy. Its sidecar runs the filter with the WasmPlugin that `tidb-mesh generate` makes for the
// tenant's TiProxyGroup (tidb-operator v2 input, below); the TiDBs' sidecars run the stack's
// usual table. Checks: each TiProxy discovers exactly its tenant's tidb-servers and registers in
// its tenant's etcd namespace; without the filter the same discovery pools both tenants'; SQL
// through a tenant's TiProxy reaches only that tenant's tidb-servers (the server's own config
// and the data say so), also while one of the other tenant's tidb-servers restarts.
'use strict';

const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const YAML = require('yaml');

const { startStack } = require('../../realstack/stack');
const { refusals, formatRefusals } = require('../../realstack/lib/observe');
const TP = require('../../realstack/lib/tiproxy');
const P = require('../../realstack/lib/processes');

jest.setTimeout(10 * 60 * 1000);
const out = (m) => process.stdout.write(m + '\n');
const ROOT = path.resolve(__dirname, '..', '..');

let stack;
let dir;
let plugins;

const v2 = (kind, name, spec, labels) => ({ apiVersion: 'core.pingcap.com/v1alpha1', kind, metadata: { name, namespace: 'tidb', ...(labels ? { labels } : {}) }, spec });
const overlaySa = (sa) => ({ overlay: { pod: { spec: { serviceAccountName: sa } } } });

/** Two tenants as tidb-operator v2 groups: a TiDBGroup and a TiProxyGroup each, associated by tenant=<name>. */
function v2Objects() {
  const objs = [v2('Cluster', 'shared', {}),
    v2('PDGroup', 'pd', { cluster: { name: 'shared' }, replicas: 1, template: { spec: { version: 'v8.5.2', ...overlaySa('shared-pd') } } }),
    v2('TiKVGroup', 'tikv', { cluster: { name: 'shared' }, replicas: 1, template: { spec: { version: 'v8.5.2', config: '[storage]\napi-version = 2\nenable-ttl = true\n', ...overlaySa('shared-tikv') } } })];
  for (const n of ['tenant1', 'tenant2']) {
    objs.push(v2('TiDBGroup', n, { cluster: { name: 'shared' }, replicas: 2, template: { spec: { version: 'v8.5.2', server: { labels: { tenant: n } }, ...overlaySa(`tidb-${n}`) } } }));
    objs.push(v2('TiProxyGroup', `${n}-proxy`, { cluster: { name: 'shared' }, replicas: 1,
      template: { spec: { version: 'v1.3.2', config: '[balance]\nlabel-name = "tenant"\n', server: { labels: { tenant: n } }, ...overlaySa(`tiproxy-${n}`) } } }));
  }
  return objs;
}

/** What the tidb-server answering a connection is, from its own config, and the tenant data it sees. */
async function who(mysql) {
  const rows = await mysql.query('SELECT @@tidb_config AS c, (SELECT GROUP_CONCAT(owner) FROM proxycheck.marker) AS m');
  const c = JSON.parse(rows[0].c);
  return { server: c.socket, label: c.labels && c.labels.tenant, data: rows[0].m };
}

const tenantOfSocket = (socket) => stack.tenants.find((t) => t.tidbs.some((d) => d.socket === socket));
const ready = (b) => b.backends.length === 2 && b.backends.every((x) => x.healthy && x.routable);

beforeAll(async () => {
  const t0 = Date.now();
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(ROOT, 'tools', 'tsconfig.json')], { stdio: 'inherit' });
  const { main } = require('../../tools/build/cli.js');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-tiproxy-'));
  fs.writeFileSync(path.join(dir, 'groups.yaml'), v2Objects().map((o) => YAML.stringify(o)).join('---\n'));
  let stdout = '';
  let stderr = '';
  const io = { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; }, stdin: async () => '', writeFile: () => {}, cwd: dir };
  const code = await main(['generate', '-f', path.join(dir, 'groups.yaml'), '--url', 'oci://registry.example/tidb-mesh:1', '--sha256', 'a'.repeat(64)], io);
  if (code !== 0) throw new Error(`generate failed (${code}):\n${stderr}`);
  plugins = YAML.parseAllDocuments(stdout).map((d) => d.toJS()).filter((o) => o && o.kind === 'WasmPlugin');
  const registry = JSON.parse(fs.readFileSync(path.join(dir, 'tidb-mesh-tenants.json'), 'utf8'));
  const tenants = registry.tenants.map((x) => ({ name: x.name, keyspaceId: x.keyspaceId }));
  expect(tenants).toEqual([{ name: 'tenant1', keyspaceId: 1 }, { name: 'tenant2', keyspaceId: 2 }]);
  // The TiProxy pod's sidecar as Istio would configure it from the generated WasmPlugin: node
  // metadata of a pod its selector picks, and its pluginConfig.
  const sidecar = (t) => {
    const p = plugins.find((x) => x.metadata.name === `tidb-mesh-${t.name}-proxy-tiproxy`);
    const m = p.spec.pluginConfig.tenants[0].match;
    return { node: { cluster: `tiproxy-${t.name}`, metadata: { NAMESPACE: p.metadata.namespace, LABELS: { ...p.spec.selector.matchLabels }, SERVICE_ACCOUNT: m.serviceAccount } },
      pluginConfig: p.spec.pluginConfig };
  };
  stack = await startStack({ mode: 'outbound', tenants, tidbsPerTenant: 2, tiproxy: { labelName: 'tenant', sidecar }, log: out });
  for (const t of stack.tenants) {
    await t.mysql.query('CREATE DATABASE proxycheck');
    await t.mysql.query('CREATE TABLE proxycheck.marker (owner VARCHAR(16) PRIMARY KEY)');
    await t.mysql.query('INSERT INTO proxycheck.marker VALUES (?)', [t.name]);
    await P.waitFor(`${t.name} TiProxy sees both tidb-servers healthy`, async () => ready(await t.tiproxy.backends()), { timeoutMs: 30000 });
  }
  out(`tiproxy suite: tools built, manifests generated, stack up in ${((Date.now() - t0) / 1000).toFixed(1)} s (run dir ${stack.dir})`);
});

afterAll(async () => {
  if (!stack) return;
  out(`refusals (tenant and TiProxy sidecars):\n${formatRefusals(refusals(stack))}`);
  await stack.stop();
});

test('the generated TiProxyGroup plugins carry each tenant\'s keyspace, on PD/etcd only', () => {
  const p = Object.fromEntries(plugins.map((x) => [x.metadata.name, x]));
  expect(Object.keys(p).sort()).toEqual(['tidb-mesh-tenant1', 'tidb-mesh-tenant1-proxy-tiproxy', 'tidb-mesh-tenant2', 'tidb-mesh-tenant2-proxy-tiproxy']);
  for (const [n, id] of [['tenant1', 1], ['tenant2', 2]]) {
    const x = p[`tidb-mesh-${n}-proxy-tiproxy`];
    expect(x.spec.selector.matchLabels).toEqual({ 'pingcap.com/cluster': 'shared', 'pingcap.com/component': 'tiproxy', 'pingcap.com/group': `${n}-proxy` });
    expect(x.spec.match).toEqual([{ mode: 'CLIENT', ports: [{ number: 2379 }] }]);
    expect(x.spec.pluginConfig.tenants.map((t) => [t.name, t.keyspaceId])).toEqual([[n, id]]);
  }
});

test('each tenant\'s TiProxy discovers exactly its own tidb-servers, through its own sidecar\'s filter', async () => {
  for (const t of stack.tenants) {
    const b = await t.tiproxy.backends();
    out(`${t.name}'s TiProxy: ${JSON.stringify({ discovered: b.discovered.map((d) => d.key), owner: b.owner, endpoints: b.endpoints })}`);
    expect(b.discovered.map((d) => [d.key, d.keyspace, d.info.labels])).toEqual([
      ['/topology/tidb/127.0.0.1:4000/info', '', { tenant: t.name }],
      ['/topology/tidb/127.0.0.1:4001/info', '', { tenant: t.name }],
    ]);
    expect(b.fetchError).toBe('');
    // etcd MemberList (the endpoints became PD's advertised URL: this sidecar), the owner election.
    expect(b.endpoints).toEqual(['http://127.0.0.1:2379']);
    expect(b.owner).toBe('owner');
    const stats = await stack.envoyStats(`${t.name}-tiproxy`);
    expect(stats[`wasmcustom.tidb_mesh.tenant.${t.name}.calls_rewritten`]).toBeGreaterThan(5);
  }
  expect(refusals(stack, stack.tenants.map((t) => t.tiproxy.sidecarLog))).toEqual([]);
});

test('each TiProxy registered itself in its own tenant\'s etcd namespace; each tenant\'s TiDB sees only its own TiProxy', async () => {
  const keys = execFileSync('etcdctl', [`--endpoints=unix://${path.join(stack.dir, 'pd-direct.sock')}`, 'get', '--prefix', '/', '--keys-only'], { env: { ...process.env, ETCDCTL_API: '3' } })
    .toString().split('\n').filter((k) => /tiproxy/.test(k));
  expect(keys.filter((k) => /topology\/tiproxy/.test(k)).sort()).toEqual([
    '/keyspaces/tidb/1/topology/tiproxy/127.0.0.1:6000/info', '/keyspaces/tidb/1/topology/tiproxy/127.0.0.1:6000/ttl',
    '/keyspaces/tidb/2/topology/tiproxy/127.0.0.1:6000/info', '/keyspaces/tidb/2/topology/tiproxy/127.0.0.1:6000/ttl',
  ]);
  expect(keys.filter((k) => !/^\/keyspaces\/tidb\/[12]\//.test(k))).toEqual([]);
  for (const t of stack.tenants) {
    const rows = await t.mysql.query("SELECT TYPE, INSTANCE, VERSION FROM information_schema.cluster_info WHERE TYPE IN ('tidb', 'tiproxy') ORDER BY TYPE, INSTANCE");
    expect(rows.map((r) => `${r.TYPE} ${r.INSTANCE}`)).toEqual(['tidb 127.0.0.1:4000', 'tidb 127.0.0.1:4001', 'tiproxy 127.0.0.1:6000']);
  }
});

test('without the filter, the same discovery pools both tenants\' tidb-servers (what the filter prevents)', async () => {
  const name = 'unfiltered-tiproxy';
  const proc = await TP.startTiproxy({ name, ns: stack.storageNs, bin: stack.bins['tiproxy-standin'], log: path.join(stack.dir, `${name}.log`),
    socket: path.join(stack.dir, `${name}-mysql.sock`), apiSocket: path.join(stack.dir, `${name}-api.sock`) });
  try {
    const b = await TP.backends(proc.apiSocket);
    out(`a TiProxy next to PD without a filter discovers: ${JSON.stringify(b.discovered.map((d) => d.key))}`);
    expect(b.discovered.map((d) => d.key)).toEqual(expect.arrayContaining([
      '/keyspaces/tidb/1/topology/tidb/127.0.0.1:4000/info', '/keyspaces/tidb/1/topology/tidb/127.0.0.1:4001/info',
      '/keyspaces/tidb/2/topology/tidb/127.0.0.1:4000/info', '/keyspaces/tidb/2/topology/tidb/127.0.0.1:4001/info',
    ]));
    expect([...new Set(b.discovered.map((d) => d.keyspace))].sort()).toEqual(['1', '2']);
  } finally {
    await P.stopProcess(proc);
  }
});

test('SQL through each tenant\'s TiProxy reaches only that tenant\'s tidb-servers (server config and data)', async () => {
  for (const t of stack.tenants) {
    const seen = new Set();
    for (let i = 0; i < 8; i++) {
      const w = await who(t.tiproxy.mysql);
      expect(w).toEqual({ server: expect.any(String), label: t.name, data: t.name });
      expect(tenantOfSocket(w.server).name).toBe(t.name);
      seen.add(w.server);
    }
    expect([...seen].sort()).toEqual(t.tidbs.map((d) => d.socket).sort());
    const cli = await t.tiproxy.mysql.cli('SELECT owner FROM proxycheck.marker');
    expect(cli).toContain(t.name);
    expect(cli).not.toContain(stack.tenants.find((x) => x !== t).name);
  }
});

test('while one of tenant2\'s tidb-servers restarts, tenant1\'s TiProxy keeps its own two and tenant2\'s routes to its other one', async () => {
  const [a, b] = stack.tenants;
  const samples = [];
  const aViews = [];
  let phase = 'before';
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const t of [a, b]) {
        try { samples.push({ phase, via: t.name, ...(await who(t.tiproxy.mysql)) }); } catch (e) { samples.push({ phase, via: t.name, error: e.message }); }
      }
      aViews.push((await a.tiproxy.backends()).discovered.map((d) => d.key).join(','));
      await P.sleep(100);
    }
  })();
  const t0 = Date.now();
  phase = 'stopping';
  await stack.stopTidb(b.name, 0);
  await P.waitFor('tenant2\'s TiProxy stops routing to its stopped tidb-server', async () => {
    const x = await b.tiproxy.backends();
    return !x.backends.some((y) => y.addr === '127.0.0.1:4000' && y.routable);
  }, { timeoutMs: 60000 });
  phase = 'down';
  await P.sleep(2000);
  phase = 'starting';
  await stack.startTidb(b.name, 0);
  await P.waitFor('tenant2\'s TiProxy routes to the restarted tidb-server again', async () => ready(await b.tiproxy.backends()), { timeoutMs: 60000 });
  phase = 'after';
  await P.sleep(1500);
  running = false;
  await loop;
  const count = (f) => samples.filter(f).length;
  out(`restart of ${b.name}'s tidb-server 0 took ${((Date.now() - t0) / 1000).toFixed(1)} s; ${samples.length} queries through the TiProxies: `
    + `${a.name} ${count((s) => s.via === a.name && !s.error)} ok / ${count((s) => s.via === a.name && s.error)} failed, `
    + `${b.name} ${count((s) => s.via === b.name && !s.error)} ok / ${count((s) => s.via === b.name && s.error)} failed `
    + `(${b.name} failures by phase: ${JSON.stringify(samples.filter((s) => s.via === b.name && s.error).map((s) => s.phase))})`);
  // No answer through either TiProxy ever came from the other tenant's tidb-server or data.
  for (const s of samples.filter((x) => !x.error)) {
    expect({ via: s.via, server: tenantOfSocket(s.server).name, label: s.label, data: s.data }).toEqual({ via: s.via, server: s.via, label: s.via, data: s.via });
  }
  // tenant1: every query answered, its view of its backends never changed.
  expect(samples.filter((s) => s.via === a.name && s.error)).toEqual([]);
  expect([...new Set(aViews)]).toEqual(['/topology/tidb/127.0.0.1:4000/info,/topology/tidb/127.0.0.1:4001/info']);
  // tenant2: while its tidb-server 0 was down, its other one answered; afterwards both again.
  const down = samples.filter((s) => s.via === b.name && s.phase === 'down');
  expect(down.length).toBeGreaterThan(3);
  expect(down.filter((s) => s.error)).toEqual([]);
  expect(new Set(down.map((s) => s.server))).toEqual(new Set([b.tidbs[1].socket]));
  const after = samples.filter((s) => s.via === b.name && s.phase === 'after' && !s.error).map((s) => s.server);
  expect(new Set(after)).toEqual(new Set(b.tidbs.map((d) => d.socket)));
});
