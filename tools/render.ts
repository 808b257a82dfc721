// Deterministic output: keys sorted at every level, documents in a stable order.
import { stringify } from 'yaml';

/** Deep copy of `v` with object keys sorted (arrays keep their order). */
export function sortKeys<T>(v: T): T {
  if (Array.isArray(v)) return v.map(sortKeys) as unknown as T;
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, sortKeys((v as any)[k])])) as T;
  }
  return v;
}

/** JSON with sorted keys (used for the EnvoyFilter StringValue). */
export function stableJson(v: unknown): string {
  return JSON.stringify(sortKeys(v));
}

const KIND_ORDER = ['ConfigMap', 'Service', 'PeerAuthentication', 'WasmPlugin', 'EnvoyFilter'];

/** Stable document order: by kind (see KIND_ORDER), then namespace, then name. */
export function sortObjects<T extends { kind: string; metadata?: { name?: string; namespace?: string } }>(objs: T[]): T[] {
  const rank = (k: string) => (KIND_ORDER.includes(k) ? KIND_ORDER.indexOf(k) : KIND_ORDER.length);
  return [...objs].sort((a, b) => rank(a.kind) - rank(b.kind) || a.kind.localeCompare(b.kind)
    || (a.metadata?.namespace ?? '').localeCompare(b.metadata?.namespace ?? '')
    || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
}

/** Multi-document YAML ("---" separated, sorted keys, no line folding), ending in a newline. */
export function renderYaml(objs: unknown[], header?: string): string {
  const docs = objs.map((o) => stringify(sortKeys(o), { lineWidth: 0 }).trimEnd() + '\n');
  return (header ? header.split('\n').map((l) => `# ${l}`.trimEnd()).join('\n') + '\n' : '') + docs.map((d) => `---\n${d}`).join('');
}
