// Which tenant a TiProxy group serves. Pure.
//
// TiProxy discovers TiDBs through PD's etcd and, with `balance.label-name = L` and its own label
// L = v, routes only to TiDBs whose server label L is v ("never route to the backends of another
// business", TiProxy factor_label.go; with L unset, or its own value empty, it routes to every
// TiDB it discovers). The tool gives a TiProxy group the outbound filter of exactly one tenant,
// so that its etcd traffic is scoped like that tenant's TiDBs' and it discovers only them. The
// tenant comes from the label association (1:1 or one TiProxy group for several TiDB groups of
// one tenant), or from the label `tidb-mesh.io/tenant` on the TiProxy group; they must agree.
// A TiProxy group whose labels reach TiDB groups of two tenants is refused.
import { Finding, Labels } from '../types';

/** Label on a TiDBGroup or TiProxyGroup naming the tenant it belongs to. */
export const TENANT_LABEL = 'tidb-mesh.io/tenant';

/** One TiDB group of the Cluster, with its tenant and effective server labels. */
export interface TidbGroupLabels {
  group: string;
  tenant: string;
  labels: Labels;
}

/** One TiProxy group, as the association needs it. */
export interface TiProxyLabels {
  source: string;
  labelName?: string;
  labels: Labels;
  /** Its `tidb-mesh.io/tenant` label, if any. */
  explicitTenant?: string;
}

const fixLabels = (tenant: string) =>
  `In the TiProxyGroup set \`[balance]\\nlabel-name = "tenant"\` in template.spec.config and template.spec.server.labels {tenant: ${tenant}}; `
  + `give each of the tenant's TiDBGroups template.spec.server.labels {tenant: ${tenant}}, and no other TiDBGroup that value.`;

/**
 * The tenant `p` serves among `tidbs` (the Cluster's TiDB groups) and `tenants` (the Cluster's
 * tenant names), or undefined with an error finding. Warnings: a label-name without an own
 * value (label routing off), tenant TiDB groups the labels leave out.
 */
export function associateTiProxy(p: TiProxyLabels, tidbs: TidbGroupLabels[], tenants: string[]): { tenant?: string; findings: Finding[] } {
  const findings: Finding[] = [];
  const err = (code: string, message: string, fix: string) => { findings.push({ code, severity: 'error', object: p.source, message, fix }); return { findings }; };
  const warn = (code: string, message: string, fix: string) => findings.push({ code, severity: 'warning', object: p.source, message, fix });
  if (p.explicitTenant !== undefined && !tenants.includes(p.explicitTenant)) {
    return err('TIPROXY_NO_TENANT', `label ${TENANT_LABEL}: ${p.explicitTenant} names no tenant of this Cluster (tenants: ${tenants.join(', ') || 'none'})`,
      `Set ${TENANT_LABEL} to one of the tenants, or remove it.`);
  }
  const value = p.labelName ? p.labels[p.labelName] : undefined;
  if (p.labelName && !value) {
    warn('TIPROXY_LABEL_MISSING', `balance.label-name is "${p.labelName}" but the TiProxyGroup has no label ${p.labelName}: TiProxy turns label routing off and routes to every TiDB it discovers`,
      `Add template.spec.server.labels {${p.labelName}: <value>} (the value the tenant's TiDBGroups carry).`);
  }
  if (!value) {
    if (p.explicitTenant) return { tenant: p.explicitTenant, findings };
    if (tenants.length === 1) return { tenant: tenants[0], findings };
    return err('TIPROXY_TENANT_AMBIGUOUS', `no balance.label-name association and no ${TENANT_LABEL} label, and the Cluster serves ${tenants.length} tenants (${tenants.join(', ')}): the TiProxy's PD traffic cannot be scoped to one tenant`,
      `${fixLabels('<tenant>')} Or label the TiProxyGroup ${TENANT_LABEL}: <tenant>.`);
  }
  const reached = tidbs.filter((t) => t.labels[p.labelName!] === value);
  const owners = [...new Set(reached.map((t) => t.tenant))].sort();
  const on = `balance.label-name ${p.labelName}=${value}`;
  if (owners.length > 1) {
    return err('TIPROXY_SPANS_TENANTS', `${on} reaches TiDB groups of ${owners.length} tenants (${reached.map((t) => `${t.group} of ${t.tenant}`).join(', ')}): SQL through this TiProxy could land on another tenant's TiDB`,
      `One TiProxyGroup per tenant: ${fixLabels('<tenant>')} Several TiDBGroups of one tenant carry the same ${TENANT_LABEL} label.`);
  }
  const tenant = owners[0] ?? p.explicitTenant;
  if (!tenant) {
    return err('TIPROXY_NO_TENANT', `${on} matches no TiDBGroup of this Cluster, so it serves no tenant and its PD traffic cannot be scoped`,
      `${fixLabels('<tenant>')} Or label the TiProxyGroup ${TENANT_LABEL}: <tenant>.`);
  }
  if (p.explicitTenant && p.explicitTenant !== tenant) {
    return err('TIPROXY_TENANT_MISMATCH', `label ${TENANT_LABEL}: ${p.explicitTenant}, but ${on} reaches tenant ${tenant}'s TiDB groups`,
      `Make them agree: ${TENANT_LABEL}: ${tenant}, or change the labels.`);
  }
  if (!reached.length) {
    warn('TIPROXY_NO_TIDB', `${on} matches none of tenant ${tenant}'s TiDBGroups: this TiProxy will route nowhere`, fixLabels(tenant));
  }
  const left = tidbs.filter((t) => t.tenant === tenant && t.labels[p.labelName!] !== value).map((t) => t.group);
  if (reached.length && left.length) {
    warn('TIPROXY_PARTIAL', `tenant ${tenant}'s TiDBGroups ${left.join(', ')} lack ${p.labelName}=${value}: this TiProxy discovers them but never routes to them`,
      `Add template.spec.server.labels {${p.labelName}: ${value}} to them if they should take this TiProxy's traffic.`);
  }
  return { tenant, findings };
}
