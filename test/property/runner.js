'use strict';
// Runs one seeded fast-check property over the pure core and prints a JSON summary on the
// last line of stdout. Used by test/property/rewrite.property.test.js (child processes: jest's
// VM context makes Buffer-heavy code several times slower) and by scripts/fuzz.js.
//
//   node test/property/runner.js --property valid|mutation --seed <n> --runs <n>
//
// Summary: { property, seed, runs, ok, failure?: { counterexample, path, error }, statuses,
//            traps, aborts, memoryBefore, memoryAfter, ms }
const fc = require('fast-check');
const { makeEnv, caseArb, mutationArb, checkValid, checkMutation } = require('./cases');
const { STATUS_NAME } = require('../core/core');

function run(property, seed, runs) {
  const env = makeEnv();
  const statuses = {};
  const started = Date.now();
  // warm-up outside the measured run, so memoryBefore is the VM after its first large buffers
  fc.sample(caseArb, { seed: 7, numRuns: 200 }).forEach((c) => checkValid(env, c));
  const memoryBefore = env.core.memoryBytes();
  const prop = property === 'valid'
    ? fc.property(caseArb, (c) => { checkValid(env, c); statuses.OK = (statuses.OK || 0) + 1; })
    : fc.property(mutationArb, (c) => { const s = STATUS_NAME[checkMutation(env, c)]; statuses[s] = (statuses[s] || 0) + 1; });
  const details = fc.check(prop, { seed, numRuns: runs, endOnFailure: true });
  const out = {
    property, seed, runs: details.numRuns, ok: !details.failed, statuses,
    traps: env.core.traps, aborts: env.core.aborts, memoryBefore, memoryAfter: env.core.memoryBytes(), ms: Date.now() - started,
  };
  if (details.failed) {
    out.failure = {
      path: details.counterexamplePath,
      counterexample: JSON.stringify(details.counterexample),
      error: String(details.errorInstance && details.errorInstance.stack || details.error).split('\n').slice(0, 6).join('\n'),
    };
  }
  return out;
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const get = (k, d) => { const i = args.indexOf(`--${k}`); return i >= 0 ? args[i + 1] : d; };
  const res = run(get('property', 'valid'), Number(get('seed', Date.now() % 0x7fffffff)), Number(get('runs', 1000)));
  process.stdout.write(`${JSON.stringify(res)}\n`);
  process.exitCode = res.ok && res.traps === 0 ? 0 : 1;
}

module.exports = { run };
