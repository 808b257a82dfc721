// `tidb-mesh tenants` output: the registry's tenants as a table or JSON, optionally grouped by
// one tenant set, and the set index. Pure: records in, text out (deterministic).
import { TenantRecord } from '../registry';
import { groupBySet, groupLabel, TenantSet, tenantSetsOf } from './sets';

/** Left-aligned columns separated by two spaces; the last column is not padded. */
export function table(rows: string[][]): string {
  if (!rows.length) return '';
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]))).join('  ').trimEnd()).join('\n') + '\n';
}

/** "customer=acme,region=us-west" or "-". */
export function setsText(sets: Record<string, string>): string {
  return Object.entries(sets).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`).join(',') || '-';
}

const HEADER = ['NAMESPACE', 'NAME', 'KEYSPACE-ID', 'KEYSPACE', 'STORAGE-LAYER', 'STATE', 'SETS'];
const row = (r: TenantRecord) => [r.namespace, r.name, String(r.keyspaceId), r.keyspaceName, r.storageLayer, r.state, setsText(r.labels)];

/**
 * The tenant table. With `groupBy`, one block per value of that set (values sorted, tenants
 * without a value last as "(none)"), each headed `<set>=<value> (<n> tenant(s))`.
 */
export function tenantsTable(rows: TenantRecord[], groupBy?: string): string {
  if (!groupBy) return table([HEADER, ...rows.map(row)]);
  return groupBySet(rows, groupBy, (r) => r.labels).map((g) =>
    `${groupBy}=${groupLabel(g.value)} (${g.items.length} tenant${g.items.length === 1 ? '' : 's'})\n`
    + table([HEADER, ...g.items.map(row)]).replace(/^(?=.)/gm, '  ')).join('');
}

/** JSON of a grouped listing: {groupBy, groups: [{value (null = no value), tenants: [...]}]}. */
export function tenantsGroupedJson(rows: TenantRecord[], groupBy: string): string {
  const groups = groupBySet(rows, groupBy, (r) => r.labels).map((g) => ({ value: g.value, tenants: g.items }));
  return JSON.stringify({ groupBy, groups }, null, 2) + '\n';
}

/** `tenants sets`: one row per set value with its tenants; tenants in no set are listed last. */
export function setsTable(rows: TenantRecord[]): string {
  const sets = tenantSetsOf(rows);
  const none = rows.filter((r) => r.state === 'active' && Object.keys(r.labels).length === 0).map((r) => `${r.namespace}/${r.name}`);
  const lines = [['SET', 'VALUE', 'TENANTS'], ...sets.flatMap((s) => s.values.map((v) => [s.name, v.value, v.tenants.join(',')]))];
  if (none.length) lines.push(['-', '-', none.join(',')]);
  return table(lines);
}

/** `tenants sets -o json`: {tenantSets: [...], unassigned: ["ns/name", ...]} (active tenants). */
export function setsJson(rows: TenantRecord[]): string {
  const tenantSets: TenantSet[] = tenantSetsOf(rows);
  const unassigned = rows.filter((r) => r.state === 'active' && Object.keys(r.labels).length === 0).map((r) => `${r.namespace}/${r.name}`);
  return JSON.stringify({ tenantSets, unassigned }, null, 2) + '\n';
}
