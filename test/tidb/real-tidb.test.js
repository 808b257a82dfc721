// The real-TiDB suite (`npm run test:tidb`, run by .ci/run): two unmodified tidb-servers, each
// in its own network namespace behind its own sidecar Envoy, share one real PD and one
// unistore store (realstack/). The SQL suite (realstack/sql-suite.js) runs in both tenants,
// with the same names, in outbound mode (filter in the tenant sidecars) and in inbound mode
// (filter on the storage gateway, tenant from the mTLS certificate). After every step: each
// tenant sees only its own rows (the step's check), the store holds only the tenants' prefixes,
// and the store's strict check (api_version=V2, keyspace id, keys inside it) refused nothing.
// Last, the same SQL runs in TiDB's own keyspace mode, and every difference between what
// reached storage, PD and etcd in the two runs must be one we explain
// (realstack/reference-differences.js).
'use strict';

const fs = require('fs');
const path = require('path');

const { startStack } = require('../../realstack/stack');
const { steps } = require('../../realstack/sql-suite');
const { rawByTenant, refusals, formatRefusals } = require('../../realstack/lib/observe');
const { snapshotEtcd, report } = require('../../realstack/compare');
const { explain } = require('../../realstack/reference-differences');
const { inventory, markdown } = require('../../realstack/inventory');

jest.setTimeout(15 * 60 * 1000);
const out = (m) => process.stdout.write(m + '\n');

// TIDB_MESH_MODES=outbound (for example) runs one mode only; the comparison needs outbound.
const MODES = (process.env.TIDB_MESH_MODES || 'outbound,inbound,keyspace').split(',');
const runs = {};

for (const mode of MODES.filter((m) => m !== 'keyspace')) {
  describe(`real TiDB through the mesh (${mode})`, () => {
    let stack;
    beforeAll(async () => {
      stack = await startStack({ mode, log: out });
    });
    afterAll(async () => {
      if (!stack) return;
      out(`refusals in ${mode} mode (from the filter's log lines):\n${formatRefusals(refusals(stack))}`);
      const denied = {};
      for (const name of mode === 'inbound' ? ['gateway'] : stack.tenants.map((t) => t.name)) {
        for (const [k, v] of Object.entries(await stack.envoyStats(name, 'calls_denied|frames_rejected'))) if (v) denied[k] = (denied[k] || 0) + v;
      }
      out(`refusal counters in ${mode} mode (Envoy stats of the filter): ${JSON.stringify(denied)}`);
      if (mode === 'outbound') {
        const inv = markdown(inventory(stack.dir));
        fs.writeFileSync(path.join(stack.dir, 'inventory.md'), inv + '\n');
        out(`every call the tidb-servers made in ${mode} mode (realstack/inventory.js):\n${inv}`);
      }
      snapshotEtcd(stack.dir);
      runs[mode] = stack.dir;
      await stack.stop();
    });

    for (const step of steps) {
      test(step.name, async () => {
        for (let i = 0; i < stack.tenants.length; i++) await step.run(stack.tenants[i], i);
        for (let i = 0; i < stack.tenants.length; i++) await step.check(stack.tenants[i], i);
        const raw = await rawByTenant(stack);
        expect(raw.foreign).toEqual({});
        for (const t of stack.tenants) expect(raw.byTenant[t.name]).toBeGreaterThan(0);
        expect((await stack.storeStats()).refused).toBe(0);
      });
    }

    test('the mysql command-line client sees only its tenant\'s rows', async () => {
      const outs = await Promise.all(stack.tenants.map((t) => t.mysql.cli('SELECT owner, COUNT(*) AS n FROM shop.items GROUP BY owner')));
      outs.forEach((o, i) => {
        expect(o).toContain(`t${i + 1}`);
        expect(o).not.toContain(`t${2 - i}`);
      });
    });

    test('the filter rewrote every tenant\'s calls, and refused none of TiDB\'s in a loop', async () => {
      for (const t of stack.tenants) {
        const stats = await stack.envoyStats(mode === 'inbound' ? 'gateway' : t.name);
        expect(stats[`wasmcustom.tidb_mesh.tenant.${t.name}.calls_rewritten`]).toBeGreaterThan(100);
      }
      // Each remaining refusal is a decision documented in docs/real-tidb.md; none may repeat
      // like a retry loop would (before this suite: 17,000 in five minutes).
      for (const r of refusals(stack)) expect({ ...r, loop: r.count > 20 }).toMatchObject({ loop: false });
    });
  });
}

describe('reference: the same SQL in TiDB\'s own keyspace mode', () => {
  let stack;
  const results = [];
  beforeAll(async () => {
    stack = await startStack({ mode: 'keyspace', log: out });
  });
  afterAll(async () => {
    if (!stack) return;
    snapshotEtcd(stack.dir);
    runs.keyspace = stack.dir;
    await stack.stop();
  });

  test('runs the SQL suite (steps that fail in keyspace mode are reported, not asserted)', async () => {
    for (const step of steps) {
      let error = null;
      try {
        for (let i = 0; i < stack.tenants.length; i++) await step.run(stack.tenants[i], i);
        for (let i = 0; i < stack.tenants.length; i++) await step.check(stack.tenants[i], i);
      } catch (e) { error = e.message.split('\n')[0]; }
      results.push({ step: step.name, error });
    }
    out('keyspace-mode reference run:\n' + results.map((r) => `  ${r.error ? 'FAILED' : 'ok    '}  ${r.step}${r.error ? `: ${r.error}` : ''}`).join('\n'));
    expect(results.filter((r) => !r.error).length).toBeGreaterThan(steps.length / 2);
  });
});

describe('mesh versus keyspace mode', () => {
  test('every difference in what reached storage, PD and etcd is explained', () => {
    expect(runs.outbound && runs.keyspace).toBeTruthy();
    const { rows, markdown } = report(runs.outbound, runs.keyspace, explain);
    fs.writeFileSync(path.join(runs.outbound, 'comparison.md'), markdown + '\n');
    out(`differences from TiDB's keyspace mode (${rows.length}; also in ${path.join(runs.outbound, 'comparison.md')}):\n${markdown}`);
    expect(rows.filter((r) => !explain(r)).map((r) => `${r.area}: ${r.item} (mesh ${r.mesh}, keyspace ${r.keyspace})`)).toEqual([]);
  });
});
