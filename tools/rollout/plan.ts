// Stage planning: registry tenants + selector + canaries + batch set -> ordered stages. Pure.
//
//   stage 1 "canary"        the named canary tenants, in the order given (targets even when
//                           the selector does not pick them: naming them is picking them)
//   then, without --batch-by, one stage "all" (or "rest" after canaries) with the other selected
//   tenants; with --batch-by SET[=v1,v2,...], one stage "SET=value" per value, listed values
//   first in the given order, then the others sorted, then "SET=(none)" for tenants without one.
// Tenants inside a stage are ordered by namespace/name. Only active tenants are targets.
import { EXIT, ToolError } from '../errors';
import { TenantRecord } from '../registry';
import { matches, parseSelector } from '../tenants/selector';
import { isSetName, isSetValue } from '../tenants/sets';
import { Labels } from '../types';

/** A target tenant: "namespace/name" and its set values at planning time. */
export interface PlannedTenant { id: string; namespace: string; name: string; sets: Labels }

/** One stage: its name and its tenants' ids, in run order. */
export interface Stage { name: string; tenants: string[] }

/** What the planner needs. */
export interface PlanInput {
  tenants: TenantRecord[];
  selector?: string;
  /** NS/NAME or NAME (unique among active tenants). */
  canary: string[];
  /** "SET" or "SET=v1,v2,...". */
  batchBy?: string;
}

/** The planned stages and the targets (by id). */
export interface Plan { stages: Stage[]; tenants: PlannedTenant[] }

const id = (r: { namespace: string; name: string }) => `${r.namespace}/${r.name}`;
const usage = (m: string) => new ToolError(m, EXIT.USAGE, 'USAGE');

/**
 * Finds a tenant by "ns/name" or unique "name" among `records`. Throws ToolError (USAGE) if
 * unknown, ambiguous or retired.
 */
export function resolveTenantRef<T extends { namespace: string; name: string; state: string }>(ref: string, records: T[], what: string): T {
  const hits = ref.includes('/') ? records.filter((r) => id(r) === ref) : records.filter((r) => r.name === ref);
  if (!hits.length) throw usage(`${what} ${ref}: no such tenant in the registry (tidb-mesh tenants list)`);
  const active = hits.filter((r) => r.state === 'active');
  if (!active.length) throw usage(`${what} ${ref}: tenant ${id(hits[0])} is retired`);
  if (active.length > 1) throw usage(`${what} ${ref}: ambiguous (${active.map(id).join(', ')}); use NAMESPACE/NAME`);
  return active[0];
}

/** Parses --batch-by "SET" or "SET=v1,v2". Throws ToolError (USAGE). */
export function parseBatchBy(text: string): { set: string; order: string[] } {
  const [set, list] = text.split('=', 2);
  if (!isSetName(set)) throw usage(`--batch-by ${text}: "${set}" is not a tenant-set name`);
  const order = list === undefined ? [] : list.split(',').map((v) => v.trim());
  for (const v of order) if (!isSetValue(v)) throw usage(`--batch-by ${text}: "${v}" is not a set value`);
  if (new Set(order).size !== order.length) throw usage(`--batch-by ${text}: a value is listed twice`);
  return { set, order };
}

/**
 * Plans the stages (see the top of this file). Throws ToolError (USAGE) for a malformed selector
 * or --batch-by, an unknown/retired/ambiguous canary, a canary named twice, a --batch-by value no
 * target has, or no target at all.
 */
export function planStages(input: PlanInput): Plan {
  const sel = parseSelector(input.selector);
  const active = input.tenants.filter((r) => r.state === 'active');
  const canaries: TenantRecord[] = [];
  for (const ref of input.canary.flatMap((c) => c.split(',')).map((c) => c.trim()).filter(Boolean)) {
    const r = resolveTenantRef(ref, input.tenants, '--canary');
    if (canaries.includes(r)) throw usage(`--canary ${ref}: named twice`);
    canaries.push(r);
  }
  const rest = active.filter((r) => matches(sel, r.labels) && !canaries.includes(r)).sort((a, b) => id(a).localeCompare(id(b)));
  if (!canaries.length && !rest.length) throw usage(`no tenant to migrate: the selector "${sel.text}" picks no active tenant`);
  const stages: Stage[] = [];
  if (canaries.length) stages.push({ name: 'canary', tenants: canaries.map(id) });
  if (input.batchBy) {
    const { set, order } = parseBatchBy(input.batchBy);
    const has = (r: TenantRecord) => Object.prototype.hasOwnProperty.call(r.labels, set);
    const present = [...new Set(rest.filter(has).map((r) => r.labels[set]))];
    for (const v of order) if (!present.includes(v)) throw usage(`--batch-by ${input.batchBy}: no selected tenant (besides canaries) has ${set}=${v}`);
    const values = [...order, ...present.filter((v) => !order.includes(v)).sort()];
    for (const v of values) stages.push({ name: `${set}=${v}`, tenants: rest.filter((r) => has(r) && r.labels[set] === v).map(id) });
    const none = rest.filter((r) => !has(r));
    if (none.length) stages.push({ name: `${set}=(none)`, tenants: none.map(id) });
  } else if (rest.length) {
    stages.push({ name: canaries.length ? 'rest' : 'all', tenants: rest.map(id) });
  }
  const tenants = [...canaries, ...rest].map((r) => ({ id: id(r), namespace: r.namespace, name: r.name, sets: { ...r.labels } }));
  return { stages, tenants };
}
