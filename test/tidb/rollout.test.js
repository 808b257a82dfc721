// Staged schema rollouts against real, unmodified tidb-servers through the mesh (`npm run
// test:tidb`). Three tenants from TidbCluster manifests (acme-a and acme-b in customer acme,
// canary in no set) get their keyspace ids from `tidb-mesh generate`; the real stack
// (realstack/stack.js, outbound: the filter in each tenant's sidecar) runs them. Then:
//   1. a rollout that succeeds (canary first, then customer=acme), versions read back per tenant;
//   2. a rollout run by the built CLI as a user would, killed in its second stage, shown as
//      interrupted by `rollout status`, and resumed to the end without running anything twice;
//   3. a rollout whose second stage fails on acme-b (duplicate data), resumed after fixing the
//      SQL: only acme-b runs again; the grouped status output is checked before and after.
'use strict';

const { execFileSync, spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const YAML = require('yaml');

const { startStack } = require('../../realstack/stack');

jest.setTimeout(5 * 60 * 1000);
const ROOT = path.resolve(__dirname, '..', '..');
const out = (m) => process.stdout.write(m + '\n');

let stack;
let dir;
let main;
const tenant = (name) => stack.tenants.find((t) => t.name === name);

/** The tool's handlers in-process (tools/build, built in beforeAll), output captured. */
async function cli(argv) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; }, stdin: async () => '',
    writeFile: (f, t) => fs.writeFileSync(f, t), cwd: dir,
  });
  return { code, stdout, stderr };
}

/** The built CLI as a user runs it (bin/tidb-mesh.js), from `dir`. */
function spawnCli(argv) {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'tidb-mesh.js'), ...argv], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  child.output = '';
  child.stdout.on('data', (d) => { child.output += d; });
  child.stderr.on('data', (d) => { child.output += d; });
  child.done = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return child;
}

function writeMigrations(name, files) {
  const d = path.join(dir, name);
  fs.mkdirSync(d, { recursive: true });
  for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(d, f), text);
  return name;
}

const ENDPOINTS = () => stack.tenants.flatMap((t) => ['--endpoint', `tidb/${t.name}=${t.socket}`]);
const versions = async (name) => (await tenant(name).mysql.query('SELECT version FROM tidb_mesh.schema_migrations ORDER BY version')).map((r) => Number(r.version));

const tc = (name, labels, spec) => ({ apiVersion: 'pingcap.com/v1alpha1', kind: 'TidbCluster', metadata: { name, namespace: 'tidb', labels }, spec });

const M1 = {
  '0001_customers.sql': 'CREATE DATABASE IF NOT EXISTS shop;\nCREATE TABLE IF NOT EXISTS shop.customers (\n  id BIGINT PRIMARY KEY,\n  email VARCHAR(128) NOT NULL\n);\n',
  '0002_orders.sql': "USE shop;\nCREATE TABLE orders (id BIGINT PRIMARY KEY, customer_id BIGINT NOT NULL, total DECIMAL(10,2));\nINSERT INTO orders VALUES (1, 1, 9.99);\n",
};
const M2 = { '0003_order_notes.sql': 'ALTER TABLE shop.orders ADD COLUMN IF NOT EXISTS note VARCHAR(64);\nCREATE INDEX IF NOT EXISTS idx_customer ON shop.orders (customer_id);\n' };
const M3 = { '0004_unique_email.sql': 'ALTER TABLE shop.customers ADD UNIQUE INDEX uniq_email (email);\n' };
const M3_FIXED = { '0004_unique_email.sql': '-- keep the oldest row of each email, then make emails unique\nDELETE c1 FROM shop.customers c1 JOIN shop.customers c2 ON c1.email = c2.email AND c1.id > c2.id;\nALTER TABLE shop.customers ADD UNIQUE INDEX uniq_email (email);\n' };

beforeAll(async () => {
  const t0 = Date.now();
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(ROOT, 'tools', 'tsconfig.json')], { stdio: 'inherit' });
  ({ main } = require('../../tools/build/cli.js'));
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-rollout-'));
  // The tenants as a platform team declares them: set values are labels on the TidbClusters.
  const storage = tc('storage-layer', {}, { pd: { replicas: 1 }, tikv: { replicas: 1, config: '[storage]\napi-version = 2\nenable-ttl = true\n' } });
  const t = (name, labels) => tc(name, labels, { cluster: { name: 'storage-layer' }, tidb: { replicas: 1, serviceAccount: `tidb-${name}` } });
  fs.writeFileSync(path.join(dir, 'tidbclusters.yaml'), [storage, t('acme-a', { 'tenant.tidb-mesh.io/customer': 'acme' }),
    t('acme-b', { 'tenant.tidb-mesh.io/customer': 'acme' }), t('canary', {})].map((o) => YAML.stringify(o)).join('---\n'));
  const g = await cli(['generate', '-f', path.join(dir, 'tidbclusters.yaml'), '--url', 'oci://registry.example/tidb-mesh:1', '--sha256', 'a'.repeat(64)]);
  if (g.code !== 0) throw new Error(`generate failed:\n${g.stderr}`);
  const registry = JSON.parse(fs.readFileSync(path.join(dir, 'tidb-mesh-tenants.json'), 'utf8'));
  // PD pre-allocates keyspaces by name in this order: ids 1..3 as the registry assigned them.
  const tenants = registry.tenants.map((x) => ({ name: x.name, keyspaceId: x.keyspaceId }));
  expect(tenants).toEqual([{ name: 'acme-a', keyspaceId: 1 }, { name: 'acme-b', keyspaceId: 2 }, { name: 'canary', keyspaceId: 3 }]);
  stack = await startStack({ mode: 'outbound', tenants, log: out });
  out(`rollout suite: tools built, registry generated, stack up in ${((Date.now() - t0) / 1000).toFixed(1)} s (run dir ${dir})`);
});

afterAll(async () => {
  if (stack) await stack.stop();
});

test('the registry records the tenant sets from the TidbCluster labels; tenants groups them', async () => {
  const r = await cli(['tenants', '--registry', 'tidb-mesh-tenants.json', '--group-by', 'customer']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^customer=acme \(2 tenants\)\n.*\n  tidb +acme-a +1 .*customer=acme\n  tidb +acme-b +2 .*customer=acme\ncustomer=\(none\) \(1 tenant\)\n.*\n  tidb +canary +3 .* -\n$/);
  const reg = JSON.parse(fs.readFileSync(path.join(dir, 'tidb-mesh-tenants.json'), 'utf8'));
  expect(reg.tenantSets).toEqual([{ name: 'customer', values: [{ value: 'acme', tenants: ['tidb/acme-a', 'tidb/acme-b'] }] }]);
});

test('a rollout succeeds: canary first, then customer=acme; every tenant records versions 1 and 2 in its own TiDB', async () => {
  writeMigrations('m1', M1);
  const r = await cli(['rollout', 'm1', '--registry', 'tidb-mesh-tenants.json', '--canary', 'canary', '--batch-by', 'customer', '--parallel', '2', ...ENDPOINTS()]);
  out(r.stderr + r.stdout);
  expect(r.code).toBe(0);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('[rollout m1-v2]'));
  expect(lines.indexOf('[rollout m1-v2] stage 1/2 canary: done')).toBeLessThan(lines.findIndex((l) => l.includes('tidb/acme-a running')));
  for (const t of stack.tenants) expect(await versions(t.name)).toEqual([1, 2]);
  for (const t of stack.tenants) expect(await t.mysql.query('SELECT id, total FROM shop.orders')).toEqual([{ id: 1, total: '9.99' }]);
  // Through the mesh: each tenant's tracking rows went through its sidecar filter into its own keyspace.
  for (const t of stack.tenants) expect((await stack.envoyStats(t.name))[`wasmcustom.tidb_mesh.tenant.${t.name}.calls_rewritten`]).toBeGreaterThan(0);
  expect((await stack.storeStats()).refused).toBe(0);
});

test('a rollout interrupted in its second stage (the built CLI killed) is shown as interrupted and resumes without running anything twice', async () => {
  writeMigrations('m2', { ...M1, ...M2 });
  const state = path.join(dir, 'tidb-mesh-rollouts', 'm2-v3.json');
  const child = spawnCli(['rollout', 'm2', '--registry', 'tidb-mesh-tenants.json', '--canary', 'canary', '--parallel', '2', ...ENDPOINTS()]);
  let killed = false;
  for (let i = 0; i < 3000 && !killed; i++) {
    const s = fs.existsSync(state) ? JSON.parse(fs.readFileSync(state, 'utf8')) : null;
    if (s && s.tenants.some((t) => t.stage === 1 && t.status === 'running')) { child.kill('SIGKILL'); killed = true; break; }
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const exit = await child.done;
  out(`killed the runner (pid ${child.pid}) in stage 2: ${JSON.stringify(exit)}\n${child.output}`);
  expect(killed).toBe(true);
  const st = await cli(['rollout', 'status', 'm2-v3', '--registry', 'tidb-mesh-tenants.json']);
  out(st.stdout);
  expect(st.stdout).toContain(`runner: pid ${child.pid} on ${os.hostname()} is gone (interrupted); resume: tidb-mesh rollout resume m2-v3`);
  expect(st.stdout).toMatch(/^1 +canary +done /m);
  const r = await cli(['rollout', 'resume', 'm2-v3', '--registry', 'tidb-mesh-tenants.json']);
  out(r.stderr + r.stdout);
  expect(r.code).toBe(0);
  for (const t of stack.tenants) {
    expect(await versions(t.name)).toEqual([1, 2, 3]);
    // One progress row per statement of version 3 (two), whatever the kill interrupted.
    expect(await t.mysql.query('SELECT seq, rollout FROM tidb_mesh.schema_migration_statements WHERE version = 3 ORDER BY seq')).toEqual([{ seq: 1, rollout: 'm2-v3' }, { seq: 2, rollout: 'm2-v3' }]);
    expect((await t.mysql.query("SHOW COLUMNS FROM shop.orders LIKE 'note'")).length).toBe(1);
  }
});

test('a second stage that fails on one tenant stops there, and resumes after fixing the SQL; grouped status before and after', async () => {
  // acme-b's own data: two customers with one email, so a unique index cannot be built there.
  await tenant('acme-b').mysql.query("INSERT INTO shop.customers VALUES (1, 'ann@acme.example'), (2, 'ann@acme.example'), (3, 'bob@acme.example')");
  await tenant('acme-a').mysql.query("INSERT INTO shop.customers VALUES (1, 'cy@acme.example')");
  writeMigrations('m3', { ...M1, ...M2, ...M3 });
  const args = ['rollout', 'm3', '--registry', 'tidb-mesh-tenants.json', '--canary', 'canary', '--batch-by', 'customer', '--parallel', '2', ...ENDPOINTS()];
  const r = await cli(args);
  out(r.stderr + r.stdout);
  expect(r.code).toBe(6);
  expect(r.stderr).toMatch(/stage 2\/2 customer=acme: tidb\/acme-b FAILED: 0004_unique_email.sql statement 1: ER_DUP_ENTRY \(1062\): Duplicate entry 'ann@acme.example' for key 'customers.uniq_email'/);
  expect(await versions('canary')).toEqual([1, 2, 3, 4]);
  expect(await versions('acme-a')).toEqual([1, 2, 3, 4]);
  expect(await versions('acme-b')).toEqual([1, 2, 3]);

  const failed = await cli(['rollout', 'status', 'm3-v4', '--registry', 'tidb-mesh-tenants.json', '--group-by', 'customer']);
  out(failed.stdout);
  expect(failed.stdout).toMatch(/^CUSTOMER +STATUS +PENDING +RUNNING +DONE +FAILED +TENANTS\nacme +failed +0 +0 +1 +1 +2\n\(none\) +done +0 +0 +1 +0 +1$/m);
  expect(failed.stdout).toMatch(/^tidb\/acme-b +acme +customer=acme +failed +3 +0004_unique_email.sql statement 1: ER_DUP_ENTRY/m);
  const json = JSON.parse((await cli(['rollout', 'status', 'm3-v4', '--registry', 'tidb-mesh-tenants.json', '--group-by', 'customer', '-o', 'json'])).stdout);
  expect(json.groups.map((g) => [g.value, g.status, g.counts])).toEqual([
    ['acme', 'failed', { pending: 0, running: 0, done: 1, failed: 1 }], [null, 'done', { pending: 0, running: 0, done: 1, failed: 0 }]]);

  // The fix: de-duplicate before adding the index (the failed statement never ran, so it may change).
  writeMigrations('m3', M3_FIXED);
  const canaryRows = await tenant('canary').mysql.query('SELECT COUNT(*) AS n FROM tidb_mesh.schema_migration_statements');
  const res = await cli(['rollout', 'resume', 'm3-v4', '--registry', 'tidb-mesh-tenants.json', '--group-by', 'customer']);
  out(res.stderr + res.stdout);
  expect(res.code).toBe(0);
  for (const t of stack.tenants) expect(await versions(t.name)).toEqual([1, 2, 3, 4]);
  expect(await tenant('acme-b').mysql.query('SELECT id, email FROM shop.customers ORDER BY id')).toEqual([{ id: 1, email: 'ann@acme.example' }, { id: 3, email: 'bob@acme.example' }]);
  expect((await tenant('acme-b').mysql.query("SHOW INDEX FROM shop.customers WHERE Key_name = 'uniq_email'")).length).toBe(1);
  expect((await tenant('acme-b').mysql.query('SELECT statement FROM tidb_mesh.schema_migration_statements WHERE version = 4 ORDER BY seq')).map((x) => x.statement.split('\n').pop()))
    .toEqual(['DELETE c1 FROM shop.customers c1 JOIN shop.customers c2 ON c1.email = c2.email AND c1.id > c2.id', 'ALTER TABLE shop.customers ADD UNIQUE INDEX uniq_email (email)']);
  expect(await tenant('canary').mysql.query('SELECT COUNT(*) AS n FROM tidb_mesh.schema_migration_statements')).toEqual(canaryRows);

  // The grouped progress view as a user sees it (the built CLI).
  const child = spawnCli(['rollout', 'status', '--registry', 'tidb-mesh-tenants.json', '--group-by', 'customer']);
  const exit = await child.done;
  out(child.output);
  expect(exit.code).toBe(0);
  expect(child.output).toMatch(/^rollout m3-v4: done \(target version 4: /m);
  expect(child.output).toMatch(/^acme +done +0 +0 +2 +0 +2\n\(none\) +done +0 +0 +1 +0 +1$/m);
  expect(child.output).toMatch(/^tidb\/acme-b +acme +customer=acme +done +4/m);
});
