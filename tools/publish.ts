// `tidb-mesh publish oci://REGISTRY/REPO:TAG`: pushes the filter's OCI image (dist/oci, written
// by `npm run build` / `npm run package`) to any OCI registry with oras, a standard client
// (oras.land/oras; built by `bash kubestack/build.sh oras`, or any oras on PATH). Credentials are
// the usual docker config (~/.docker/config.json or $DOCKER_CONFIG/config.json, e.g. after
// `oras login` or `docker login`). The image is copied as is, so the registry serves the same
// manifest bytes and the digest printed here is the one to put in WasmPlugin.spec.sha256.
// IO: runs oras, reads the layout.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Io } from './commands';
import { EXIT, ToolError } from './errors';
import { Options } from './options';

/** `oci://host[:port]/repo[:tag]` (or without the scheme) -> `host[:port]/repo:tag`. Throws USAGE. */
export function pushTarget(ref: string | undefined, defaultTag: string): string {
  const m = /^(?:oci:\/\/)?([^/\s]+\/[^\s@]+?)(?::([\w][\w.-]{0,127}))?$/.exec(ref ?? '');
  if (!m) throw new ToolError('usage: tidb-mesh publish oci://REGISTRY/REPOSITORY[:TAG] [--plain-http] [--oci-layout DIR] [--oras PATH]', EXIT.USAGE, 'USAGE');
  return `${m[1]}:${m[2] ?? defaultTag}`;
}

/** The oras binary: --oras, else the one kubestack/build.sh built, else `oras` on PATH. */
function orasBinary(o: Options): string {
  if (o.oras) return o.oras;
  const built = path.join(process.env.TIDB_MESH_CACHE ?? path.join(os.homedir(), '.cache', 'tidb-mesh'), 'kubestack', 'bin', 'oras');
  if (fs.existsSync(built)) return built;
  return 'oras';
}

/** The single image of an OCI layout: its tag and manifest digest. */
function layoutImage(dir: string): { tag: string; digest: string } {
  const index = path.join(dir, 'index.json');
  if (!fs.existsSync(index)) throw new ToolError(`${dir} is not an OCI image layout (no index.json)`, EXIT.USAGE, 'NO_IMAGE', 'Run `npm run build` (or `npm run package`) first.');
  const m = JSON.parse(fs.readFileSync(index, 'utf8')).manifests?.[0];
  const tag = m?.annotations?.['org.opencontainers.image.ref.name'];
  if (!tag || !m?.digest) throw new ToolError(`${index} names no tagged image`, EXIT.USAGE, 'NO_IMAGE', 'Run `npm run package` again.');
  return { tag, digest: m.digest };
}

/** `publish`: pushes the image and prints the --url/--sha256 to generate with. */
export async function cmdPublish(o: Options, io: Io): Promise<number> {
  const layout = path.resolve(io.cwd, o.ociLayout ?? 'dist/oci');
  const img = layoutImage(layout);
  const target = pushTarget(o.args[0], img.tag);
  const oras = orasBinary(o);
  const args = ['cp', '--from-oci-layout', `${layout}:${img.tag}`, target, ...(o.plainHttp ? ['--to-plain-http'] : [])];
  io.stderr(`publish: ${oras} ${args.join(' ')}\n`);
  const r = spawnSync(oras, args, { encoding: 'utf8', env: process.env });
  if (r.error) throw new ToolError(`cannot run oras (${oras}): ${r.error.message}`, EXIT.IO, 'ORAS_MISSING', 'Build it with `bash kubestack/build.sh oras`, put oras on PATH, or pass --oras PATH.');
  if (r.status !== 0) throw new ToolError(`oras could not push ${target}: ${(r.stderr || r.stdout).trim()}`, EXIT.IO, 'PUSH_FAILED', 'Check the registry address and the credentials in your docker config (oras login REGISTRY).');
  const pushed = /Digest:\s*(sha256:[a-f0-9]{64})/.exec(`${r.stdout}\n${r.stderr}`)?.[1];
  if (pushed && pushed !== img.digest) throw new ToolError(`the registry reports ${pushed}, the image is ${img.digest}`, EXIT.IO, 'PUSH_FAILED');
  io.stdout(`pushed oci://${target} ${img.digest}\n`);
  io.stderr(`generate with: --url oci://${target} --sha256 ${img.digest.slice('sha256:'.length)}\n`);
  return EXIT.OK;
}
