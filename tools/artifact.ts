// Checks on the filter artifact reference (url + sha256). Pure: the caller reads files.
import { Artifact } from './istio/common';
import { Finding } from './types';

/** What the caller found on disk about the built module (all optional). */
export interface LocalArtifact {
  /** Path of the .wasm file that was hashed. */
  path: string;
  /** sha256 computed from the file's bytes. */
  computed: string;
  /** Digest recorded in the companion `.sha256` file ("<hex>  tidb-mesh.wasm"), if present. */
  recorded?: string;
}

const HEX64 = /^[a-f0-9]{64}$/;
const FIX_BUILD = 'Run `npm run build` and pass --sha256 "$(cut -d" " -f1 dist/tidb-mesh.wasm.sha256)" (or --wasm dist/tidb-mesh.wasm).';

/**
 * Decides the artifact to reference and reports SHA256_MISSING, SHA256_MALFORMED, SHA256_MISMATCH
 * and URL_SCHEME findings. For file:// and http(s):// URLs the sha256 is the module digest and is
 * compared with the local build; for oci:// it is the image digest (Istio checks it against the
 * pulled image) and only compared with a `@sha256:` digest in the URL.
 */
export function resolveArtifact(url: string, sha256Flag: string | undefined, local: LocalArtifact | undefined): { artifact?: Artifact; findings: Finding[] } {
  const findings: Finding[] = [];
  const object = `artifact ${url}`;
  const err = (code: string, message: string, fix: string) => findings.push({ code, severity: 'error', object, message, fix });
  const scheme = /^([a-z]+):\/\//.exec(url)?.[1];
  if (!scheme || !['oci', 'https', 'http', 'file'].includes(scheme)) {
    err('URL_SCHEME', `url must start with oci://, https://, http:// or file:// (got "${url}")`, 'Pass --url with an explicit scheme.');
  }
  if (local?.recorded && local.recorded !== local.computed) {
    err('SHA256_MISMATCH', `${local.path}.sha256 says ${local.recorded} but the file hashes to ${local.computed} (stale build output)`, FIX_BUILD);
  }
  const isOci = scheme === 'oci';
  let sha = sha256Flag?.trim().toLowerCase();
  if (!sha && !isOci && local) sha = local.computed;
  if (!sha) {
    err('SHA256_MISSING', 'no sha256 for the filter artifact: Istio would load any module served at that URL', isOci
      ? 'Pass --sha256 with the image digest (the hex part of @sha256:...).' : FIX_BUILD);
    return { findings };
  }
  if (!HEX64.test(sha)) {
    err('SHA256_MALFORMED', `sha256 must be 64 lowercase hex digits (got "${sha}")`, FIX_BUILD);
    return { findings };
  }
  if (!isOci && local && local.computed !== sha) {
    err('SHA256_MISMATCH', `--sha256 ${sha} does not match ${local.path} (${local.computed})`, FIX_BUILD);
  }
  const inUrl = /@sha256:([a-f0-9]{64})/.exec(url)?.[1];
  if (inUrl && inUrl !== sha) {
    err('SHA256_MISMATCH', `url pins @sha256:${inUrl} but sha256 is ${sha}`, 'Use the same digest in --url and --sha256.');
  }
  return { artifact: findings.some((f) => f.severity === 'error') ? undefined : { url, sha256: sha }, findings };
}
