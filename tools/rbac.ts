// `tidb-mesh rbac`: the least-privilege RBAC the tool needs, as objects to apply once by an
// admin. Pure. Every rule is there because a command makes that call:
//   TidbClusters / core.pingcap.com groups   get, list     generate/apply/diff --from-cluster, tenants retire
//   ConfigMaps                              get, list, create, update
//                                            registry (tidb-mesh-tenants: read by name, created once, then
//                                            replaced with its resourceVersion) and rollout state; list for
//                                            `tenants` across namespaces and `rollout status`
//   Services                                 get, patch    the pd-peer appProtocol patch (server-side apply of an
//                                            existing Service; with inputs, only the named <tc>-pd-peer Services)
//   WasmPlugins, EnvoyFilters, PeerAuthentications
//                                            get, list, create, patch, delete
//                                            apply (a server-side apply that creates needs create besides
//                                            patch), diff (list of live objects), tenants retire (delete)
//   Namespaces (cluster-scoped)              get           apply/diff refuse a namespace that does not exist
// With namespaces (-n, repeatable): a Role + RoleBinding in each, and a ClusterRole limited to
// `get` of exactly those Namespaces. Without: one ClusterRole + ClusterRoleBinding (reads across
// all namespaces need cluster-wide list).
import { EXIT, ToolError } from './errors';
import { managedLabels } from './istio/common';
import { KubeObject } from './types';

/** Who gets the role: `user:NAME`, `group:NAME` or `serviceaccount:NS/NAME`. */
export interface RbacSubject { kind: 'User' | 'Group' | 'ServiceAccount'; name: string; namespace?: string }

export interface RbacOptions {
  /** Name of every generated object. */
  name: string;
  /** Namespaces to grant (Role per namespace); empty = all namespaces (ClusterRole). */
  namespaces: string[];
  subject: RbacSubject;
  /** pd-peer Service names to restrict `patch` to (from the inputs); empty = any Service. */
  services: string[];
}

/** Parses `--subject`. Throws ToolError (USAGE). */
export function parseSubject(s: string | undefined): RbacSubject {
  const m = /^(user|group|serviceaccount):(.+)$/.exec(s ?? '');
  if (!m) throw new ToolError('rbac needs --subject user:NAME, group:NAME or serviceaccount:NAMESPACE/NAME', EXIT.USAGE, 'USAGE');
  if (m[1] === 'serviceaccount') {
    const [namespace, name] = m[2].split('/');
    if (!namespace || !name) throw new ToolError('--subject serviceaccount:NAMESPACE/NAME', EXIT.USAGE, 'USAGE');
    return { kind: 'ServiceAccount', name, namespace };
  }
  return { kind: m[1] === 'user' ? 'User' : 'Group', name: m[2] };
}

type Rule = { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] };

/** The namespaced rules (used in a Role, or in the ClusterRole for all namespaces). */
export function rules(services: string[]): Rule[] {
  return [
    { apiGroups: ['pingcap.com'], resources: ['tidbclusters'], verbs: ['get', 'list'] },
    { apiGroups: ['core.pingcap.com'], resources: ['clusters', 'pdgroups', 'tidbgroups', 'tikvgroups', 'tiproxygroups'], verbs: ['get', 'list'] },
    { apiGroups: [''], resources: ['configmaps'], verbs: ['create', 'get', 'list', 'update'] },
    { apiGroups: [''], resources: ['services'], verbs: ['get', 'patch'], ...(services.length ? { resourceNames: [...services].sort() } : {}) },
    { apiGroups: ['extensions.istio.io'], resources: ['wasmplugins'], verbs: ['create', 'delete', 'get', 'list', 'patch'] },
    { apiGroups: ['networking.istio.io'], resources: ['envoyfilters'], verbs: ['create', 'delete', 'get', 'list', 'patch'] },
    { apiGroups: ['security.istio.io'], resources: ['peerauthentications'], verbs: ['create', 'delete', 'get', 'list', 'patch'] },
  ];
}

function subjectOf(s: RbacSubject): Record<string, string> {
  return s.kind === 'ServiceAccount' ? { kind: s.kind, name: s.name, namespace: s.namespace! } : { kind: s.kind, name: s.name, apiGroup: 'rbac.authorization.k8s.io' };
}

/** The RBAC objects for `o` (sorted: ClusterRole, ClusterRoleBinding, then per namespace Role, RoleBinding). */
export function rbacObjects(o: RbacOptions): KubeObject[] {
  const labels = managedLabels({});
  const api = 'rbac.authorization.k8s.io/v1';
  const ref = (kind: string) => ({ apiGroup: 'rbac.authorization.k8s.io', kind, name: o.name });
  const subjects = [subjectOf(o.subject)];
  if (!o.namespaces.length) {
    return [
      { apiVersion: api, kind: 'ClusterRole', metadata: { name: o.name, labels }, rules: [...rules(o.services), { apiGroups: [''], resources: ['namespaces'], verbs: ['get'] }] },
      { apiVersion: api, kind: 'ClusterRoleBinding', metadata: { name: o.name, labels }, roleRef: ref('ClusterRole'), subjects },
    ];
  }
  const nss = [...new Set(o.namespaces)].sort();
  const out: KubeObject[] = [
    { apiVersion: api, kind: 'ClusterRole', metadata: { name: o.name, labels }, rules: [{ apiGroups: [''], resources: ['namespaces'], verbs: ['get'], resourceNames: nss }] },
    { apiVersion: api, kind: 'ClusterRoleBinding', metadata: { name: o.name, labels }, roleRef: ref('ClusterRole'), subjects },
  ];
  for (const ns of nss) {
    out.push({ apiVersion: api, kind: 'Role', metadata: { name: o.name, namespace: ns, labels }, rules: rules(o.services) });
    out.push({ apiVersion: api, kind: 'RoleBinding', metadata: { name: o.name, namespace: ns, labels }, roleRef: ref('Role'), subjects });
  }
  return out;
}
