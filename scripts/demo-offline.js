#!/usr/bin/env node
// tidb-mesh OFFLINE demo (`npm run demo:offline`, seconds, no Go builds): two tenants share one
// TiKV through the tidb-mesh Wasm filter running in real Envoys. The "TiKV" here is the
// in-memory TiKV TEST server from test/servers/tikv-test-server.js, not a real TiKV, and the
// "TiDB" is a hand-made gRPC client. `npm run demo` is the real one (unmodified tidb-servers).
// Exits 0 only if isolation held; every process it started is stopped on the way out.
'use strict';

const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const { status: GRPC_STATUS } = require('@grpc/grpc-js');

const ROOT = path.resolve(__dirname, '..');
const { DEFAULT_WASM: WASM } = require('../test/harness/envoy');

const tikvServer = require('../test/servers/tikv-test-server');
const { startEnvoy, twoTenantConfig, tidbNode, envoyBinary } = require('../test/harness/envoy');
const { tikvClient } = require('../test/harness/tikv-client');

const TENANTS = [
  { name: 'cluster1', keyspaceId: 1, who: 'alice' },
  { name: 'cluster2', keyspaceId: 2, who: 'bob' },
];
const KEYS = ['t_user_1', 't_user_2'];
const v1ctx = () => ({ region_id: 2, keyspace_id: 0xffffffff }); // what a TiDB without keyspace sends
const line = (c = '─') => console.log(c.repeat(78));
const b = (s) => Buffer.from(s);

function printable(buf) {
  return [...buf].map((x) => (x >= 0x20 && x < 0x7f ? String.fromCharCode(x) : '.')).join('');
}
function hexSpaced(buf) { return [...buf].map((x) => x.toString(16).padStart(2, '0')).join(' '); }

async function main() {
  if (!fs.existsSync(WASM) && !process.env.TIDB_MESH_WASM) {
    console.log('dist/tidb-mesh.wasm is missing: running `npm run build`');
    execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  }
  const bin = envoyBinary();
  const cleanups = [];
  let failures = 0;
  const check = (ok, what) => {
    console.log(`  ${ok ? 'OK  ' : 'FAIL'}  ${what}`);
    if (!ok) failures++;
  };

  try {
    const server = await tikvServer.start();
    cleanups.push(() => server.stop());
    const config = twoTenantConfig();
    const envoys = await Promise.all(TENANTS.map((t) => startEnvoy({ upstream: { port: server.port }, pluginConfig: config, node: tidbNode(t.name) })));
    for (const e of envoys) cleanups.push(() => e.stop());
    const clients = envoys.map((e) => tikvClient(e.port));
    for (const c of clients) cleanups.push(() => c.close());

    line('═');
    console.log('tidb-mesh demo: two TiDB tenants, one (test) TiKV, keyspace prefixes added on the wire');
    line('═');
    console.log(`TiKV TEST server (in-memory imitation, not TiKV): 127.0.0.1:${server.port}`);
    console.log(`Envoy: ${bin}`);
    console.log(`filter: ${path.relative(ROOT, WASM)} (${fs.statSync(WASM).size} bytes)`);
    TENANTS.forEach((t, i) => console.log(`  ${t.name}: Envoy 127.0.0.1:${envoys[i].port} (admin ${envoys[i].adminPort}), node labels app.kubernetes.io/instance=${t.name} -> keyspace ${t.keyspaceId}`));

    // 1. Both tenants write the SAME user keys (Prewrite + Commit), as a TiDB without keyspace would.
    line();
    console.log('1. Each tenant writes the same keys with KvPrewrite + KvCommit');
    let ts = 100;
    for (let i = 0; i < TENANTS.length; i++) {
      const t = TENANTS[i]; const c = clients[i];
      const start = (ts += 10);
      const muts = KEYS.map((k) => ({ op: 0, key: b(k), value: b(`${t.who} from ${t.name}${k === 't_user_1' ? '' : ` (${k})`}`) }));
      const pw = await c.KvPrewrite({ context: v1ctx(), mutations: muts, primary_lock: b(KEYS[0]), start_version: start, lock_ttl: 3000 });
      const pwErr = pw.region_error || (pw.errors && pw.errors.length ? pw.errors : null);
      const cm = pwErr ? null : await c.KvCommit({ context: v1ctx(), keys: KEYS.map(b), start_version: start, commit_version: start + 1, primary_key: b(KEYS[0]) });
      const cmErr = cm && (cm.region_error || cm.error);
      console.log(`  ${t.name}: prewrite@${start} ${pwErr ? `ERROR ${JSON.stringify(pwErr)}` : 'ok'}, commit@${start + 1} ${cm ? (cmErr ? `ERROR ${JSON.stringify(cmErr)}` : 'ok') : 'skipped'}`);
      for (const m of muts) console.log(`      ${m.key.toString().padEnd(10)} = "${m.value.toString()}"`);
      check(!pwErr && cm && !cmErr, `${t.name} transaction committed`);
    }

    // 2. Read back with KvGet and KvScan.
    line();
    console.log('2. What each tenant reads back (KvGet and KvScan over its whole keyspace)');
    for (let i = 0; i < TENANTS.length; i++) {
      const t = TENANTS[i]; const c = clients[i]; const other = TENANTS[1 - i];
      console.log(`  ${t.name}:`);
      for (const k of KEYS) {
        const g = await c.KvGet({ context: v1ctx(), key: b(k), version: 1e9 });
        const v = g.not_found ? '(not found)' : g.value.toString();
        console.log(`    KvGet  ${k.padEnd(10)} -> "${v}"${g.error ? `  error ${JSON.stringify(g.error)}` : ''}`);
        check(v.includes(t.name) && !v.includes(other.name), `${t.name} KvGet ${k} returns its own value`);
      }
      const sc = await c.KvScan({ context: v1ctx(), start_key: b(''), end_key: b(''), limit: 100, version: 1e9 });
      console.log(`    KvScan ["", "") -> ${sc.pairs.length} pair(s)${sc.error ? `  error ${JSON.stringify(sc.error)}` : ''}${sc.region_error ? `  region_error ${JSON.stringify(sc.region_error)}` : ''}`);
      for (const p of sc.pairs) console.log(`      ${p.key.toString().padEnd(10)} = "${p.value.toString()}"`);
      check(sc.pairs.length === KEYS.length && sc.pairs.every((p) => p.value.toString().includes(t.name)), `${t.name} KvScan sees exactly its ${KEYS.length} keys`);
    }

    // 3. The raw storage view.
    line();
    console.log('3. Raw storage view inside the TiKV test server (what TiKV actually stores)');
    console.log('   prefix        key bytes (hex)                      printable');
    const raw = server.rawKeys();
    for (const k of raw) {
      const pre = k.subarray(0, 4);
      const mode = pre[0] === 0x78 ? 'txn' : pre[0] === 0x72 ? 'raw' : '???';
      const ks = pre.length === 4 ? (pre[1] << 16) | (pre[2] << 8) | pre[3] : -1;
      const tag = mode === '???' ? 'NO KEYSPACE PREFIX' : `${mode} keyspace ${ks}`;
      console.log(`   ${hexSpaced(pre).padEnd(12)}  ${hexSpaced(k.subarray(4)).padEnd(36)} ${printable(k).padEnd(14)} <- ${tag}`);
    }
    const hexKeys = raw.map((k) => k.toString('hex'));
    check(raw.length === KEYS.length * TENANTS.length, `${KEYS.length * TENANTS.length} physical keys (${KEYS.length} per tenant)`);
    check(hexKeys.some((h) => h.startsWith('78000001')) && hexKeys.some((h) => h.startsWith('78000002')), 'both prefixes 78 00 00 01 and 78 00 00 02 present');
    check(hexKeys.every((h) => h.startsWith('78000001') || h.startsWith('78000002')), 'no unprefixed key reached storage');
    const ctxs = server.requests().map((r) => `${r.method}: api_version=${r.context.api_version} keyspace_id=${r.context.keyspace_id}`);
    console.log('   Context as TiKV received it (first 4 requests):');
    for (const c of ctxs.slice(0, 4)) console.log(`     ${c}`);

    // 4. A method the filter does not know is refused before it reaches TiKV.
    line();
    console.log('4. Unknown and unsafe methods');
    const before = server.requests().length;
    for (const [label, p] of [
      ['/tikvpb.Tikv/NoSuchMethod', clients[0].rawUnary('/tikvpb.Tikv/NoSuchMethod', Buffer.alloc(0))],
      ['/tikvpb.Tikv/KvGC', clients[0].KvGC({ context: v1ctx(), safe_point: 1 })],
    ]) {
      try {
        await p;
        console.log(`  ${label}: ALLOWED (no error)`);
        check(false, `${label} is refused`);
      } catch (e) {
        console.log(`  ${label}: gRPC status ${e.code} (${Object.keys(GRPC_STATUS).find((n) => GRPC_STATUS[n] === e.code)}) "${e.details}"`);
        check(String(e.details).startsWith('tidb-mesh: '), `${label} refused by the filter`);
      }
    }
    check(server.requests().length === before, 'refused calls never reached TiKV');

    line('═');
    console.log(failures === 0 ? 'RESULT: isolation held; every check passed.' : `RESULT: ${failures} check(s) FAILED.`);
    line('═');
  } catch (e) {
    failures++;
    console.error(`demo failed: ${e && e.stack ? e.stack : e}`);
  } finally {
    for (const f of cleanups.reverse()) {
      try { await f(); } catch (e) { console.error(`cleanup: ${e.message}`); }
    }
  }
  return failures === 0 ? 0 : 1;
}

main().then((code) => process.exit(code), (e) => { console.error(e); process.exit(1); });
