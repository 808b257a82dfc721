// `tidb-mesh rollout` handlers called in-process against TEST stand-ins for the tenants' TiDBs
// (fake-tidb.ts): dry run, a staged rollout, a failing stage resumed after the fix, a runner
// that died mid-stage, two runners of one rollout, the grouped status views, cluster mode
// (state in a ConfigMap of the test API server). The real TiDBs: test/tidb/rollout.test.js.
import * as fs from 'fs';
import * as path from 'path';
import { main } from '../../tools/cli';
import { Io } from '../../tools/commands';
import { Cluster, loadKubeConfig } from '../../tools/cluster';
import { RolloutHooks } from '../../tools/rollout/command';
import { fileStores } from '../../tools/rollout/store';
import { registryText } from '../../tools/source';
import { parseRegistry } from '../../tools/registry';
import { FakeTidb, sqlError } from './fake-tidb';
import { TestApiServer } from './test-apiserver';
import { tmpdir } from './helpers';

const NAMES = ['acme-a', 'acme-b', 'canary', 'globex-a'];
const SETS: Record<string, Record<string, string>> = { 'acme-a': { customer: 'acme' }, 'acme-b': { customer: 'acme' }, canary: {}, 'globex-a': { customer: 'globex' } };

function registry() {
  return parseRegistry({ kind: 'TenantRegistry', tenants: NAMES.map((name, i) => ({
    name, namespace: 'tidb', storageLayer: 'tidb/storage-layer', keyspaceId: i + 1, keyspaceName: name, labels: SETS[name], state: 'active' })) }, 'test');
}

const MIGRATIONS = {
  '0001_orders.sql': 'CREATE TABLE shop.orders (id BIGINT PRIMARY KEY, email VARCHAR(64));\nINSERT INTO shop.orders VALUES (1, \'a@x\');\n',
  '0002_unique_email.sql': 'ALTER TABLE shop.orders ADD UNIQUE INDEX uniq_email (email);\n',
};

interface Ctx { dir: string; reg: string; mig: string; dbs: Record<string, FakeTidb>; clock: number; ends: string[] }

function setup(): Ctx {
  const dir = tmpdir();
  const reg = path.join(dir, 'tidb-mesh-tenants.json');
  fs.writeFileSync(reg, registryText(registry()));
  const mig = path.join(dir, 'migrations');
  fs.mkdirSync(mig);
  for (const [f, t] of Object.entries(MIGRATIONS)) fs.writeFileSync(path.join(mig, f), t);
  return { dir, reg, mig, dbs: Object.fromEntries(NAMES.map((n) => [`/run/${n}.sock`, new FakeTidb()])), clock: 0, ends: [] };
}

async function cli(c: Ctx, argv: string[], extra: Partial<RolloutHooks> & { kubeconfig?: string } = {}) {
  let stdout = '';
  let stderr = '';
  const { kubeconfig, ...hooks } = extra;
  const io: Io = {
    stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; }, stdin: async () => '', writeFile: () => undefined, cwd: c.dir,
    connect: kubeconfig ? () => new Cluster(loadKubeConfig(kubeconfig)) : undefined,
    rollout: {
      now: () => new Date(Date.UTC(2025, 0, 1, 0, 0, c.clock++)), host: 'test-host', pid: 4242, processAlive: () => false,
      connector: (endpoint) => c.dbs[endpoint].connector(), env: {}, sleep: async () => undefined, ...hooks,
    },
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

const ENDPOINTS = NAMES.flatMap((n) => ['--endpoint', `${n}=/run/${n}.sock`]);
const RUN = ['rollout', 'migrations', '--registry', 'tidb-mesh-tenants.json', '--canary', 'canary', '--batch-by', 'customer=acme', '--parallel', '2', ...ENDPOINTS];
const db = (c: Ctx, n: string) => c.dbs[`/run/${n}.sock`];

describe('rollout (files mode, fake TiDBs)', () => {
  it('--dry-run prints stages, tenants, endpoints and statements, and touches nothing', async () => {
    const c = setup();
    const r = await cli(c, [...RUN, '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('rollout migrations-v2: dry run, nothing is touched');
    expect(r.stdout).toContain('  0002_unique_email.sql (version 2, 1 statement)\n     1  ALTER TABLE shop.orders ADD UNIQUE INDEX uniq_email (email)');
    expect(r.stdout).toContain('  1. canary\n       tidb/canary  /run/canary.sock\n  2. customer=acme\n       tidb/acme-a  /run/acme-a.sock\n       tidb/acme-b  /run/acme-b.sock\n  3. customer=globex');
    const j = JSON.parse((await cli(c, [...RUN, '--dry-run', '-o', 'json'])).stdout);
    expect(j.stages.map((s: any) => s.name)).toEqual(['canary', 'customer=acme', 'customer=globex']);
    expect(fs.existsSync(path.join(c.dir, 'tidb-mesh-rollouts'))).toBe(false);
    expect(Object.values(c.dbs).every((d) => d.connections === 0)).toBe(true);
  });

  it('applies every migration to every tenant in stages, records versions, and a second run is a no-op', async () => {
    const c = setup();
    const auths: unknown[] = [];
    const r = await cli(c, [...RUN, '--user', 'migrator'], {
      env: { TIDB_MESH_PASSWORD: 's3cret' }, connector: (e, auth) => { auths.push(auth); return c.dbs[e].connector(); },
    });
    expect(r.code).toBe(0);
    expect(auths).toHaveLength(4);
    expect(auths[0]).toEqual({ user: 'migrator', password: 's3cret' });
    for (const n of NAMES) expect(db(c, n).appliedVersions()).toEqual([1, 2]);
    // Stage order: the canary finished before any other tenant was touched.
    expect(r.stderr).toContain('[rollout migrations-v2] stage 1/3 canary: tidb/canary running (attempt 1)\n[rollout migrations-v2] stage 1/3 canary: tidb/canary done (version 2; applied 1,2)\n[rollout migrations-v2] stage 1/3 canary: done\n');
    expect(r.stdout).toMatch(/^rollout migrations-v2: done \(target version 2: 0001_orders.sql, 0002_unique_email.sql\)/);
    const state = JSON.parse(fs.readFileSync(path.join(c.dir, 'tidb-mesh-rollouts', 'migrations-v2.json'), 'utf8'));
    expect(state.tenants.map((t: any) => [t.id, t.status, t.version])).toEqual([['tidb/canary', 'done', 2], ['tidb/acme-a', 'done', 2], ['tidb/acme-b', 'done', 2], ['tidb/globex-a', 'done', 2]]);
    expect(state.runner).toBeNull();
    expect(JSON.stringify(state)).not.toContain('s3cret');
    const again = await cli(c, RUN);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('rollout migrations-v2 is already done');
    for (const n of NAMES) expect(db(c, n).executed).toHaveLength(3);
  });

  it('a stage stops at its first failure (exit 6); after fixing the SQL, resume re-runs only what did not succeed', async () => {
    const c = setup();
    db(c, 'acme-b').failOn.push({ match: /ADD UNIQUE INDEX uniq_email/, error: sqlError('ER_DUP_ENTRY', 1062, "Duplicate entry 'a@x' for key 'orders.uniq_email'") });
    const r = await cli(c, [...RUN, '--parallel', '1']);
    expect(r.code).toBe(6);
    expect(r.stderr).toContain("stage 2/3 customer=acme: tidb/acme-b FAILED: 0002_unique_email.sql statement 1: ER_DUP_ENTRY (1062): Duplicate entry 'a@x' for key 'orders.uniq_email'");
    expect(r.stderr).toContain('fix the cause and run: tidb-mesh rollout resume migrations-v2');
    expect(db(c, 'acme-b').appliedVersions()).toEqual([1]);
    expect(db(c, 'globex-a').connections).toBe(0); // the next stage never started

    const st = await cli(c, ['rollout', 'status', '--registry', 'tidb-mesh-tenants.json', '--group-by', 'customer']);
    expect(st.stdout).toContain('CUSTOMER  STATUS   PENDING  RUNNING  DONE  FAILED  TENANTS\nacme      failed   0        0        1     1       2\nglobex    pending  1        0        0     0       1\n(none)    done     0        0        1     0       1');

    // The fix: remove the duplicate first (a new statement before the one that failed).
    fs.writeFileSync(path.join(c.mig, '0002_unique_email.sql'), "DELETE FROM shop.orders WHERE email = 'a@x' AND id <> 1;\nALTER TABLE shop.orders ADD UNIQUE INDEX uniq_email (email);\n");
    db(c, 'acme-b').failOn = [];
    const before = Object.fromEntries(NAMES.map((n) => [n, db(c, n).executed.length]));
    const res = await cli(c, ['rollout', 'resume', 'migrations-v2', '--registry', 'tidb-mesh-tenants.json', '--group-by', 'customer']);
    expect(res.code).toBe(0);
    expect(res.stderr).toContain('note: 0002_unique_email.sql changed since the rollout started');
    // Progress reports what happens in this run only: acme-b again, not the tenants done before.
    expect(res.stderr.split('\n').filter((l) => l.startsWith('[rollout'))).toEqual([
      '[rollout migrations-v2] stage 2/3 customer=acme: tidb/acme-b running (attempt 2)',
      '[rollout migrations-v2] stage 2/3 customer=acme: tidb/acme-b done (version 2; applied 1,2)',
      '[rollout migrations-v2] stage 2/3 customer=acme: done',
      '[rollout migrations-v2] stage 3/3 customer=globex: tidb/globex-a running (attempt 1)',
      '[rollout migrations-v2] stage 3/3 customer=globex: tidb/globex-a done (version 2; applied 1,2)',
      '[rollout migrations-v2] stage 3/3 customer=globex: done',
    ]);
    for (const n of NAMES) expect(db(c, n).appliedVersions()).toEqual([1, 2]);
    expect(db(c, 'canary').executed.length).toBe(before.canary);
    expect(db(c, 'acme-a').executed.length).toBe(before['acme-a']);
    expect(db(c, 'acme-b').executed.slice(before['acme-b'])).toEqual(["DELETE FROM shop.orders WHERE email = 'a@x' AND id <> 1", 'ALTER TABLE shop.orders ADD UNIQUE INDEX uniq_email (email)']);
    expect(res.stdout).toMatch(/^tidb\/acme-b +acme +customer=acme +done +2$/m);
    const state = JSON.parse(fs.readFileSync(path.join(c.dir, 'tidb-mesh-rollouts', 'migrations-v2.json'), 'utf8'));
    expect(state.tenants.find((t: any) => t.id === 'tidb/acme-b')).toMatchObject({ status: 'done', attempts: 2, applied: [1, 2] });
  });

  it('after a runner died mid-stage, status says so and re-running the same command finishes the rollout', async () => {
    const c = setup();
    db(c, 'acme-a').failOn.push({ match: /UNIQUE/, error: sqlError('ER_X', 1, 'x') });
    await cli(c, RUN);
    // What a killed runner leaves behind: a tenant "running" and the runner recorded.
    const file = path.join(c.dir, 'tidb-mesh-rollouts', 'migrations-v2.json');
    const s = JSON.parse(fs.readFileSync(file, 'utf8'));
    s.tenants.find((t: any) => t.id === 'tidb/acme-a').status = 'running';
    s.runner = { host: 'test-host', pid: 999999, since: 'then' };
    fs.writeFileSync(file, JSON.stringify(s));
    db(c, 'acme-a').failOn = [];
    const st = await cli(c, ['rollout', 'status', 'migrations-v2', '--state', 'tidb-mesh-rollouts']);
    expect(st.stdout).toMatch(/^rollout migrations-v2: running, interrupted \(target version 2/);
    expect(st.stdout).toContain('runner: pid 999999 on test-host is gone (interrupted); resume: tidb-mesh rollout resume migrations-v2');
    const r = await cli(c, RUN);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('resuming rollout migrations-v2');
    expect(r.stderr).toContain('[rollout migrations-v2] stage 2/3 customer=acme: tidb/acme-a pending again (its runner was interrupted; its tracking tables say what ran)');
    for (const n of NAMES) expect(db(c, n).appliedVersions()).toEqual([1, 2]);
  });

  it('refuses a second runner of the same rollout (revision check) and a re-run with other stages', async () => {
    const c = setup();
    await cli(c, RUN);
    const store = fileStores(path.join(c.dir, 'tidb-mesh-rollouts')).open('migrations-v2');
    const s = (await store.load())!;
    await store.save(s);
    await expect(store.save(s)).rejects.toThrow(/ROLLOUT_CONFLICT|changed by someone else/);
    const otherArgs = [...RUN];
    otherArgs.splice(RUN.indexOf('--batch-by'), 2);
    const other = await cli(c, otherArgs);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/ROLLOUT_MISMATCH: rollout migrations-v2 exists with other stages/);
  });

  it('status: -o json for the latest rollout; --watch in a terminal redraws the frame', async () => {
    const c = setup();
    await cli(c, RUN);
    const j = JSON.parse((await cli(c, ['rollout', 'status', '--registry', 'tidb-mesh-tenants.json', '--group-by', 'customer', '-o', 'json'])).stdout);
    expect(j.groups.map((g: any) => [g.value, g.status, g.counts.done])).toEqual([['acme', 'done', 2], ['globex', 'done', 1], [null, 'done', 1]]);
    const tty = await cli(c, [...RUN, '--name', 'second'], { stderrIsTTY: true });
    expect(tty.stderr).toContain('\x1b[');
    expect(tty.stderr).toContain('rollout second: done');
    expect(tty.stderr).not.toContain('[rollout second]');
    const w = await cli(c, ['rollout', 'status', 'second', '--registry', 'tidb-mesh-tenants.json', '-w']);
    expect(w.code).toBe(0);
    expect(w.stdout).toMatch(/^rollout second: done/);
  });

  it('status in a terminal follows a rollout that is still running, redrawing, until it ends', async () => {
    const c = setup();
    await cli(c, RUN);
    const file = path.join(c.dir, 'tidb-mesh-rollouts', 'migrations-v2.json');
    const finished = fs.readFileSync(file, 'utf8');
    const s = JSON.parse(finished);
    s.tenants.find((t: any) => t.id === 'tidb/globex-a').status = 'running';
    s.runner = { host: 'test-host', pid: 7, since: 'then' };
    fs.writeFileSync(file, JSON.stringify(s));
    let polls = 0;
    const r = await cli(c, ['rollout', 'status', '--registry', 'tidb-mesh-tenants.json', '--group-by', 'customer'], {
      stderrIsTTY: true, processAlive: () => true, sleep: async () => { polls++; fs.writeFileSync(file, finished); },
    });
    expect(polls).toBe(1);
    expect(r.stderr).toContain('rollout migrations-v2: running, stage 3/3 customer=globex');
    expect(r.stderr).toMatch(/tidb\/globex-a +running +connecting/);
    expect(r.stderr).toMatch(/\x1b\[\d+F\x1b\[Jrollout migrations-v2: done/);
    expect(r.stdout).toMatch(/^rollout migrations-v2: done/);
  });

  it('usage errors: no directory, bad --parallel, bad name, unknown rollout', async () => {
    const c = setup();
    expect((await cli(c, ['rollout', '--registry', 'tidb-mesh-tenants.json'])).code).toBe(2);
    expect((await cli(c, [...RUN, '--parallel', '0'])).code).toBe(2);
    expect((await cli(c, [...RUN, '--name', 'Bad_Name'])).code).toBe(2);
    const u = await cli(c, ['rollout', 'status', 'nope', '--registry', 'tidb-mesh-tenants.json']);
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/ROLLOUT_UNKNOWN: no rollout nope/);
  });
});

describe('rollout (cluster mode: state in a ConfigMap)', () => {
  let server: TestApiServer;
  let kubeconfig: string;
  beforeEach(async () => {
    server = await new TestApiServer().start();
    kubeconfig = path.join(tmpdir(), 'kubeconfig');
    fs.writeFileSync(kubeconfig, server.kubeconfig());
    server.seed({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'tidb-mesh-tenants', namespace: 'tidb' }, data: { 'tenants.json': registryText(registry()) } });
  });
  afterEach(async () => { await server.stop(); });

  it('reads tenants from the registry ConfigMap and keeps the state in ConfigMap tidb-mesh-rollout-<name>', async () => {
    const c = setup();
    const argv = RUN.filter((a, i) => a !== '--registry' && RUN[i - 1] !== '--registry');
    const r = await cli(c, [...argv, '--kubeconfig', kubeconfig], { kubeconfig });
    expect(r.code).toBe(0);
    const cm = server.object('v1', 'ConfigMap', 'tidb', 'tidb-mesh-rollout-migrations-v2');
    expect(cm.metadata.labels).toEqual({ 'app.kubernetes.io/managed-by': 'tidb-mesh', 'tidb-mesh.io/component': 'rollout' });
    const state = JSON.parse(cm.data['rollout.json']);
    expect(state.tenants.every((t: any) => t.status === 'done')).toBe(true);
    expect(server.requests.filter((q) => q.method === 'PUT' && q.path.endsWith('/tidb-mesh-rollout-migrations-v2')).length).toBeGreaterThan(5);
    const st = await cli(c, ['rollout', 'status', '--group-by', 'customer', '--kubeconfig', kubeconfig], { kubeconfig });
    expect(st.stdout).toMatch(/^rollout migrations-v2: done/);
    // Someone else changed the ConfigMap: a runner based on the old version is refused.
    fs.writeFileSync(path.join(c.mig, '0003_more.sql'), 'CREATE TABLE shop.more (i INT)');
    const next = await cli(c, [...argv, '--name', 'v3', '--kubeconfig', kubeconfig], {
      kubeconfig, connector: (e) => { server.touch('v1', 'ConfigMap', 'tidb', 'tidb-mesh-rollout-v3'); return c.dbs[e].connector(); },
    });
    expect(next.code).toBe(4);
    expect(next.stderr).toMatch(/ROLLOUT_CONFLICT: rollout v3: ConfigMap tidb\/tidb-mesh-rollout-v3 was changed by someone else/);
  });
});
