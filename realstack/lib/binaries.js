// Where the Go-built binaries are: realstack/build.sh builds them on first use (with progress)
// and caches them by the hash of their wrapper modules; this only asks it.
'use strict';

const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const HERE = path.resolve(__dirname, '..');
const NAMES = ['pd-server', 'unistore-server', 'tidb-server'];

function cacheDir() {
  return path.join(process.env.TIDB_MESH_CACHE || path.join(os.homedir(), '.cache', 'tidb-mesh'), 'realstack');
}

/**
 * Builds what is missing (a no-op taking a second when everything is cached) and returns
 * {pd-server, unistore-server, tidb-server} absolute paths. Throws, naming the build log, if a
 * build fails: a missing real part is an error, never a skip.
 */
function ensureBinaries({ quiet = false, names = NAMES } = {}) {
  execFileSync('bash', [path.join(HERE, 'build.sh'), ...names], { stdio: quiet ? ['ignore', 'ignore', 'inherit'] : 'inherit' });
  const out = {};
  for (const n of names) {
    const p = fs.realpathSync(path.join(cacheDir(), 'bin', n));
    if (!fs.existsSync(p)) throw new Error(`realstack: ${n} missing after build (${p})`);
    out[n] = p;
  }
  return out;
}

module.exports = { ensureBinaries, cacheDir };
