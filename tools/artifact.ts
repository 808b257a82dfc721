// Checks on the filter artifact reference (url + sha256). Pure: the caller reads files.
import { Artifact } from './istio/common';
import { Finding } from './types';

/** What the caller found on disk about the built module (all optional). */
export interface LocalArtifact {
  /** Path of the .wasm file that was hashed (for oci://: `dist/tidb-mesh.oci`, the image built from it). */
  path: string;
  /**
   * The digest Istio will compare: for file:// and http(s):// the sha256 of the module's bytes;
   * for oci:// the manifest digest of the image scripts/oci-image.js builds from the module
   * (reproducible, so it is the digest of the image `npm run package` wrote and `tidb-mesh
   * publish` pushed).
   */
  computed: string;
  /** Digest recorded in the companion `.sha256` file ("<hex>  tidb-mesh.wasm"), if present. */
  recorded?: string;
  /** The local artifact is an OCI image digest; `moduleDigest` is the .wasm file's own sha256. */
  image?: boolean;
  moduleDigest?: string;
}

const HEX64 = /^[a-f0-9]{64}$/;
const FIX_BUILD = 'Run `npm run build` and pass --sha256 "$(cut -d" " -f1 dist/tidb-mesh.wasm.sha256)" (or --wasm dist/tidb-mesh.wasm).';
const FIX_IMAGE = 'Run `npm run build` (it packages dist/oci); --sha256 must be the image manifest digest it prints ("$(cut -d" " -f1 dist/tidb-mesh.oci.sha256)"), not the .wasm file\'s; or --wasm the module you published.';

/**
 * Decides the artifact to reference and reports SHA256_MISSING, SHA256_MALFORMED, SHA256_MISMATCH
 * and URL_SCHEME findings. For file:// and http(s):// URLs the sha256 is the module digest and
 * defaults to, and must equal, the local build's. For oci:// it is the image manifest digest
 * (what istio-agent compares for images): it defaults to the digest of the image built from the
 * local module; an explicit --sha256 may name another published build, but never the .wasm
 * file's own digest (Istio would refuse it). A `@sha256:` in the URL must agree.
 */
export function resolveArtifact(url: string, sha256Flag: string | undefined, local: LocalArtifact | undefined): { artifact?: Artifact; findings: Finding[] } {
  const findings: Finding[] = [];
  const object = `artifact ${url}`;
  const err = (code: string, message: string, fix: string) => findings.push({ code, severity: 'error', object, message, fix });
  const scheme = /^([a-z]+):\/\//.exec(url)?.[1];
  if (!scheme || !['oci', 'https', 'http', 'file'].includes(scheme)) {
    err('URL_SCHEME', `url must start with oci://, https://, http:// or file:// (got "${url}")`, 'Pass --url with an explicit scheme.');
  }
  const isOci = scheme === 'oci';
  const fix = isOci ? FIX_IMAGE : FIX_BUILD;
  if (!sha256Flag && local?.recorded && local.recorded !== local.computed) {
    err('SHA256_MISMATCH', `${local.path}.sha256 says ${local.recorded} but the ${local.image ? 'image built from the module has' : 'file hashes to'} ${local.computed} (stale build output)`, fix);
  }
  let sha = sha256Flag?.trim().toLowerCase();
  if (!sha && local) sha = local.computed;
  if (!sha) {
    err('SHA256_MISSING', 'no sha256 for the filter artifact: Istio would load any module served at that URL', fix);
    return { findings };
  }
  if (!HEX64.test(sha)) {
    err('SHA256_MALFORMED', `sha256 must be 64 lowercase hex digits (got "${sha}")`, fix);
    return { findings };
  }
  if (isOci && local?.moduleDigest === sha) {
    err('SHA256_MISMATCH', `--sha256 ${sha} is the digest of the .wasm file; for oci:// Istio compares the image manifest digest (${local.computed} for this build)`, fix);
  } else if (!isOci && local && local.computed !== sha) {
    err('SHA256_MISMATCH', `--sha256 ${sha} does not match ${local.path} (${local.computed})`, fix);
  }
  const inUrl = /@sha256:([a-f0-9]{64})/.exec(url)?.[1];
  if (inUrl && inUrl !== sha) {
    err('SHA256_MISMATCH', `url pins @sha256:${inUrl} but sha256 is ${sha}`, 'Use the same digest in --url and --sha256.');
  }
  return { artifact: findings.some((f) => f.severity === 'error') ? undefined : { url, sha256: sha }, findings };
}
