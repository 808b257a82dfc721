// Who is calling, and which tenant that makes them. Pure: the caller gathers the identity
// from node metadata (outbound) or the peer certificate (inbound) and passes it in.
import { Config, Match, Tenant } from "../config/config";

export class Identity {
  namespace: string | null = null;
  serviceAccount: string | null = null;
  labelKeys: Array<string> = new Array<string>();
  labelValues: Array<string> = new Array<string>();
  principal: string | null = null;

  label(key: string): string | null {
    for (let i = 0; i < this.labelKeys.length; i++) if (this.labelKeys[i] == key) return this.labelValues[i];
    return null;
  }

  /** For logs: never keys or values, only who. */
  describe(): string {
    if (this.principal !== null) return "principal " + (this.principal as string);
    let ns = "<none>";
    if (this.namespace !== null) ns = this.namespace as string;
    let s = "namespace " + ns;
    for (let i = 0; i < this.labelKeys.length; i++) s += ", " + this.labelKeys[i] + "=" + this.labelValues[i];
    return s;
  }
}

export const SELECT_TENANT: i32 = 0;
export const SELECT_PASSTHROUGH: i32 = 1;
export const SELECT_NONE: i32 = 2;
export const SELECT_AMBIGUOUS: i32 = 3;

export class Selection {
  kind: i32 = SELECT_NONE;
  tenant: Tenant | null = null;
  name: string = "";
}

function matches(m: Match, id: Identity): bool {
  if (m.namespace !== null && (id.namespace === null || (id.namespace as string) != (m.namespace as string))) return false;
  if (m.serviceAccount !== null && (id.serviceAccount === null || (id.serviceAccount as string) != (m.serviceAccount as string))) return false;
  for (let i = 0; i < m.labelKeys.length; i++) {
    const v = id.label(m.labelKeys[i]);
    if (v === null || (v as string) != m.labelValues[i]) return false;
  }
  if (m.principals.length > 0) {
    if (id.principal === null || !m.principals.includes(id.principal as string)) return false;
  }
  return true;
}

/**
 * The tenant (or passthrough entry) whose match holds for `id`. Exactly one must match:
 * none gives SELECT_NONE and two or more SELECT_AMBIGUOUS; both mean every call is denied.
 */
export function selectTenant(c: Config, id: Identity): Selection {
  const s = new Selection();
  let count = 0;
  for (let i = 0; i < c.tenants.length; i++) {
    const t = c.tenants[i];
    if (matches(t.match, id)) { count++; s.kind = SELECT_TENANT; s.tenant = t; s.name = t.name; }
  }
  for (let i = 0; i < c.passthrough.length; i++) {
    const p = c.passthrough[i];
    if (matches(p.match, id)) { count++; s.kind = SELECT_PASSTHROUGH; s.tenant = null; s.name = p.name; }
  }
  if (count == 0) { s.kind = SELECT_NONE; s.tenant = null; s.name = ""; }
  if (count > 1) { s.kind = SELECT_AMBIGUOUS; s.tenant = null; s.name = ""; }
  return s;
}

/** Every label key any tenant matches on (the only labels the filter reads). */
export function labelKeysOf(c: Config): Array<string> {
  const keys = new Array<string>();
  for (let i = 0; i < c.tenants.length; i++) {
    const m = c.tenants[i].match;
    for (let j = 0; j < m.labelKeys.length; j++) if (!keys.includes(m.labelKeys[j])) keys.push(m.labelKeys[j]);
  }
  return keys;
}
