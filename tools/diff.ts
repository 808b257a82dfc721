// Pure comparison of generated objects with live ones. Only fields the tool sets are compared:
// the live object is projected onto the desired object's shape, so server-populated fields
// (status, uid, managedFields, defaults) never show up as drift.
import { stringify } from 'yaml';
import { sortKeys } from './render';
import { KubeObject } from './types';

/** Live object restricted to the keys present in `desired` (recursively; arrays element-wise). */
export function project(desired: unknown, live: unknown): unknown {
  if (Array.isArray(desired)) {
    if (!Array.isArray(live)) return live;
    // Service ports are a list map keyed by port and protocol: a patch names only some of them.
    if (desired.length && desired.every(isPortEntry)) {
      return desired.map((d) => { const l = live.find((x) => isPortEntry(x) && portKey(x) === portKey(d)); return l === undefined ? null : project(d, l); });
    }
    return live.map((l, i) => (i < desired.length ? project(desired[i], l) : l));
  }
  if (desired && typeof desired === 'object') {
    if (!live || typeof live !== 'object' || Array.isArray(live)) return live;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(desired)) if (k in (live as object)) out[k] = project((desired as any)[k], (live as any)[k]);
    return out;
  }
  return live;
}

function isPortEntry(v: unknown): v is { port: number; protocol?: string } {
  return !!v && typeof v === 'object' && typeof (v as any).port === 'number';
}
const portKey = (p: { port: number; protocol?: string }) => `${p.port}/${p.protocol ?? 'TCP'}`;

/** Line diff (LCS) of two texts, as "  same" / "- old" / "+ new" lines. */
export function lineDiff(a: string, b: string): string[] {
  const x = a.split('\n'), y = b.split('\n');
  const n = x.length, m = y.length;
  const dp: number[][] = Array.from({ length: n + 1 }, () => new Array(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) dp[i][j] = x[i] === y[j] ? dp[i + 1][j + 1] + 1 : Math.max(dp[i + 1][j], dp[i][j + 1]);
  const out: string[] = [];
  let i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) { out.push(`  ${x[i]}`); i++; j++; }
    else if (j < m && (i >= n || dp[i][j + 1] >= dp[i + 1][j])) { out.push(`+ ${y[j]}`); j++; }
    else { out.push(`- ${x[i]}`); i++; }
  }
  return out;
}

/** Result for one object. */
export interface ObjectDiff {
  id: string;
  status: 'create' | 'change' | 'same';
  /** Diff lines (only for create/change). */
  lines: string[];
}

const yamlOf = (v: unknown) => stringify(sortKeys(v), { lineWidth: 0 }).trimEnd();

function strip(o: KubeObject): unknown {
  const { status: _s, ...rest } = o as any;
  const { resourceVersion: _r, ...meta } = rest.metadata ?? {};
  return { ...rest, metadata: meta };
}

/** Compares a desired object with its live counterpart (undefined = does not exist). */
export function diffObject(desired: KubeObject, live: KubeObject | undefined): ObjectDiff {
  const id = `${desired.kind} ${desired.metadata.namespace}/${desired.metadata.name}`;
  const want = yamlOf(strip(desired));
  if (!live) return { id, status: 'create', lines: want.split('\n').map((l) => `+ ${l}`) };
  const have = yamlOf(project(strip(desired), live));
  if (have === want) return { id, status: 'same', lines: [] };
  return { id, status: 'change', lines: lineDiff(have, want).filter((l, i, all) => !l.startsWith('  ') || near(all, i)) };
}

function near(all: string[], i: number): boolean {
  for (let d = -2; d <= 2; d++) { const l = all[i + d]; if (l && !l.startsWith('  ')) return true; }
  return false;
}
