// A tenant's SQL entry point in the real stack: realstack/go/tiproxy-standin (TiProxy's etcd
// calls and per-connection routing; no TiProxy can be built from the Go module proxy, see
// docs/tiproxy.md). It runs in its own network namespace behind its own sidecar, whose node
// metadata is a TiProxy pod's, and reaches its tenant's tidb-servers at the addresses they
// register in etcd (127.0.0.1:<port>) through that sidecar:
//
//   netns tm-…-<id>p                               netns tm-…-<id>
//   tiproxy-standin ─► 127.0.0.1:2379 ─ sidecar ─► pd.sock (PD's etcd; the tenant's filter)
//                   ─► 127.0.0.1:4000 ─ (tcp)  ──► <tenant>-tidb0-sql.in.sock ─ sidecar ─► tidb-server :4000
//                   ─► 127.0.0.1:10080 ─ (tcp) ──► <tenant>-tidb0-status.in.sock ─ sidecar ─► :10080
//
// The test reaches the stand-in's SQL port and HTTP API through unix sockets (shared filesystem).
'use strict';

const P = require('./processes');

/** The stand-in's command line. `labels`: {k: v}; `labelName`: balance.label-name. */
function tiproxyArgs({ pd = '127.0.0.1:2379', addr = '127.0.0.1:6000', statusAddr = '127.0.0.1:3080', socket, apiSocket, labelName = '', labels = {} }) {
  const args = ['--pd-addrs', pd, '--addr', addr, '--status-addr', statusAddr, '--socket', socket, '--status-socket', apiSocket];
  if (labelName) args.push('--label-name', labelName);
  const l = Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
  if (l) args.push('--labels', l);
  return args;
}

/** GET /api/backends of a stand-in: {backends, discovered, owner, endpoints, labelName, labels}. */
async function backends(apiSocket) {
  const r = await P.httpUnix(apiSocket, 'GET', '/api/backends');
  if (r.status !== 200) throw new Error(`tiproxy-standin API: HTTP ${r.status}`);
  return JSON.parse(r.body);
}

/**
 * Starts a stand-in in netns `ns` and waits until its API answers. Returns the process record
 * plus {socket, apiSocket}. The caller stops it with P.stopProcess (SIGTERM: it deletes its
 * /topology/tiproxy entry and revokes its lease, as TiProxy does).
 */
async function startTiproxy({ name, ns, bin, log, socket, apiSocket, ...rest }) {
  const proc = P.startProcess(name, ns, bin, tiproxyArgs({ socket, apiSocket, ...rest }), log);
  await P.waitFor(`${name} API`, async () => (await P.httpUnix(apiSocket, 'GET', '/status')).status === 200, { proc, timeoutMs: 30000 });
  return Object.assign(proc, { socket, apiSocket });
}

module.exports = { tiproxyArgs, backends, startTiproxy };
