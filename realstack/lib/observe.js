// What a user checks after each step, from outside TiDB: the store's raw view (which keyspace
// prefixes are physically stored), the store's strict keyspace check, and every call the mesh
// refused (Envoy's stats and the filter's "denied" log lines).
'use strict';

const fs = require('fs');

/** 'x' + 3-byte big-endian keyspace id, as hex: the API-v2 txn prefix of keyspace `id`. */
function txnPrefixHex(id) {
  return '78' + id.toString(16).padStart(6, '0');
}

/**
 * The prefixes a tenant owns in the store: 'x' + id (API-v2 txn keys), and 'y' + id, because
 * unistore keeps rollback and Op_Lock records under the key with its first byte plus one
 * (unistore tikv/mvcc/mvcc.go EncodeExtraTxnStatusKey).
 */
function tenantPrefixes(id) {
  const p = txnPrefixHex(id);
  return [p, '79' + p.slice(2)];
}

/**
 * The raw view grouped: {byTenant: {name: n}, foreign: {prefixHex: n}, total}. Anything stored
 * under a prefix that is not a tenant's txn prefix is "foreign" (an isolation failure).
 */
async function rawByTenant(stack) {
  const raw = await stack.raw();
  const byTenant = {};
  const foreign = {};
  for (const t of stack.tenants) byTenant[t.name] = 0;
  for (const [p, n] of Object.entries(raw.prefixes)) {
    const t = stack.tenants.find((x) => tenantPrefixes(x.keyspaceId).includes(p));
    if (t) byTenant[t.name] += n; else foreign[p] = n;
  }
  return { byTenant, foreign, total: raw.total };
}

/**
 * Every refusal logged by the filter so far, counted by (who, path, reason), from the Envoy logs
 * of the run (tenant sidecars and the gateway). Format of a line (assembly/filter/stream.ts):
 *   tidb-mesh: denied <path> for <who>: <message> [<reason>]
 */
function refusals(stack, only = null) {
  // `only`: these Envoy logs instead of every sidecar's (TiProxy sidecars included) and the gateway's.
  const files = only || [...stack.tenants.map((t) => `${stack.dir}/${t.name}-sidecar.log`),
    ...stack.tenants.filter((t) => t.tiproxy).map((t) => t.tiproxy.sidecarLog), `${stack.dir}/gateway.log`];
  const counts = new Map();
  for (const f of files) {
    let text = '';
    try { text = fs.readFileSync(f, 'utf8'); } catch { continue; }
    for (const line of text.split('\n')) {
      const m = line.match(/tidb-mesh: (?:denied (\S+) for|call ended for|response refused for) ([^:]+): (.*) \[([a-z_0-9.]+)\]/);
      if (!m) continue;
      const key = JSON.stringify({ who: m[2], path: m[1] || '(in call)', reason: m[4], message: m[3].slice(0, 160) });
      counts.set(key, (counts.get(key) || 0) + 1);
    }
  }
  return [...counts.entries()].map(([k, n]) => ({ ...JSON.parse(k), count: n })).sort((a, b) => b.count - a.count);
}

function formatRefusals(list) {
  if (!list.length) return '  (none)';
  return list.map((r) => `  ${String(r.count).padStart(5)}  ${r.who}  ${r.path}  [${r.reason}] ${r.message}`).join('\n');
}

module.exports = { txnPrefixHex, tenantPrefixes, rawByTenant, refusals, formatRefusals };
