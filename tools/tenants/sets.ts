// Tenant sets: named groups of tenant values (set `customer` = {acme, globex}, set `region` =
// {us-west, us-east, asia-pacific}). A tenant has at most one value of each set, or none (a test
// tenant). The input is a label on the TidbCluster (or operator v2 TiDBGroup):
// `tenant.tidb-mesh.io/<set>: <value>`; the registry records each tenant's values (`labels`)
// and the resulting index (`tenantSets`). Pure.
import { isLabelValue } from '../naming';
import { Labels } from '../types';

/** Label prefix that puts a TidbCluster / TiDBGroup into a tenant set. */
export const TENANT_SET_LABEL_PREFIX = 'tenant.tidb-mesh.io/';

/** One value of a set and the tenants ("namespace/name", sorted) that have it. */
export interface TenantSetValue { value: string; tenants: string[] }

/** A tenant set as recorded in the registry: values sorted, each with its tenants. */
export interface TenantSet { name: string; values: TenantSetValue[] }

/** The minimal tenant shape the set functions need. */
export interface SetMember { namespace: string; name: string; labels: Labels; state?: string }

/** A set name is the name part of a label key: 1..63 of [A-Za-z0-9._-], alphanumeric at both ends. */
export function isSetName(s: string): boolean {
  return s.length > 0 && isLabelValue(s);
}

/** A set value is a non-empty Kubernetes label value (1..63 of [A-Za-z0-9._-], alphanumeric at both ends). */
export function isSetValue(s: string): boolean {
  return s.length > 0 && isLabelValue(s);
}

/** Problems with one tenant's set values (empty list = valid). */
export function setValueProblems(sets: Labels): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(sets).sort(([a], [b]) => a.localeCompare(b))) {
    if (!isSetName(k)) out.push(`"${k}" is not a valid tenant-set name (1-63 characters [A-Za-z0-9._-], alphanumeric at both ends)`);
    else if (v === '') out.push(`set ${k} has an empty value (remove the label ${TENANT_SET_LABEL_PREFIX}${k} for "no value")`);
    else if (!isSetValue(v)) out.push(`set ${k} value "${v}" is not a valid label value`);
  }
  return out;
}

/**
 * Merges the set values found in several label maps of one tenant (operator v2: the TiDBGroup's
 * own labels and its pod template's). Returns the values and, for every set given two different
 * values, a conflict message (the tenant then belongs to neither value: callers refuse it).
 */
export function mergeSetLabels(sources: Array<{ where: string; labels: Labels | undefined }>): { sets: Labels; conflicts: string[] } {
  const sets: Labels = {};
  const from: Record<string, string> = {};
  const conflicts: string[] = [];
  for (const s of sources) {
    for (const [k, v] of Object.entries(s.labels ?? {})) {
      if (!k.startsWith(TENANT_SET_LABEL_PREFIX)) continue;
      const set = k.slice(TENANT_SET_LABEL_PREFIX.length);
      if (set in sets && sets[set] !== v) {
        conflicts.push(`set ${set} is "${sets[set]}" in ${from[set]} but "${v}" in ${s.where}; a tenant belongs to at most one value of each set`);
        continue;
      }
      sets[set] = v;
      from[set] = s.where;
    }
  }
  return { sets, conflicts };
}

const key = (t: { namespace: string; name: string }) => `${t.namespace}/${t.name}`;

/** The index of every set over the active tenants: sets by name, values sorted, tenants sorted. */
export function tenantSetsOf(tenants: SetMember[]): TenantSet[] {
  const bySet = new Map<string, Map<string, string[]>>();
  for (const t of tenants) {
    if (t.state && t.state !== 'active') continue;
    for (const [set, value] of Object.entries(t.labels)) {
      const values = bySet.get(set) ?? new Map<string, string[]>();
      values.set(value, [...(values.get(value) ?? []), key(t)]);
      bySet.set(set, values);
    }
  }
  return [...bySet.keys()].sort().map((name) => ({
    name,
    values: [...bySet.get(name)!.keys()].sort().map((value) => ({ value, tenants: [...bySet.get(name)!.get(value)!].sort() })),
  }));
}

/**
 * Checks a recorded set index against the tenants' own values. Returns the first problem, or
 * undefined when consistent: a tenant listed under two values of one set, an unknown tenant,
 * or a difference between the index and the tenants' values.
 */
export function checkTenantSets(recorded: unknown, tenants: SetMember[]): string | undefined {
  if (!Array.isArray(recorded)) return 'tenantSets must be a list';
  const known = new Set(tenants.map(key));
  for (const s of recorded as TenantSet[]) {
    if (!s || typeof s.name !== 'string' || !Array.isArray(s.values)) return `malformed tenant set ${JSON.stringify(s)}`;
    const seen = new Map<string, string>();
    for (const v of s.values) {
      if (!v || typeof v.value !== 'string' || !Array.isArray(v.tenants)) return `malformed value of set ${s.name}: ${JSON.stringify(v)}`;
      for (const t of v.tenants) {
        if (seen.has(t)) return `tenant ${t} is listed under "${seen.get(t)}" and "${v.value}" of set ${s.name}; a tenant belongs to at most one value of each set`;
        if (!known.has(t)) return `set ${s.name} value ${v.value} lists unknown tenant ${t}`;
        seen.set(t, v.value);
      }
    }
  }
  const want = JSON.stringify(tenantSetsOf(tenants));
  const got = JSON.stringify((recorded as TenantSet[]).map((s) => ({ name: s.name, values: s.values.map((v) => ({ value: v.value, tenants: v.tenants })) })));
  if (want !== got) return 'tenantSets does not match the tenants\' own set values (labels)';
  return undefined;
}

/** One group of a group-by: `value` null collects the tenants without a value of that set. */
export interface Group<T> { value: string | null; items: T[] }

/**
 * Groups `items` by their value of set `set` (values sorted, "no value" last). Items keep their
 * order inside a group. Groups with no items are omitted.
 */
export function groupBySet<T>(items: T[], set: string, setsOf: (t: T) => Labels): Array<Group<T>> {
  const groups = new Map<string | null, T[]>();
  for (const t of items) {
    const sets = setsOf(t);
    const v = Object.prototype.hasOwnProperty.call(sets, set) ? sets[set] : null;
    groups.set(v, [...(groups.get(v) ?? []), t]);
  }
  const values = [...groups.keys()].filter((v): v is string => v !== null).sort();
  const out: Array<Group<T>> = values.map((value) => ({ value, items: groups.get(value)! }));
  if (groups.has(null)) out.push({ value: null, items: groups.get(null)! });
  return out;
}

/** Display form of a group value ("(none)" for tenants without a value). */
export function groupLabel(value: string | null): string {
  return value ?? '(none)';
}
