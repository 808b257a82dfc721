// Stops the kube stack started by global-setup.js (by PID) and removes its state.
const fs = require('fs');

module.exports = async () => {
  const k = globalThis.__KUBESTACK__;
  if (k) await k.stop();
  if (process.env.KUBESTACK_STATE) fs.rmSync(process.env.KUBESTACK_STATE, { force: true });
};
