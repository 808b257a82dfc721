#!/usr/bin/env node
// Every call a real, unmodified tidb-server made in a run, with what the filter does with it
// and what came back: the inventory is observed, not believed.
//
//   node realstack/inventory.js <run-dir>     prints a Markdown table
//
// Sources: <tenant>-access.jsonl (each call at the tenant's sidecar: PD gRPC, PD HTTP, etcd,
// unary TiKV), store-capture.jsonl (each TiKV request the store got, BatchCommands sub-commands
// included). The treatment comes from the compiled filter's own tables: the gRPC allowlist
// (dist/tidb-mesh-core.wasm, assembly/schema/methods.ts) and the PD HTTP routes
// (dist/tidb-mesh-pdhttp.wasm, assembly/pdhttp/routes.ts).
'use strict';

const fs = require('fs');
const path = require('path');
const { Core } = require('../test/core/core');
const { PdHttp } = require('../test/pdhttp/pdhttp');

const PD_TREATMENTS = ['pass', 'emulate', 'deny', 'rewrite query keys', 'rewrite path key, clamp region', 'rewrite query keys, filter regions',
  'scope ids, filter rules', 'scope ids, prefix keys', 'scope id, prefix keys', 'filter rules', 'scope id, strip', 'scope id',
  'scope groups, prefix keys', 'scope group, strip', 'scope rules, prefix keys', 'scope rule, prefix keys', 'scope id', 'scope group, filter'];

function readJsonl(file) {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

function service(p) {
  if (p.startsWith('/pd/api/')) return 'PD HTTP';
  if (p.startsWith('/etcdserverpb.')) return 'etcd';
  if (p.startsWith('/tikvpb.')) return 'TiKV';
  if (p.startsWith('/grpc.health')) return 'health';
  return 'PD gRPC';
}

/** Rows {service, call, count, outcomes, treatment}, sorted by service then call. */
function inventory(dir) {
  const core = new Core();
  const err = core.configure({ tenants: [{ name: 't1', keyspaceId: 1 }] });
  if (err) throw new Error(err);
  const pdhttp = new PdHttp();
  const rows = new Map();
  const add = (svc, call, outcome, treatment) => {
    const r = rows.get(call) || { service: svc, call, count: 0, outcomes: new Map(), treatment };
    r.count++;
    r.outcomes.set(outcome, (r.outcomes.get(outcome) || 0) + 1);
    rows.set(call, r);
  };
  for (const f of fs.readdirSync(dir).filter((n) => /^tenant.*-access\.jsonl$/.test(n))) {
    for (const a of readJsonl(path.join(dir, f))) {
      const svc = service(a.path);
      const grpc = a.protocol === 'HTTP/2' && a.method === 'POST' && svc !== 'PD HTTP';
      const outcome = grpc ? (a.grpc === null ? 'cut at stop' : `grpc ${a.grpc}`) : `http ${a.code}`;
      if (svc === 'PD HTTP') {
        const p = pdhttp.plan(0, a.method, a.path);
        const call = `${a.method} ${a.path.split('?')[0].replace(/\/region\/key\/.*/, '/region/key/<key>').replace(/\/(store|min-resolved-ts)\/\d+$/, '/$1/<id>')}`;
        const t = p.treatment < 0 ? `refuse (${p.status})` : PD_TREATMENTS[p.treatment] || `treatment ${p.treatment}`;
        add(svc, call, outcome, p.treatment === 2 || p.treatment < 0 ? `${t}: ${p.reason}` : t);
      } else {
        add(svc, a.path, outcome, core.treatment(a.path));
      }
    }
  }
  // BatchCommands sub-commands (and unary calls) as the store received them: each passed the
  // filter's rewrite (the store's strict check would refuse an unprefixed one).
  for (const c of readJsonl(path.join(dir, 'store-capture.jsonl'))) {
    const unary = `/tikvpb.Tikv/${c.method}`;
    add('TiKV (store)', `${c.method} (at the store)`, 'reached the store', core.treatment(unary));
  }
  return [...rows.values()].sort((a, b) => (a.service + a.call).localeCompare(b.service + b.call));
}

function markdown(rows) {
  const out = ['| service | call | count | outcome | treatment |', '|---|---|---|---|---|'];
  for (const r of rows) {
    const oc = [...r.outcomes.entries()].map(([k, n]) => (r.outcomes.size > 1 ? `${k} ×${n}` : k)).join(', ');
    out.push(`| ${r.service} | \`${r.call}\` | ${r.count} | ${oc} | ${r.treatment.replace(/\|/g, '/')} |`);
  }
  return out.join('\n');
}

if (require.main === module) {
  const dir = process.argv[2];
  if (!dir) { console.error('usage: node realstack/inventory.js <run-dir>'); process.exit(2); }
  console.log(markdown(inventory(dir)));
}

module.exports = { inventory, markdown };
