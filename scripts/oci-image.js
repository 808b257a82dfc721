// The filter as an OCI image, built without Docker. Pure: wasm bytes in, blobs and digests out;
// the same bytes always give the same image, byte for byte (no timestamps, no owner names, a
// gzip stream we write ourselves with stored deflate blocks, so no zlib version can change it).
//
// Variant: the Wasm image spec's *compat* variant with OCI media types
// (solo-io/wasm spec-compat.md), which Istio's fetcher tries first (istio/istio
// pkg/wasm/imagefetcher.go, extractOCIStandardImage):
//   manifest  application/vnd.oci.image.manifest.v1+json
//   config    application/vnd.oci.image.config.v1+json   {architecture: wasm, os: wasip1, rootfs}
//   layer     application/vnd.oci.image.layer.v1.tar+gzip, the last (only) layer, a tar holding
//             one file `plugin.wasm`
// Why not the *oci* variant (application/vnd.module.wasm.content.layer.v1+wasm): Istio's parser
// for it insists on exactly two layers, few registries' UIs or scanners know those types, and
// the compat image is what `docker build` of `FROM scratch` + `COPY plugin.wasm` would give, so
// every tool that handles images handles it.
//
// The digest Istio compares: for oci:// URLs istio-agent checks WasmPlugin.spec.sha256 against
// the image's *manifest* digest (go-containerregistry `img.Digest()`, pkg/wasm/cache.go), before
// it downloads the layer; the .wasm file's own sha256 is refused there. `manifestDigest` below.
'use strict';
const crypto = require('crypto');

const MEDIA = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  index: 'application/vnd.oci.image.index.v1+json',
};
const WASM_NAME = 'plugin.wasm';

const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');

/** A ustar archive with one regular file, owner 0:0, mode 0644, mtime 0. */
function tarOne(name, data) {
  const h = Buffer.alloc(512, 0);
  const put = (s, off, len) => Buffer.from(s, 'ascii').copy(h, off, 0, len);
  const oct = (n, len) => n.toString(8).padStart(len - 1, '0') + '\0';
  put(name, 0, 100);
  put(oct(0o644, 8), 100, 8);
  put(oct(0, 8), 108, 8);
  put(oct(0, 8), 116, 8);
  put(oct(data.length, 12), 124, 12);
  put(oct(0, 12), 136, 12);
  put('        ', 148, 8);
  put('0', 156, 1);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  let sum = 0;
  for (const b of h) sum += b;
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  const pad = Buffer.alloc((512 - (data.length % 512)) % 512, 0);
  return Buffer.concat([h, data, pad, Buffer.alloc(1024, 0)]);
}

let crcTable;
function crc32(buf) {
  if (!crcTable) {
    crcTable = new Int32Array(256);
    for (let n = 0; n < 256; n++) { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; crcTable[n] = c; }
  }
  let c = -1;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** gzip (RFC 1952) with stored deflate blocks: mtime 0, no name, OS 255. Deterministic by construction. */
function gzipStored(data) {
  const parts = [Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff])];
  for (let off = 0; off < data.length || off === 0; off += 65535) {
    const chunk = data.subarray(off, Math.min(off + 65535, data.length));
    const last = off + 65535 >= data.length;
    const hdr = Buffer.alloc(5);
    hdr[0] = last ? 1 : 0;
    hdr.writeUInt16LE(chunk.length, 1);
    hdr.writeUInt16LE(~chunk.length & 0xffff, 3);
    parts.push(hdr, chunk);
    if (last) break;
  }
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(data), 0);
  trailer.writeUInt32LE(data.length >>> 0, 4);
  parts.push(trailer);
  return Buffer.concat(parts);
}

const json = (v) => Buffer.from(JSON.stringify(v));

/**
 * The image of `wasm` (a Buffer). Returns { manifestDigest: 'sha256:<hex>', manifest, blobs:
 * Map<'sha256:<hex>', Buffer>, index (the OCI layout's index.json, tag `ref`) }.
 */
function buildImage(wasm, ref) {
  const tar = tarOne(WASM_NAME, wasm);
  const layer = gzipStored(tar);
  const config = json({ architecture: 'wasm', os: 'wasip1', rootfs: { type: 'layers', diff_ids: [`sha256:${sha256(tar)}`] } });
  const desc = (mediaType, b, annotations) => ({ mediaType, digest: `sha256:${sha256(b)}`, size: b.length, ...(annotations ? { annotations } : {}) });
  const manifest = json({
    schemaVersion: 2,
    mediaType: MEDIA.manifest,
    config: desc(MEDIA.config, config),
    layers: [desc(MEDIA.layer, layer, { 'org.opencontainers.image.title': WASM_NAME })],
  });
  const manifestDigest = `sha256:${sha256(manifest)}`;
  const blobs = new Map([[`sha256:${sha256(config)}`, config], [`sha256:${sha256(layer)}`, layer], [manifestDigest, manifest]]);
  const index = json({ schemaVersion: 2, mediaType: MEDIA.index, manifests: [{ ...desc(MEDIA.manifest, manifest), annotations: { 'org.opencontainers.image.ref.name': ref } }] });
  return { manifestDigest, manifest, blobs, index, layer, tar };
}

module.exports = { buildImage, gzipStored, tarOne, crc32, MEDIA, WASM_NAME };
