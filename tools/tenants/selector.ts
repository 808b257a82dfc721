// Tenant-set selectors in Kubernetes label-selector syntax, evaluated against a tenant's set
// values (registry `labels`). Pure.
//
//   customer=acme                  the tenant's value of set customer is acme (`==` too)
//   customer!=acme                 not acme, including tenants with no customer value
//   region in (us-west,us-east)    one of the listed values
//   region notin (us-west)         none of them, including tenants with no region value
//   customer                       the tenant has a customer value
//   !customer                      the tenant has no customer value (a test tenant)
//
// Requirements are separated by commas outside parentheses and must all hold (AND), as in
// `kubectl get -l`. The empty selector selects every tenant.
import { EXIT, ToolError } from '../errors';
import { Labels } from '../types';
import { isSetName, isSetValue } from './sets';

/** One parsed requirement. */
export type Requirement =
  | { op: 'eq' | 'ne'; set: string; value: string }
  | { op: 'in' | 'notin'; set: string; values: string[] }
  | { op: 'exists' | 'absent'; set: string };

/** A parsed selector: the text it came from and its requirements (AND). */
export interface Selector { text: string; requirements: Requirement[] }

const SYNTAX = 'expected set=value, set!=value, set in (a,b), set notin (a,b), set or !set, separated by commas';

function bad(text: string, why: string): ToolError {
  return new ToolError(`selector "${text}": ${why} (${SYNTAX})`, EXIT.USAGE, 'USAGE');
}

/** Splits at commas that are not inside parentheses. Throws on unbalanced parentheses. */
function splitTop(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (depth < 0 || depth > 1) throw bad(text, 'unbalanced parentheses');
    if (ch === ',' && depth === 0) { parts.push(cur); cur = ''; continue; }
    cur += ch;
  }
  if (depth !== 0) throw bad(text, 'unbalanced parentheses');
  parts.push(cur);
  return parts.map((p) => p.trim());
}

function checkName(text: string, set: string): string {
  if (!isSetName(set)) throw bad(text, `"${set}" is not a tenant-set name`);
  return set;
}

function checkValue(text: string, value: string): string {
  if (!isSetValue(value)) throw bad(text, `"${value}" is not a tenant-set value`);
  return value;
}

/**
 * Parses a selector. Throws ToolError (USAGE, exit 2) naming the selector and the accepted
 * syntax on any malformed requirement. Undefined or blank text selects everything.
 */
export function parseSelector(text: string | undefined): Selector {
  const src = (text ?? '').trim();
  if (!src) return { text: '', requirements: [] };
  const requirements: Requirement[] = [];
  for (const part of splitTop(src)) {
    if (!part) throw bad(src, 'empty requirement');
    let m = /^!\s*([^\s!=(),]+)$/.exec(part);
    if (m) { requirements.push({ op: 'absent', set: checkName(src, m[1]) }); continue; }
    m = /^([^\s!=(),]+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(part);
    if (m) {
      const values = m[3].split(',').map((v) => v.trim());
      if (values.some((v) => !v)) throw bad(src, `empty value in "${part}"`);
      requirements.push({ op: m[2] as 'in' | 'notin', set: checkName(src, m[1]), values: values.map((v) => checkValue(src, v)) });
      continue;
    }
    m = /^([^\s!=(),]+)\s*(==|=|!=)\s*([^\s!=(),]+)$/.exec(part);
    if (m) {
      requirements.push({ op: m[2] === '!=' ? 'ne' : 'eq', set: checkName(src, m[1]), value: checkValue(src, m[3]) });
      continue;
    }
    m = /^([^\s!=(),]+)$/.exec(part);
    if (m) { requirements.push({ op: 'exists', set: checkName(src, m[1]) }); continue; }
    throw bad(src, `cannot parse "${part}"`);
  }
  return { text: src, requirements };
}

/** True if a tenant with set values `sets` satisfies every requirement of `sel`. */
export function matches(sel: Selector, sets: Labels): boolean {
  return sel.requirements.every((r) => {
    const v = Object.prototype.hasOwnProperty.call(sets, r.set) ? sets[r.set] : undefined;
    switch (r.op) {
      case 'eq': return v === r.value;
      case 'ne': return v !== r.value;
      case 'in': return v !== undefined && r.values.includes(v);
      case 'notin': return v === undefined || !r.values.includes(v);
      case 'exists': return v !== undefined;
      case 'absent': return v === undefined;
    }
  });
}
