#!/usr/bin/env node
// `npm ci` / `npm install` (the prepare script) link the CLI as node_modules/.bin/tidb-mesh, so
// the README's `npx tidb-mesh …` runs this checkout's CLI at once. package.json has no "bin" on
// purpose: npm 7+ treats a project whose own package.json names that bin as a package to install
// into its npx cache (it runs `prepare`, i.e. the whole build, and fetches dependencies from the
// registry); a bin in node_modules/.bin is run directly.
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const dir = path.join(root, 'node_modules', '.bin');
const link = path.join(dir, 'tidb-mesh');
fs.mkdirSync(dir, { recursive: true });
fs.rmSync(link, { force: true });
fs.symlinkSync(path.join('..', '..', 'bin', 'tidb-mesh.js'), link);
fs.chmodSync(path.join(root, 'bin', 'tidb-mesh.js'), 0o755);
console.error('linked node_modules/.bin/tidb-mesh -> bin/tidb-mesh.js');
