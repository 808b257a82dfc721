#!/usr/bin/env node
// Builds the optimized release filter at dist/tidb-mesh.wasm and writes its sha256 to
// dist/tidb-mesh.wasm.sha256 (the value WasmPlugin.spec.sha256 expects). Also builds
// dist/tidb-mesh-noop.wasm, a pass-through filter on the same SDK, and
// dist/tidb-mesh-copybody.wasm, which only copies bodies through the VM: benchmark baselines.
'use strict';
const { execFileSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const asc = path.join(root, 'node_modules', '.bin', 'asc');
const dist = path.join(root, 'dist');
fs.mkdirSync(dist, { recursive: true });

function compile(entry, out, extra = []) {
  try {
    execFileSync(asc, [entry, '--config', 'asconfig.json', '--target', 'release', '-b', out, ...extra],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  } catch (e) {
    process.stderr.write(e.stdout || '');
    process.stderr.write(e.stderr || '');
    throw new Error(`asc failed for ${entry}`);
  }
}

function sha256(file) {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

// Filters route AssemblyScript's abort to the SDK's abort_proc_exit (logs, then exits).
const sdkAbort = ['--use', 'abort=abort_proc_exit'];
const targets = [
  ['assembly/index.ts', 'dist/tidb-mesh.wasm', sdkAbort],
];
if (fs.existsSync(path.join(root, 'assembly/noop.ts'))) targets.push(['assembly/noop.ts', 'dist/tidb-mesh-noop.wasm', sdkAbort]);
// Baseline (d) of the Envoy benchmark: reads and writes back every body chunk, nothing else.
if (fs.existsSync(path.join(root, 'assembly/copybody.ts'))) targets.push(['assembly/copybody.ts', 'dist/tidb-mesh-copybody.wasm', sdkAbort]);
// The pure core for unit tests: no SDK, so the SDK's abort handler is not available.
if (fs.existsSync(path.join(root, 'assembly/testing/entry.ts'))) targets.push(['assembly/testing/entry.ts', 'dist/tidb-mesh-core.wasm', []]);
// The pure PD-HTTP module for its unit tests (test/pdhttp), the same way.
if (fs.existsSync(path.join(root, 'assembly/testing/pdhttp-entry.ts'))) targets.push(['assembly/testing/pdhttp-entry.ts', 'dist/tidb-mesh-pdhttp.wasm', []]);
// The allowlist and its key-field tables as text, for the schema completeness check (test/realschema).
if (fs.existsSync(path.join(root, 'assembly/testing/tables-entry.ts'))) targets.push(['assembly/testing/tables-entry.ts', 'dist/tidb-mesh-tables.wasm', []]);

for (const [entry, out, extra] of targets) {
  compile(entry, out, extra);
  const digest = sha256(path.join(root, out));
  fs.writeFileSync(path.join(root, out + '.sha256'), `${digest}  ${path.basename(out)}\n`);
  console.log(`${out}  ${fs.statSync(path.join(root, out)).size} bytes  sha256 ${digest}`);
}
