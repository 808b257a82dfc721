// End-to-end workload identity through real Envoys (issue 4):
//   outbound  - labels in the Envoy bootstrap's node metadata select the tenant;
//   inbound   - client Envoys (no filter) -> real mTLS -> server Envoy ("TiKV's inbound sidecar",
//               require_client_certificate, filter direction inbound) -> TiKV TEST server. Each
//               client Envoy presents its own certificate (made here with openssl, SPIFFE URI SAN);
//   reconfig  - the server Envoy gets the filter through ECDS from a file; the file is replaced
//               while a BatchCommands stream is open: that stream keeps its keyspace, new streams
//               get the new one, Envoy is not restarted;
//   stats     - the filter's counters read from the server Envoy's admin /stats.
'use strict';

const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const YAML = require('yaml');
const tikvServer = require('../servers/tikv-test-server');
const { startEnvoy, twoTenantConfig, tidbNode, DEFAULT_WASM } = require('../harness/envoy');
const { tikvClient } = require('../harness/tikv-client');
const { makeCa, certDir, spiffe, downstreamTls, upstreamTls } = require('../harness/certs');

jest.setTimeout(90000);

const S = grpc.status;
const b = (s) => Buffer.from(s);
const hex = (k) => Buffer.from(k).toString('hex');
const RAW = (id) => Buffer.from([0x72, (id >> 16) & 0xff, (id >> 8) & 0xff, id & 0xff]);
const TXN = (id) => Buffer.from([0x78, (id >> 16) & 0xff, (id >> 8) & 0xff, id & 0xff]);
const ctx = () => ({ region_id: 2, region_epoch: { conf_ver: 1, version: 1 }, peer: { id: 3, store_id: 1 }, keyspace_id: 0xffffffff });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const FILTER_NAME = 'tidb-mesh';
const WASM_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm';

const P = {
  cluster1: spiffe('tidb', 'tidb-cluster1'),
  cluster2: spiffe('tidb', 'tidb-cluster2'),
  intruder: spiffe('tidb', 'default'),
  tikv: spiffe('tidb', 'tikv'),
  server: spiffe('tidb', 'tikv-server'),
};

function inboundConfig(cluster1Keyspace) {
  return {
    version: 1, direction: 'inbound', mode: 'api-v2',
    tenants: [
      { name: 'cluster1', keyspaceId: cluster1Keyspace, match: { principals: [P.cluster1] } },
      { name: 'cluster2', keyspaceId: 2, match: { principals: [P.cluster2] } },
    ],
    passthrough: [{ name: 'basic-storage', match: { principals: [spiffe('tidb', 'pd'), P.tikv] } }],
    unknownCaller: 'deny',
  };
}

/** The ECDS file: a DiscoveryResponse with one TypedExtensionConfig (the Wasm filter). */
function ecdsResponse(pluginConfig, version) {
  return {
    version_info: String(version),
    resources: [{
      '@type': 'type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig',
      name: FILTER_NAME,
      typed_config: {
        '@type': WASM_TYPE,
        config: {
          name: 'tidb-mesh', root_id: 'tidb-mesh',
          configuration: { '@type': 'type.googleapis.com/google.protobuf.StringValue', value: JSON.stringify(pluginConfig) },
          vm_config: { vm_id: 'tidb-mesh', runtime: 'envoy.wasm.runtime.v8', code: { local: { filename: DEFAULT_WASM } } },
          fail_open: false,
        },
      },
    }],
  };
}

/** Envoy watches the path for a rename onto it: write elsewhere, then move into place. */
function writeEcds(file, pluginConfig, version) {
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, YAML.stringify(ecdsResponse(pluginConfig, version)));
  fs.renameSync(tmp, file);
}

async function grpcError(promise) {
  try { return { ok: true, value: await promise }; } catch (e) { return { ok: false, code: e.code, details: e.details || e.message }; }
}

let dir; let ca; let rogueCa; let server; let inbound; let ecdsFile;
const clients = {}; const envoys = [];
let outbound = []; let setupError = null;

beforeAll(async () => {
  try {
    dir = certDir();
    ca = makeCa(dir, 'mesh-ca');
    rogueCa = makeCa(path.join(dir, 'rogue'), 'rogue-ca');
    const leaf = {
      server: ca.issue('tikv-server', P.server),
      cluster1: ca.issue('tidb-cluster1', P.cluster1),
      cluster2: ca.issue('tidb-cluster2', P.cluster2),
      intruder: ca.issue('intruder', P.intruder),
      tikv: ca.issue('tikv', P.tikv),
      // Claims to be cluster1, but signed by a CA the server does not trust.
      rogue: rogueCa.issue('rogue-cluster1', P.cluster1),
    };
    server = await tikvServer.start();
    ecdsFile = path.join(dir, 'ecds.yaml');
    writeEcds(ecdsFile, inboundConfig(1), 1);

    // Server side: TiKV's inbound sidecar. Two listeners share the ECDS filter: the main one
    // requires a client certificate; "tls_no_client_cert" is TLS where a client certificate is
    // optional (to see the filter itself refuse a call without a peer identity).
    inbound = await startEnvoy({
      upstream: { port: server.port },
      wasm: null,
      node: { id: 'tikv-0', cluster: 'tikv', namespace: 'tidb', labels: { 'app.kubernetes.io/component': 'tikv' }, serviceAccount: 'tikv' },
      extraHttpFilters: [{
        name: FILTER_NAME,
        config_discovery: {
          config_source: { path_config_source: { path: ecdsFile }, resource_api_version: 'V3' },
          type_urls: [WASM_TYPE],
        },
      }],
      downstreamTransportSocket: downstreamTls(leaf.server, ca.cert),
      extraBootstrap: { stats_config: { stats_tags: STATS_TAGS } },
      transformBootstrap: (bs) => {
        const main = bs.static_resources.listeners[0];
        const optional = JSON.parse(JSON.stringify(main));
        optional.name = 'tls_no_client_cert';
        optional.filter_chains[0].transport_socket = downstreamTls(leaf.server, ca.cert, { requireClientCertificate: false });
        bs.static_resources.listeners.push(optional);
        return bs;
      },
    });
    envoys.push(inbound);
    const lst = JSON.parse((await inbound.admin('/listeners?format=json')).body).listener_statuses;
    const optionalPort = lst.find((l) => l.name === 'tls_no_client_cert').local_address.socket_address.port_value;

    // Client side: plain Envoys (no filter) that originate mTLS with a given certificate.
    const client = (who, cert, port = inbound.port) => startEnvoy({
      upstream: { port }, wasm: null, node: { id: `client-${who}` },
      upstreamTransportSocket: upstreamTls(cert, ca.cert),
    });
    const names = ['cluster1', 'cluster2', 'intruder', 'tikv', 'rogue'];
    const started = await Promise.all([
      ...names.map((n) => client(n, leaf[n])),
      client('nocert', null, optionalPort),
    ]);
    envoys.push(...started);
    [...names, 'nocert'].forEach((n, i) => { clients[n] = tikvClient(started[i].port, { deadlineMs: 5000 }); });

    // Outbound: the tenant comes from node metadata in each Envoy's bootstrap.
    outbound = await Promise.all([
      startEnvoy({ upstream: { port: server.port }, pluginConfig: twoTenantConfig(), node: tidbNode('cluster1') }),
      startEnvoy({ upstream: { port: server.port }, pluginConfig: twoTenantConfig(), node: tidbNode('cluster2') }),
      startEnvoy({ upstream: { port: server.port }, pluginConfig: twoTenantConfig(), node: tidbNode('cluster7') }),
    ]);
    envoys.push(...outbound);
  } catch (e) {
    setupError = e;
  }
});

afterAll(async () => {
  for (const c of Object.values(clients)) c.close();
  const logDir = path.join(__dirname, '..', '..', '.tmp', 'e2e-logs');
  fs.mkdirSync(logDir, { recursive: true });
  if (inbound) fs.writeFileSync(path.join(logDir, 'identity-inbound.log'), inbound.logs());
  await Promise.all(envoys.map((e) => e.stop()));
  if (server) await server.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function needSetup() { if (setupError) throw setupError; }
const rawHex = () => server.rawKeys().map(hex);
/** The filter's own counters, named as Envoy's /stats shows them (proxy-wasm metrics live under "wasmcustom."). */
const stats = async (e) => {
  const all = await e.stats();
  const out = {};
  for (const [k, v] of Object.entries(all)) if (k.startsWith('wasmcustom.')) out[k] = v;
  return out;
};
/** docs/identity.md: stats_tags that turn tenant, passthrough entry and reason into tags. */
const STATS_TAGS = [
  { tag_name: 'tidb_mesh_tenant', regex: '^wasmcustom\\.tidb_mesh\\.tenant\\.(([^.]+)\\.)' },
  { tag_name: 'tidb_mesh_passthrough', regex: '^wasmcustom\\.tidb_mesh\\.passthrough\\.(([^.]+)\\.)' },
  { tag_name: 'tidb_mesh_reason', regex: '^wasmcustom\\.tidb_mesh\\..*\\.(?:calls_denied|frames_rejected)(\\.([^.]+))$' },
];
/** Envoy writes its log asynchronously: wait for a line to show up. */
async function logLine(e, text, ms = 3000) {
  const deadline = Date.now() + ms;
  while (!e.logs().includes(text) && Date.now() < deadline) await sleep(50);
  return e.logs();
}

describe('outbound: node metadata labels in the bootstrap select the tenant', () => {
  test('each sidecar writes into its own keyspace; an unmatched one is denied', async () => {
    needSetup();
    const [o1, o2, o7] = outbound.map((e) => tikvClient(e.port, { deadlineMs: 5000 }));
    try {
      expect((await o1.RawPut({ context: ctx(), key: b('out_k'), value: b('one') })).error).toBeFalsy();
      expect((await o2.RawPut({ context: ctx(), key: b('out_k'), value: b('two') })).error).toBeFalsy();
      const r = await grpcError(o7.RawPut({ context: ctx(), key: b('out_k'), value: b('seven') }));
      expect(r).toMatchObject({ ok: false, code: S.PERMISSION_DENIED });
      expect(r.details).toMatch(/^tidb-mesh: caller matches no tenant/);
    } finally { o1.close(); o2.close(); o7.close(); }
    const raw = rawHex();
    expect(raw).toContain(hex(Buffer.concat([RAW(1), b('out_k')])));
    expect(raw).toContain(hex(Buffer.concat([RAW(2), b('out_k')])));
    expect(raw).not.toContain(hex(b('out_k')));
    expect(await stats(outbound[0])).toEqual({ 'wasmcustom.tidb_mesh.tenant.cluster1.calls_rewritten': 1, 'wasmcustom.tidb_mesh.tenant.cluster1.keys_rewritten': 1 });
    expect(await stats(outbound[2])).toEqual({ 'wasmcustom.tidb_mesh.unknown.calls_denied.unknown_tenant': 1 });
    const line = 'outbound tenant cluster1 (namespace tidb, app.kubernetes.io/instance=cluster1)';
    expect(await logLine(outbound[0], line)).toContain(line);
  });
});

describe('inbound: the peer certificate of a real mTLS connection selects the tenant', () => {
  test('the right principal gets its keyspace', async () => {
    needSetup();
    expect((await clients.cluster1.RawPut({ context: ctx(), key: b('in_k'), value: b('v1') })).error).toBeFalsy();
    expect((await clients.cluster2.RawPut({ context: ctx(), key: b('in_k'), value: b('v2') })).error).toBeFalsy();
    expect((await clients.cluster1.RawGet({ context: ctx(), key: b('in_k') })).value.toString()).toBe('v1');
    expect((await clients.cluster2.RawGet({ context: ctx(), key: b('in_k') })).value.toString()).toBe('v2');
    const raw = rawHex();
    expect(raw).toContain(hex(Buffer.concat([RAW(1), b('in_k')])));
    expect(raw).toContain(hex(Buffer.concat([RAW(2), b('in_k')])));
    expect(raw).not.toContain(hex(b('in_k')));
  });

  test('a wrong (but mesh-signed) principal gets PERMISSION_DENIED and nothing reaches TiKV', async () => {
    needSetup();
    const before = server.requests().length;
    const r = await grpcError(clients.intruder.RawPut({ context: ctx(), key: b('in_x'), value: b('x') }));
    expect(r).toMatchObject({ ok: false, code: S.PERMISSION_DENIED });
    expect(r.details).toMatch(/^tidb-mesh: caller matches no tenant/);
    expect(server.requests().length).toBe(before);
    const line = `denied /tikvpb.Tikv/RawPut for principal ${P.intruder}: tidb-mesh: caller matches no tenant [unknown_tenant]`;
    expect(await logLine(inbound, line)).toContain(line);
  });

  test('a passthrough principal (TiKV itself) gets untouched bytes, whatever the method', async () => {
    needSetup();
    // The storage is API v2: an untouched API-v1 raw request is refused by the TiKV test server
    // itself, which proves the filter neither prefixed the key nor set api_version.
    const put = await clients.tikv.RawPut({ context: ctx(), key: b('pt_raw'), value: b('p') });
    expect(put.error).toMatch(/ApiVersionNotMatched/);
    await clients.tikv.Raft([{ region_id: 1 }]);
    const last = server.requests().slice(-2);
    expect(last.map((x) => x.method)).toEqual(['RawPut', 'Raft']);
    expect(last[0].request.key.toString()).toBe('pt_raw');
    expect(last[0].context).toMatchObject({ api_version: 0, keyspace_id: 0xffffffff });
  });

  test('a tenant may not use TiKV-internal methods (Raft): PERMISSION_DENIED', async () => {
    needSetup();
    const r = await grpcError(clients.cluster1.Raft([{ region_id: 1 }]));
    expect(r).toMatchObject({ ok: false, code: S.PERMISSION_DENIED });
  });

  test('TLS without a client certificate: the filter denies (no_peer_identity)', async () => {
    needSetup();
    const r = await grpcError(clients.nocert.RawGet({ context: ctx(), key: b('in_k') }));
    expect(r).toMatchObject({ ok: false, code: S.PERMISSION_DENIED });
    expect(r.details).toMatch(/no verified peer identity/);
  });

  test('a certificate from an untrusted CA never reaches the filter (handshake fails)', async () => {
    needSetup();
    const before = server.requests().length;
    const r = await grpcError(clients.rogue.RawGet({ context: ctx(), key: b('in_k') }));
    expect(r).toMatchObject({ ok: false, code: S.UNAVAILABLE });
    expect(server.requests().length).toBe(before);
  });
});

describe('reconfiguration without restart (ECDS from a file)', () => {
  test('an open BatchCommands stream keeps its keyspace; new streams use the new configuration', async () => {
    needSetup();
    const { pkg } = require('../proto').loadTikv();
    const raw = new pkg.tikvpb.Tikv(`127.0.0.1:${envoys[1].port}`, grpc.credentials.createInsecure());
    const call = raw.BatchCommands({ deadline: new Date(Date.now() + 30000) });
    const got = [];
    const waiters = [];
    call.on('data', (r) => { got.push(r); waiters.splice(0).forEach((w) => w()); });
    let streamError = null;
    call.on('error', (e) => { streamError = e; waiters.splice(0).forEach((w) => w()); });
    const put = async (id, key) => {
      call.write({ requests: [{ RawPut: { context: ctx(), key: b(key), value: b(key) } }], request_ids: [id] });
      const deadline = Date.now() + 5000;
      while (!got.some((r) => r.request_ids.map(Number).includes(id))) {
        if (streamError) throw streamError;
        if (Date.now() > deadline) throw new Error(`no BatchCommands response for ${id}`);
        await new Promise((res) => { waiters.push(res); setTimeout(res, 200); });
      }
    };
    try {
      await put(1, 'bc_before');
      const reloads = async () => {
        const st = await inbound.stats();
        return Object.entries(st).filter(([k]) => k.includes('extension_config_discovery') && k.endsWith('config_reload')).reduce((a, [, v]) => a + v, 0);
      };
      const before = await reloads();
      writeEcds(ecdsFile, inboundConfig(5), 2);
      const deadline = Date.now() + 15000;
      while (await reloads() <= before) {
        if (Date.now() > deadline) throw new Error('Envoy did not pick up the new ECDS file');
        await sleep(100);
      }
      await put(2, 'bc_during');
      expect((await clients.cluster1.RawPut({ context: ctx(), key: b('after_k'), value: b('a') })).error).toBeFalsy();
      await put(3, 'bc_last');
      call.end();
    } finally { raw.close(); }
    const keys = rawHex();
    for (const k of ['bc_before', 'bc_during', 'bc_last']) expect(keys).toContain(hex(Buffer.concat([RAW(1), b(k)])));
    expect(keys).toContain(hex(Buffer.concat([RAW(5), b('after_k')])));
    expect(keys).not.toContain(hex(Buffer.concat([RAW(1), b('after_k')])));
    expect(inbound.exited()).toBeNull();
  });
});

describe('stats from the server Envoy admin endpoint', () => {
  test('per tenant and reason', async () => {
    needSetup();
    const st = await stats(inbound);
    expect(st).toEqual({
      // RawPut + RawGet, the BatchCommands stream, the RawPut after the reconfiguration
      'wasmcustom.tidb_mesh.tenant.cluster1.calls_rewritten': 4,
      // in_k twice, bc_before, bc_during, bc_last, after_k
      'wasmcustom.tidb_mesh.tenant.cluster1.keys_rewritten': 6,
      'wasmcustom.tidb_mesh.tenant.cluster1.calls_denied.denied_method': 1,
      'wasmcustom.tidb_mesh.tenant.cluster2.calls_rewritten': 2,
      'wasmcustom.tidb_mesh.tenant.cluster2.keys_rewritten': 2,
      'wasmcustom.tidb_mesh.unknown.calls_denied.unknown_tenant': 1,
      'wasmcustom.tidb_mesh.unknown.calls_denied.no_peer_identity': 1,
      'wasmcustom.tidb_mesh.passthrough.basic-storage.calls_passed': 2,
    });
    // The Prometheus view, with the stats_tags of docs/identity.md.
    const prom = (await inbound.admin('/stats/prometheus')).body.split('\n');
    for (const line of [
      'tidb_mesh_tenant_calls_rewritten{tidb_mesh_tenant="cluster1"} 4',
      'tidb_mesh_tenant_calls_denied{tidb_mesh_tenant="cluster1",tidb_mesh_reason="denied_method"} 1',
      'tidb_mesh_unknown_calls_denied{tidb_mesh_reason="no_peer_identity"} 1',
      'tidb_mesh_passthrough_calls_passed{tidb_mesh_passthrough="basic-storage"} 2',
    ]) expect(prom).toContain(line);
  });
});
