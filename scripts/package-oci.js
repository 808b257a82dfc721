#!/usr/bin/env node
// `npm run package` (and the end of `npm run build`): writes the filter's OCI image as an OCI
// image layout at dist/oci/ (oci-layout, index.json tagged with package.json's version,
// blobs/sha256/*) from dist/tidb-mesh.wasm, and its manifest digest, the value for
// WasmPlugin.spec.sha256 with an oci:// URL, to dist/tidb-mesh.oci.sha256. No Docker: the image
// is built by scripts/oci-image.js, reproducible byte for byte. Push it with `tidb-mesh publish`.
'use strict';
const fs = require('fs');
const path = require('path');
const { buildImage } = require('./oci-image.js');

const root = path.resolve(__dirname, '..');
const wasmPath = path.join(root, 'dist', 'tidb-mesh.wasm');
if (!fs.existsSync(wasmPath)) { console.error('package: dist/tidb-mesh.wasm is missing; run `npm run build` first'); process.exit(1); }
const version = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version;
const img = buildImage(fs.readFileSync(wasmPath), version);
const out = path.join(root, 'dist', 'oci');
fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(path.join(out, 'blobs', 'sha256'), { recursive: true });
fs.writeFileSync(path.join(out, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
fs.writeFileSync(path.join(out, 'index.json'), img.index);
for (const [digest, b] of img.blobs) fs.writeFileSync(path.join(out, 'blobs', 'sha256', digest.slice('sha256:'.length)), b);
const hex = img.manifestDigest.slice('sha256:'.length);
fs.writeFileSync(path.join(root, 'dist', 'tidb-mesh.oci.sha256'), `${hex}  oci-image-manifest\n`);
console.log(`dist/oci  OCI image tidb-mesh:${version} (compat variant, plugin.wasm ${fs.statSync(wasmPath).size} bytes)  manifest digest ${img.manifestDigest}`);
