#!/usr/bin/env node
// `npm run demo:rollout`: a staged schema rollout across three UNMODIFIED tidb-servers that share
// one real PD and store through the mesh (realstack/, needs root like `npm run demo`; the first run
// builds pd-server, tidb-server and the store, later runs find them cached).
//
// What a platform team would do, with the built CLI (bin/tidb-mesh.js):
//   1. `tidb-mesh generate` on examples/rollout/tidbclusters.yaml: keyspace ids and tenant sets
//      (acme-a, acme-b in customer acme; canary in no set) recorded in the registry;
//   2. `tidb-mesh tenants --group-by customer`;
//   3. the tenants' TiDBs start with those keyspaces (realstack/stack.js);
//   4. `tidb-mesh rollout examples/rollout/migrations --dry-run`, then for real: canary first,
//      then customer=acme, two tenants at once;
//   5. `tidb-mesh rollout status --group-by customer`, and the versions in each tenant's own TiDB.
// Every process it started is stopped on the way out; exit 0 only if the rollout is done.
'use strict';

const { execFileSync, spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const EXAMPLE = path.join(ROOT, 'examples', 'rollout');
const { startStack } = require('../realstack/stack');

const line = (c = '─') => console.log(c.repeat(78));

/** Runs the built CLI as a user would; prints the command and its output. */
function tidbMesh(args, { cwd, show = args } = {}) {
  console.log(`$ tidb-mesh ${show.join(' ')}`);
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'tidb-mesh.js'), ...args], { cwd, stdio: 'inherit' });
  return r.status;
}

async function main() {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'tidb-mesh.wasm'))) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  execFileSync('npm', ['run', 'build:tools', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  console.log('Building (or finding cached) pd-server, tidb-server and the store server:');
  execFileSync('bash', [path.join(ROOT, 'realstack', 'build.sh')], { stdio: 'inherit' });

  const run = fs.mkdtempSync(path.join(os.tmpdir(), 'tidb-mesh-rollout-'));
  const reg = path.join(run, 'tidb-mesh-tenants.json');
  let stack = null;
  let code = 1;
  try {
    line('═');
    console.log(`tidb-mesh rollout demo (run dir ${run})`);
    line('═');
    console.log('1. Tenants and tenant sets from the TidbCluster labels, recorded in the registry:');
    if (tidbMesh(['generate', '-f', path.join(EXAMPLE, 'tidbclusters.yaml'), '--registry', reg, '--url', 'oci://registry.example/tidb-mesh:0.1.0',
      '--sha256', 'a'.repeat(64), '-o', path.join(run, 'manifests.yaml')], { cwd: run, show: ['generate', '-f', 'examples/rollout/tidbclusters.yaml', '--registry', '$RUN/tidb-mesh-tenants.json', '...'] }) !== 0) return;
    tidbMesh(['tenants', '--registry', reg, '--group-by', 'customer'], { show: ['tenants', '--registry', '$RUN/tidb-mesh-tenants.json', '--group-by', 'customer'] });

    line();
    console.log('2. Their TiDBs: unmodified tidb-servers behind sidecars with the filter, one keyspace each:');
    const tenants = JSON.parse(fs.readFileSync(reg, 'utf8')).tenants.map((t) => ({ name: t.name, keyspaceId: t.keyspaceId }));
    stack = await startStack({ mode: 'outbound', tenants, log: (m) => console.log(`  ${m}`) });
    const endpoints = stack.tenants.flatMap((t) => ['--endpoint', `tidb/${t.name}=${t.socket}`]);
    const rollout = ['rollout', path.join(EXAMPLE, 'migrations'), '--registry', reg, '--canary', 'canary', '--batch-by', 'customer', '--parallel', '2', ...endpoints];
    const shown = ['rollout', 'examples/rollout/migrations', '--registry', '$RUN/tidb-mesh-tenants.json', '--canary', 'canary', '--batch-by', 'customer', '--parallel', '2',
      ...stack.tenants.flatMap((t) => ['--endpoint', `${t.name}=$RUN/${t.name}-mysql.sock`])];

    line();
    console.log('3. The plan (nothing is touched):');
    tidbMesh([...rollout, '--dry-run'], { show: [...shown, '--dry-run'] });

    line();
    console.log('4. The rollout: canary first, then customer=acme (progress on stderr, live in a terminal):');
    code = tidbMesh(rollout, { show: shown });

    line();
    console.log('5. Progress grouped by customer, and what each tenant\'s own TiDB recorded:');
    tidbMesh(['rollout', 'status', '--registry', reg, '--group-by', 'customer'], { show: ['rollout', 'status', '--registry', '$RUN/tidb-mesh-tenants.json', '--group-by', 'customer'] });
    for (const t of stack.tenants) {
      console.log(`${t.name}> SELECT version, name, rollout FROM tidb_mesh.schema_migrations`);
      process.stdout.write(await t.mysql.cli('SELECT version, name, rollout FROM tidb_mesh.schema_migrations ORDER BY version'));
    }
    line('═');
    console.log(code === 0 ? 'rollout done in every tenant' : `rollout did not finish (exit ${code})`);
  } finally {
    if (stack) await stack.stop();
  }
  process.exitCode = code;
}

main().catch((e) => { console.error(e.stack || e.message); process.exitCode = 1; });
