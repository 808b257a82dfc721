#!/usr/bin/env node
// Step 4 of the real stack: compare what reached storage, PD and etcd from the mesh (an
// unmodified TiDB behind the filter) with TiDB's own keyspace mode running the same SQL.
//
//   node realstack/compare.js <mesh-run-dir> <keyspace-run-dir>     prints a Markdown report
//
// Sources, per run dir (written by stack.js): store-capture.jsonl (every TiKV request as the
// store saw it, BatchCommands sub-commands included: method, set Context fields, key fields),
// <tenant>-access.jsonl and gateway-access.jsonl (every PD/etcd/HTTP call at the Envoys), and
// etcd-keys.txt (every etcd key at the end of the run, written by snapshotEtcd()).
'use strict';

const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

function readJsonl(file) {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => { try { return JSON.parse(l); } catch { return null; } }).filter(Boolean);
}

/** Writes every etcd key of the run's PD (through the platform's direct door) to etcd-keys.txt. */
function snapshotEtcd(dir) {
  const out = execFileSync('etcdctl', [`--endpoints=unix://${path.join(dir, 'pd-direct.sock')}`, 'get', '', '--prefix', '--keys-only'], { env: { ...process.env, ETCDCTL_API: '3' } }).toString();
  fs.writeFileSync(path.join(dir, 'etcd-keys.txt'), out.split('\n').filter(Boolean).join('\n') + '\n');
}

// Volatile parts of paths and keys (ids, uuids, hosts, ts) become placeholders.
function normalizeEtcd(k) {
  return k.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>')
    .replace(/\/[0-9a-f]{16}$/, '/<lease>')
    .replace(/^\/pd\/\d+\//, '/pd/<cluster>/')
    .replace(/\/member\/\d+\//, '/member/<id>/')
    .replace(/server_id\/\d+/, 'server_id/<n>')
    .replace(/all_schema_by_job_versions\/\d+/, 'all_schema_by_job_versions/<job>')
    .replace(/\/\d{14,}$/, '/<n>');
}

function normalizePath(p) {
  return p.split('?')[0]
    .replace(/\/region\/key\/.*/, '/region/key/<key>')
    .replace(/\/(store|region\/id|placement-rule|rule\/tiflash)\/[^/]+$/, '/$1/<id>');
}

const KEY_CTX = ['ApiVersion', 'KeyspaceId'];

/** {tikv: {method: {count, ctxFields:Set, ctx:{ApiVersion:Set,KeyspaceId:Set}, keyPrefixes: {field: Set}}}, calls: {listener path: count}, etcd: Set} */
function summarize(dir, tenantIds = ['1', '2']) {
  const tikv = {};
  for (const r of readJsonl(path.join(dir, 'store-capture.jsonl'))) {
    const m = tikv[r.method] || (tikv[r.method] = { count: 0, ctxFields: new Set(), ctx: { ApiVersion: new Set(), KeyspaceId: new Set() }, keyPrefixes: {} });
    m.count++;
    for (const [k, v] of Object.entries(r.context || {})) {
      m.ctxFields.add(k);
      // Which tenant is not the point (both runs serve both); whether it is the tenant's is.
      if (KEY_CTX.includes(k)) m.ctx[k].add(k === 'KeyspaceId' && tenantIds.includes(v) ? 'the tenant\'s' : v);
    }
    for (const [k, v] of Object.entries(r.keys || {})) {
      const field = k.replace(/\[\d+\]/g, '[]');
      (m.keyPrefixes[field] || (m.keyPrefixes[field] = new Set())).add(v.slice(0, 2) + (v.length >= 8 ? '+id' : ''));
    }
  }
  const calls = {};
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('-access.jsonl') && !n.startsWith('gateway'))) {
    for (const r of readJsonl(path.join(dir, f))) {
      const key = `${r.method} ${normalizePath(r.path)}`;
      const c = calls[key] || (calls[key] = { count: 0, codes: new Set() });
      c.count++;
      // A stream cut when the run stops has no grpc-status: not an outcome.
      if (r.protocol === 'HTTP/2' && r.method === 'POST') { if (r.grpc !== null && r.grpc !== '-') c.codes.add(`grpc ${r.grpc}`); } else c.codes.add(`http ${r.code}`);
    }
  }
  const etcdFile = path.join(dir, 'etcd-keys.txt');
  const etcd = new Set(fs.existsSync(etcdFile) ? fs.readFileSync(etcdFile, 'utf8').split('\n').filter(Boolean).map(normalizeEtcd) : []);
  return { tikv, calls, etcd };
}

const fmt = (s) => [...s].sort().join(', ') || '—';

/**
 * The differences as rows {area, item, mesh, keyspace}. Sets are compared, not counts (timing
 * changes counts); a method seen in one run only is a row too.
 */
function diff(mesh, ks) {
  const rows = [];
  const methods = new Set([...Object.keys(mesh.tikv), ...Object.keys(ks.tikv)]);
  for (const m of [...methods].sort()) {
    const a = mesh.tikv[m];
    const b = ks.tikv[m];
    if (!a || !b) { rows.push({ area: 'TiKV method', item: m, mesh: a ? `${a.count} calls` : 'not called', keyspace: b ? `${b.count} calls` : 'not called' }); continue; }
    for (const k of KEY_CTX) if (fmt(a.ctx[k]) !== fmt(b.ctx[k])) rows.push({ area: 'TiKV Context', item: `${m} ${k}`, mesh: fmt(a.ctx[k]), keyspace: fmt(b.ctx[k]) });
    if (fmt(a.ctxFields) !== fmt(b.ctxFields)) {
      const onlyA = [...a.ctxFields].filter((x) => !b.ctxFields.has(x));
      const onlyB = [...b.ctxFields].filter((x) => !a.ctxFields.has(x));
      rows.push({ area: 'TiKV Context fields', item: m, mesh: onlyA.length ? `+${onlyA.join(', +')}` : '—', keyspace: onlyB.length ? `+${onlyB.join(', +')}` : '—' });
    }
    const fields = new Set([...Object.keys(a.keyPrefixes), ...Object.keys(b.keyPrefixes)]);
    for (const f of fields) {
      const pa = fmt(a.keyPrefixes[f] || new Set());
      const pb = fmt(b.keyPrefixes[f] || new Set());
      if (pa !== pb) rows.push({ area: 'TiKV key prefix', item: `${m} ${f}`, mesh: pa, keyspace: pb });
    }
  }
  const paths = new Set([...Object.keys(mesh.calls), ...Object.keys(ks.calls)]);
  for (const p of [...paths].sort()) {
    const a = mesh.calls[p];
    const b = ks.calls[p];
    if (!a || !b) rows.push({ area: 'PD/etcd call', item: p, mesh: a ? `${a.count}× ${fmt(a.codes)}` : 'not called', keyspace: b ? `${b.count}× ${fmt(b.codes)}` : 'not called' });
    else if (fmt(a.codes) !== fmt(b.codes)) rows.push({ area: 'PD/etcd outcome', item: p, mesh: fmt(a.codes), keyspace: fmt(b.codes) });
  }
  for (const k of [...new Set([...mesh.etcd, ...ks.etcd])].sort()) {
    if (mesh.etcd.has(k) !== ks.etcd.has(k)) rows.push({ area: 'etcd key', item: k, mesh: mesh.etcd.has(k) ? 'present' : '—', keyspace: ks.etcd.has(k) ? 'present' : '—' });
  }
  return rows;
}

function report(meshDir, ksDir, explain = () => '') {
  const rows = diff(summarize(meshDir), summarize(ksDir));
  const lines = ['| area | item | mesh (unmodified TiDB + filter) | TiDB keyspace mode | intended? |', '|---|---|---|---|---|'];
  for (const r of rows) lines.push(`| ${r.area} | \`${r.item}\` | ${r.mesh} | ${r.keyspace} | ${explain(r) || '**unexplained**'} |`);
  return { rows, markdown: lines.join('\n') };
}

if (require.main === module) {
  const [a, b] = process.argv.slice(2);
  if (!a || !b) { console.error('usage: node realstack/compare.js <mesh-run-dir> <keyspace-run-dir>'); process.exit(2); }
  const { explain } = require('./reference-differences');
  console.log(report(a, b, explain).markdown);
}

module.exports = { snapshotEtcd, summarize, diff, report };
