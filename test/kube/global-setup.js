// `npm run test:kube`: one real etcd + kube-apiserver for every suite (kubestack/kube.js), with
// Istio's CRDs and ours, and the tool's own least-privilege RBAC (`tidb-mesh rbac`, cluster-wide
// variant) bound to the static token user `tidb-mesh`: the suites run the tool as that user.
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { startKube } = require('../../kubestack/kube.js');

module.exports = async () => {
  const t0 = Date.now();
  const k = await startKube({ log: (l) => process.stderr.write(`\nkubestack: ${l}`) });
  globalThis.__KUBESTACK__ = k;
  const rbac = execFileSync(process.execPath, [path.join(__dirname, '..', '..', 'bin', 'tidb-mesh.js'), 'rbac', '--subject', 'user:tidb-mesh'], { encoding: 'utf8' });
  k.kubectl(['apply', '-f', '-'], { input: rbac });
  const state = path.join(os.tmpdir(), `tidb-mesh-kubestack-${process.pid}.json`);
  fs.writeFileSync(state, JSON.stringify({ server: k.server, dir: k.dir, adminKubeconfig: k.adminKubeconfig, userKubeconfig: k.userKubeconfig, rbac }));
  process.env.KUBESTACK_STATE = state;
  process.stderr.write(`\nkubestack: ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (state ${state})\n`);
};
