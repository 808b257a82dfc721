#!/usr/bin/env node
// Fetches the pinned protocol schemas of schema/upstream-protos.js (kvproto, etcd) from the
// Go module proxy with `go mod download` (which also checks them against sum.golang.org),
// verifies each module's go.sum hash against the pin, and records the module directories in
// <cache>/schemas.json for test/realschema/load.js. The files stay in the Go module cache,
// outside the repository; nothing is copied into the tree. Cache: $TIDB_MESH_CACHE, else
// $XDG_CACHE_HOME/tidb-mesh, else ~/.cache/tidb-mesh. Idempotent: a cached module is not
// downloaded again.
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { MODULES } = require('../schema/upstream-protos');

/** The cache directory for the manifest (outside the repository). */
function cacheDir() {
  if (process.env.TIDB_MESH_CACHE) return process.env.TIDB_MESH_CACHE;
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'tidb-mesh');
}

function manifestPath() { return path.join(cacheDir(), 'schemas.json'); }

/** Downloads one module@version; returns its directory. Throws with go's message on failure. */
function download(m) {
  let out;
  try {
    out = execFileSync('go', ['mod', 'download', '-json', `${m.module}@${m.version}`], {
      cwd: os.tmpdir(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local' },
    });
  } catch (e) {
    const detail = (e.stdout || '') + (e.stderr || '') || e.message;
    throw new Error(`go mod download ${m.module}@${m.version} failed: ${detail.trim()}`);
  }
  const info = JSON.parse(out);
  if (info.Error) throw new Error(`go mod download ${m.module}@${m.version}: ${info.Error}`);
  if (info.Sum !== m.sum) throw new Error(`${m.module}@${m.version}: go.sum hash ${info.Sum}, pinned ${m.sum}`);
  if (!info.Dir || !fs.existsSync(info.Dir)) throw new Error(`${m.module}@${m.version}: no module directory (${info.Dir})`);
  return info.Dir;
}

function main() {
  const manifest = {};
  for (const m of MODULES) {
    const dir = download(m);
    manifest[m.name] = { module: m.module, version: m.version, sum: m.sum, dir };
    console.log(`${m.name.padEnd(13)} ${m.module}@${m.version}  ${dir}`);
  }
  fs.mkdirSync(cacheDir(), { recursive: true });
  fs.writeFileSync(manifestPath(), JSON.stringify(manifest, null, 2) + '\n');
}

if (require.main === module) {
  try { main(); } catch (e) { console.error(`fetch-schemas: ${e.message}`); process.exit(1); }
}

module.exports = { cacheDir, manifestPath };
