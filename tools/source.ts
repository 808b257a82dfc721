// File IO of the tool: input manifests (files or stdin), the registry file, the built artifact.
// (The live cluster is in cluster.ts.)
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import { LocalArtifact } from './artifact';
import { findRepoFile } from './plugin-config';
import { EXIT, ToolError } from './errors';
import { emptyRegistry, parseRegistry, Registry } from './registry';
import { tenantSetsOf } from './tenants/sets';
import { KubeObject } from './types';

/**
 * Parses multi-document YAML (or JSON) into objects; `kind: List` items are flattened, empty
 * documents skipped. Throws ToolError (USAGE) naming `where` on syntax errors or non-objects.
 */
export function parseManifests(text: string, where: string): KubeObject[] {
  const out: KubeObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length) throw new ToolError(`${where}: ${doc.errors[0].message}`, EXIT.USAGE, 'BAD_INPUT');
    const v = doc.toJS();
    if (v === null || v === undefined) continue;
    const items = v.kind === 'List' || (typeof v.kind === 'string' && v.kind.endsWith('List') && Array.isArray(v.items)) ? v.items : [v];
    for (const o of items) {
      if (!o || typeof o !== 'object' || typeof o.kind !== 'string' || !o.metadata?.name) {
        throw new ToolError(`${where}: every document needs apiVersion, kind and metadata.name`, EXIT.USAGE, 'BAD_INPUT');
      }
      out.push(o as KubeObject);
    }
  }
  return out;
}

/** Reads all of stdin as UTF-8. */
export async function readStdin(stream: NodeJS.ReadableStream = process.stdin): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as string));
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads `-f` arguments ("-" = stdin, directories = their *.yaml/*.yml/*.json files, sorted). */
export async function readInputs(files: string[], stdin: () => Promise<string>): Promise<KubeObject[]> {
  const out: KubeObject[] = [];
  for (const f of files) {
    if (f === '-') { out.push(...parseManifests(await stdin(), 'stdin')); continue; }
    if (!fs.existsSync(f)) throw new ToolError(`${f}: no such file`, EXIT.USAGE, 'BAD_INPUT');
    const paths = fs.statSync(f).isDirectory()
      ? fs.readdirSync(f).filter((n) => /\.(ya?ml|json)$/.test(n)).sort().map((n) => path.join(f, n)) : [f];
    for (const p of paths) out.push(...parseManifests(fs.readFileSync(p, 'utf8'), p));
  }
  return out;
}

/** Loads a registry file; a missing file is an empty registry. Throws RegistryError if invalid. */
export function loadRegistryFile(file: string): Registry {
  if (!fs.existsSync(file)) return emptyRegistry();
  let doc: unknown;
  try { doc = JSON.parse(fs.readFileSync(file, 'utf8')); } catch (e) {
    throw new ToolError(`registry ${file}: not JSON (${(e as Error).message})`, EXIT.REGISTRY, 'REGISTRY_INVALID');
  }
  return parseRegistry(doc, file);
}

/**
 * Canonical registry text (stable key order, 2-space indent, trailing newline), with the
 * tenant-set index `tenantSets` recomputed from the records (active tenants only).
 */
export function registryText(r: Registry): string {
  return JSON.stringify({ apiVersion: r.apiVersion, kind: r.kind, tenantSets: tenantSetsOf(r.tenants), tenants: r.tenants.map((t) => ({
    name: t.name, namespace: t.namespace, storageLayer: t.storageLayer, keyspaceId: t.keyspaceId,
    keyspaceName: t.keyspaceName, labels: Object.fromEntries(Object.entries(t.labels).sort(([a], [b]) => a.localeCompare(b))), state: t.state,
  })) }, null, 2) + '\n';
}

/** Writes the registry atomically (temp file + rename). */
export function saveRegistryFile(file: string, r: Registry): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, registryText(r));
  fs.renameSync(tmp, file);
}

/**
 * Hashes the built module at `wasmPath` and reads its `.sha256` companion if present.
 * Returns undefined if the module does not exist.
 */
export function readLocalArtifact(wasmPath: string): LocalArtifact | undefined {
  if (!fs.existsSync(wasmPath)) return undefined;
  const computed = createHash('sha256').update(fs.readFileSync(wasmPath)).digest('hex');
  const shaFile = `${wasmPath}.sha256`;
  const recorded = fs.existsSync(shaFile) ? fs.readFileSync(shaFile, 'utf8').trim().split(/\s+/)[0] : undefined;
  return { path: wasmPath, computed, recorded };
}

/**
 * The OCI image of the module at `wasmPath` (scripts/oci-image.js, reproducible): its manifest
 * digest, and the one `npm run package` recorded in `<dir>/tidb-mesh.oci.sha256` if present.
 * Returns undefined if the module does not exist.
 */
export function readLocalImage(wasmPath: string): LocalArtifact | undefined {
  if (!fs.existsSync(wasmPath)) return undefined;
  const { buildImage } = require(findRepoFile('scripts/oci-image.js'));
  const bytes = fs.readFileSync(wasmPath);
  const computed = String(buildImage(bytes, 'local').manifestDigest).slice('sha256:'.length);
  const base = wasmPath.replace(/\.wasm$/, '.oci');
  const shaFile = `${base}.sha256`;
  const recorded = fs.existsSync(shaFile) ? fs.readFileSync(shaFile, 'utf8').trim().split(/\s+/)[0] : undefined;
  return { path: base, computed, recorded, image: true, moduleDigest: createHash('sha256').update(bytes).digest('hex') };
}
