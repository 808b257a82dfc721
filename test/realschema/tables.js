'use strict';
// The filter's allowlist and key-field tables as data, read from the compiled tables entry
// (dist/tidb-mesh-tables.wasm, assembly/testing/tables-entry.ts). Action, flag, kind and range
// numbers are read from assembly/schema/types.ts and policies from schema/methods.ts, so this
// file cannot drift from them.
const fs = require('fs');
const path = require('path');
const loader = require('assemblyscript/lib/loader');

const ROOT = path.resolve(__dirname, '..', '..');
const WASM = path.join(ROOT, 'dist', 'tidb-mesh-tables.wasm');

/** `export const NAME: <type> = <n>;` constants of an AssemblyScript file. */
function constants(file) {
  const out = {};
  const src = fs.readFileSync(path.join(ROOT, file), 'utf8');
  for (const m of src.matchAll(/export const (\w+): \w+ = (\d+);/g)) out[m[1]] = Number(m[2]);
  return out;
}

const C = { ...constants('assembly/schema/types.ts'), ...constants('assembly/schema/methods.ts') };
const nameOf = (prefix) => Object.fromEntries(Object.entries(C).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [v, k.slice(prefix.length)]));
/** Number -> name maps for messages: ACT, KIND, RANGE, POLICY. */
const NAMES = { act: nameOf('ACT_'), kind: nameOf('KIND_'), range: nameOf('RANGE_'), policy: nameOf('POLICY_') };

let cached;
/** { methods: [...], descs: [...] } (see tables-entry.ts dumpTables for the fields). */
function loadTables() {
  if (cached) return cached;
  if (!fs.existsSync(WASM)) throw new Error(`${WASM} is missing: run \`npm run build\``);
  const mod = loader.instantiateSync(fs.readFileSync(WASM), { env: { abort() { throw new Error('tables entry aborted'); } } });
  const text = mod.exports.__getString(mod.exports.dumpTables());
  const methods = [], descs = [];
  for (const line of text.split('\n')) {
    const c = line.split('\t');
    if (c[0] === 'M') {
      methods.push({ path: c[1], policy: Number(c[2]), request: Number(c[3]), response: Number(c[4]), apiV2Only: c[5] === '1', streaming: c[6] === '1' });
    } else if (c[0] === 'D') {
      const id = Number(c[1]);
      descs[id] = {
        id, name: c[2], kind: Number(c[3]), strict: c[4] === '1', rangeKind: Number(c[5]), rangeStart: Number(c[6]),
        rangeEnd: Number(c[7]), rangeReverse: Number(c[8]), setKeyspace: c[9] === '1', requireField: Number(c[10]),
        ensureContextField: Number(c[11]), bucketField: Number(c[12]), matchField: Number(c[13]),
        under: Buffer.from(c[14], 'hex').toString('latin1'), underEnd: Buffer.from(c[15], 'hex').toString('latin1'), rules: [],
      };
    } else if (c[0] === 'R') {
      descs[Number(c[1])].rules.push({ num: Number(c[2]), act: Number(c[3]), flags: Number(c[4]), child: Number(c[5]) });
    }
  }
  methods.sort((a, b) => (a.path < b.path ? -1 : 1));
  cached = { methods, descs };
  return cached;
}

module.exports = { loadTables, C, NAMES };
