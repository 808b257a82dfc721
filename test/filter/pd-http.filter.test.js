'use strict';
// The compiled filter (dist/tidb-mesh.wasm) under the JS proxy-wasm host, for PD's HTTP API:
// keyless reads pass, the TiFlash rule group is answered locally, query/path keys and JSON
// bodies are rewritten in both directions (bodies in any chunking), and every refusal is an
// HTTP reply with a JSON body counted in the filter's stats. No callback may trap.
const fs = require('fs');
const path = require('path');
const { ProxyWasmHost, FilterHeadersStatus } = require('../host/proxy-wasm-host');
const { E, P, qe, qu, hex } = require('../pdhttp/pdhttp');

const FILTER = path.join(__dirname, '..', '..', 'dist', 'tidb-mesh.wasm');
const CONFIG = JSON.stringify({
  version: 1, direction: 'outbound', mode: 'api-v2', maxMessageBytes: 4096,
  tenants: [
    { name: 'cluster1', keyspaceId: 1, match: { namespace: 'tidb', labels: { 'app.kubernetes.io/instance': 'cluster1' } } },
    { name: 'cluster2', keyspaceId: 2, match: { namespace: 'tidb', labels: { 'app.kubernetes.io/instance': 'cluster2' } } },
  ],
});
const META = (inst) => ({ NAMESPACE: 'tidb', LABELS: { 'app.kubernetes.io/instance': inst } });
const HTTP = (method, p, extra = {}) => ({ ':method': method, ':path': p, ':authority': 'pd:2379', 'user-agent': 'Go-http-client/1.1', 'accept-encoding': 'gzip', ...extra });
const JSON_RESP = (extra = {}) => ({ ':status': '200', 'content-type': 'application/json; charset=UTF-8', ...extra });

const hosts = [];
function load(inst = 'cluster1') {
  const h = ProxyWasmHost.loadSync(fs.readFileSync(FILTER), { rootId: 'tidb-mesh', config: CONFIG, nodeMetadata: META(inst), logLevel: 'warn' });
  hosts.push(h);
  return h;
}
let host;
beforeAll(() => { host = load(); expect(host.configured).toBe(true); });
afterAll(() => { for (const h of hosts) expect({ traps: h.traps, log: h.trapLog }).toEqual({ traps: 0, log: h.trapLog }); });

/** The local reply as the client sees it: {status, contentType, json}. */
function reply(s) {
  const lr = s.localReply;
  if (!lr) return null;
  const hdr = Object.fromEntries(lr.sent.headers);
  return { status: Number(hdr[':status']), contentType: hdr['content-type'], json: JSON.parse(Buffer.from(lr.body).toString()) };
}

/** Splits a buffer into chunks of `size` bytes. */
function chunks(buf, size) {
  const out = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out.length ? out : [Buffer.alloc(0)];
}

/** One whole exchange; returns what each side forwarded. */
function exchange(h, method, p, { reqBody = null, respBody = '', respHeaders = JSON_RESP(), reqChunk = 1e9, respChunk = 1e9, extra = {} } = {}) {
  const s = h.newStream();
  const body = reqBody === null ? null : Buffer.from(typeof reqBody === 'string' ? reqBody : JSON.stringify(reqBody));
  const hdrs = HTTP(method, p, body ? { 'content-type': 'application/json', 'content-length': String(body.length), ...extra } : extra);
  const rh = s.requestHeaders(hdrs, body === null);
  const fwdReq = [];
  if (body !== null && !s.localReply) {
    const cs = chunks(body, reqChunk);
    cs.forEach((c, i) => fwdReq.push(s.requestBody(c, i === cs.length - 1).forwarded));
  }
  let resp = null;
  if (!s.localReply) {
    const r = s.responseHeaders(respHeaders, false);
    const rb = Buffer.from(respBody);
    const cs = chunks(rb, respChunk);
    const fwd = [];
    cs.forEach((c, i) => fwd.push(s.responseBody(c, i === cs.length - 1).forwarded));
    resp = { headers: r.headers, body: Buffer.concat(fwd).toString() };
  }
  const out = { request: rh.headers, requestAction: rh.action, requestBody: Buffer.concat(fwdReq).toString(), response: resp, reply: reply(s), localReply: s.localReply };
  s.done();
  return out;
}

const metric = (h, name) => h.metrics()[name] || 0;

describe('PD HTTP through the compiled filter', () => {
  test('a keyless read passes untouched both ways (headers, accept-encoding and body)', () => {
    const before = metric(host, 'tidb_mesh.tenant.cluster1.calls_passed');
    const body = '{\n  "version": "8.5.0"\n}';
    const r = exchange(host, 'GET', '/pd/api/v1/status', { respBody: body, respHeaders: JSON_RESP({ 'content-length': String(body.length) }), respChunk: 5 });
    expect(r.requestAction).toBe(FilterHeadersStatus.Continue);
    expect(r.request[':path']).toBe('/pd/api/v1/status');
    expect(r.request['accept-encoding']).toBe('gzip');
    expect(r.response.headers['content-length']).toBe(String(body.length));
    expect(r.response.body).toBe(body);
    expect(r.reply).toBeNull();
    expect(metric(host, 'tidb_mesh.tenant.cluster1.calls_passed')).toBe(before + 1);
  });

  test('GET rule_group/tiflash is answered by the filter (200 JSON), never forwarded', () => {
    const r = exchange(host, 'GET', '/pd/api/v1/config/rule_group/tiflash');
    expect(r.requestAction).not.toBe(FilterHeadersStatus.Continue);
    expect(r.reply).toEqual({ status: 200, contentType: 'application/json', json: { id: 'tiflash', index: 120, override: false } });
    expect(metric(host, 'tidb_mesh.tenant.cluster1.calls_emulated')).toBeGreaterThan(0);
  });

  test('stats/region: query keys prefixed in :path; the keyless answer passes untouched', () => {
    const r = exchange(host, 'GET', `/pd/api/v1/stats/region?start_key=${qe(E('t\x80a'))}&end_key=${qe(E('t\x80b'))}`, { respBody: '{"count":1}' });
    const q = new URL('http://x' + r.request[':path']).searchParams;
    expect(r.request[':path'].startsWith('/pd/api/v1/stats/region?')).toBe(true);
    const param = (n) => qu(r.request[':path'].split('?')[1].split('&').find((kv) => kv.startsWith(n + '=')).split('=')[1]);
    expect(hex(param('start_key'))).toBe(hex(E(P(1, 't\x80a'))));
    expect(hex(param('end_key'))).toBe(hex(E(P(1, 't\x80b'))));
    expect(q.has('start_key')).toBe(true);
    expect(r.request['accept-encoding']).toBe('gzip');
    expect(r.response.body).toBe('{"count":1}');
  });

  test('a label rule POSTed in any chunking reaches PD scoped and prefixed; content-length removed', () => {
    const rule = { id: 'schema/test/t1', index: 0, labels: [{ key: 'k', value: 'v' }], rule_type: 'key-range', data: [{ start_key: hex(E('a')), end_key: hex(E('b')) }] };
    const expected = JSON.stringify({ ...rule, id: 'tidb-mesh/1/schema/test/t1', data: [{ start_key: hex(E(P(1, 'a'))), end_key: hex(E(P(1, 'b'))) }] });
    for (const size of [1, 7, 64, 1e9]) {
      const r = exchange(host, 'POST', '/pd/api/v1/config/region-label/rule', { reqBody: rule, reqChunk: size, respBody: '"Update region label rule successfully."' });
      expect([size, r.requestBody]).toEqual([size, expected]);
      expect(r.request['content-length']).toBeUndefined();
      expect(r.response.body).toBe('"Update region label rule successfully."');
    }
  });

  test('GET rules: the answer is collected, filtered to the tenant and stripped; accept-encoding removed', () => {
    const rules = [
      { id: 'keyspaces/0', labels: [{ key: 'id', value: '0' }], rule_type: 'key-range', data: [{ start_key: '7800000000000000fb', end_key: '7800000100000000fb' }] },
      { id: 'tidb-mesh/1/schema/test/t1', labels: [], rule_type: 'key-range', data: [{ start_key: hex(E(P(1, 'a'))), end_key: hex(E(P(1, 'b'))) }] },
      { id: 'tidb-mesh/2/schema/test/t1', labels: [], rule_type: 'key-range', data: [{ start_key: hex(E(P(2, 'a'))), end_key: hex(E(P(2, 'b'))) }] },
    ];
    const body = JSON.stringify(rules, null, 2);
    for (const size of [1, 13, 1e9]) {
      const r = exchange(host, 'GET', '/pd/api/v1/config/region-label/rules', { respBody: body, respChunk: size, respHeaders: JSON_RESP({ 'content-length': String(body.length) }) });
      expect(r.request['accept-encoding']).toBeUndefined();
      expect(r.response.headers['content-length']).toBeUndefined();
      expect(JSON.parse(r.response.body)).toEqual([{ id: 'schema/test/t1', labels: [], rule_type: 'key-range', data: [{ start_key: hex(E('a')), end_key: hex(E('b')) }] }]);
    }
    expect(metric(host, 'tidb_mesh.tenant.cluster1.responses_filtered')).toBeGreaterThan(0);
    const r2 = exchange(load('cluster2'), 'GET', '/pd/api/v1/config/region-label/rules', { respBody: body });
    expect(JSON.parse(r2.response.body).map((x) => x.id)).toEqual(['schema/test/t1']);
  });

  test('TiDB\'s GET .../rules/ids with a body: ids scoped on the way in, rules stripped on the way out', () => {
    const r = exchange(host, 'GET', '/pd/api/v1/config/region-label/rules/ids', {
      reqBody: ['schema/test/t1'],
      respBody: JSON.stringify([{ id: 'tidb-mesh/1/schema/test/t1', labels: [], rule_type: 'key-range', data: [{ start_key: hex(E(P(1, 'a'))), end_key: hex(E(P(2))) }] }]),
    });
    expect(r.requestBody).toBe('["tidb-mesh/1/schema/test/t1"]');
    expect(JSON.parse(r.response.body)[0]).toMatchObject({ id: 'schema/test/t1', data: [{ start_key: hex(E('a')), end_key: '' }] });
  });

  test('regions/key: regions outside the keyspace dropped, count fixed, keys clamped', () => {
    const reg = (id, s, e) => ({ id, start_key: s === '' ? '' : hex(E(s)).toUpperCase(), end_key: e === '' ? '' : hex(E(e)).toUpperCase() });
    const body = JSON.stringify({ count: 3, regions: [reg(2, '', P(1)), reg(10, P(1), P(1, 'm')), reg(11, P(1, 'm'), '')] });
    const r = exchange(host, 'GET', `/pd/api/v1/regions/key?key=${qe(E('a'))}&end_key=&limit=3`, { respBody: body, respHeaders: { ':status': '200', 'content-type': 'application/octet-stream' } });
    expect(JSON.parse(r.response.body)).toEqual({ count: 2, regions: [reg(10, '', 'm'), reg(11, 'm', '')] });
  });

  test.each([
    ['POST', '/pd/api/v1/config', 403, 'denied_route', /POST \/pd\/api\/v1\/config is denied: PD configuration is cluster-wide/],
    ['POST', '/pd/api/v1/config/rule_group', 403, 'denied_route', /rule groups are cluster-wide/],
    ['DELETE', '/pd/api/v1/store/1', 403, 'denied_route', /not on the PD HTTP allowlist/],
    ['GET', '/pd/api/v1/regions', 404, 'unknown_route', /unknown routes are refused/],
    ['GET', '/pd/api/v1/stats/region?start_key=zz', 400, 'malformed', /malformed request: a key is not a valid memcomparable key/],
  ])('%s %s -> %i with a JSON error, counted', (method, p, status, reason, msg) => {
    const before = metric(host, `tidb_mesh.tenant.cluster1.calls_denied.${reason}`);
    const r = exchange(host, method, p, { reqBody: method === 'GET' ? null : '{}' });
    expect(r.requestAction).not.toBe(FilterHeadersStatus.Continue);
    expect(r.reply.status).toBe(status);
    expect(r.reply.contentType).toBe('application/json');
    expect(r.reply.json.error).toMatch(/^tidb-mesh: /);
    expect(r.reply.json.error).toMatch(msg);
    expect(r.localReply.details).toBe(`tidb_mesh_${reason}`);
    expect(metric(host, `tidb_mesh.tenant.cluster1.calls_denied.${reason}`)).toBe(before + 1);
  });

  test('a malformed or oversized request body -> 400 / 413 before PD sees the body', () => {
    const bad = exchange(host, 'POST', '/pd/api/v1/config/region-label/rule', { reqBody: '{"id":"a","data":[{"start_key":"zz","end_key":""}]}' });
    expect(bad.reply.status).toBe(400);
    expect(bad.requestBody).toBe('');
    expect(bad.reply.json.error).toMatch(/malformed request: "start_key" is not a hex key/);
    const big = exchange(host, 'PATCH', '/pd/api/v1/config/region-label/rules', { reqBody: JSON.stringify({ deletes: Array(600).fill('schema/x/y') }), reqChunk: 1000 });
    expect(big.reply.status).toBe(413);
    expect(big.reply.json.error).toMatch(/request body larger than maxMessageBytes/);
    const none = exchange(host, 'GET', '/pd/api/v1/config/region-label/rules/ids');
    expect(none.reply.status).toBe(400);
    expect(metric(host, 'tidb_mesh.tenant.cluster1.frames_rejected.malformed')).toBeGreaterThan(0);
    expect(metric(host, 'tidb_mesh.tenant.cluster1.frames_rejected.oversize')).toBeGreaterThan(0);
  });

  test('a response that fails its check is never forwarded (Envoy resets after the headers)', () => {
    const body = JSON.stringify([{ id: 'tidb-mesh/1/x', labels: [], rule_type: 'key-range', data: [{ start_key: hex(E(P(2, 'SECRET'))), end_key: hex(E(P(2, 'z'))) }] }]);
    const r = exchange(host, 'GET', '/pd/api/v1/config/region-label/rules', { respBody: body, respChunk: 10 });
    expect(r.response.body).not.toMatch(/[0-9a-f]{10}/);
    expect(r.response.body).toBe('');
    expect(r.localReply.status).toBe(502);
    expect(JSON.parse(Buffer.from(r.localReply.body).toString()).error).toMatch(/response key outside the tenant keyspace/);
    expect(metric(host, 'tidb_mesh.tenant.cluster1.frames_rejected.out_of_keyspace')).toBeGreaterThan(0);
  });

  test('a compressed answer on a rewritten route -> 502 at the headers', () => {
    const r = exchange(host, 'GET', '/pd/api/v1/config/region-label/rules', { respHeaders: JSON_RESP({ 'content-encoding': 'gzip' }), respBody: 'xx' });
    expect(r.response.body).toBe('');
    expect(r.localReply.status).toBe(502);
    expect(metric(host, 'tidb_mesh.tenant.cluster1.frames_rejected.compressed')).toBe(1);
  });

  test('PD\'s own errors (non-200) pass as they are', () => {
    const r = exchange(host, 'GET', '/pd/api/v1/config/region-label/rules', { respHeaders: { ':status': '500', 'content-type': 'application/json' }, respBody: '"[PD:cluster:ErrNotBootstrapped]"' });
    expect(r.response.body).toBe('"[PD:cluster:ErrNotBootstrapped]"');
  });

  test('a workload that is no tenant gets 403 JSON for PD HTTP (the gate is unchanged)', () => {
    const h = load('cluster9');
    const r = exchange(h, 'GET', '/pd/api/v1/status');
    expect(r.reply.status).toBe(403);
    expect(r.reply.json).toEqual({ error: 'tidb-mesh: caller matches no tenant' });
    expect(metric(h, 'tidb_mesh.unknown.calls_denied.unknown_tenant')).toBe(1);
  });

  test('gRPC to a /pd/api/ path still takes the gRPC allowlist', () => {
    const s = host.newStream();
    s.requestHeaders({ ':method': 'POST', ':path': '/pd/api/v1/status', 'content-type': 'application/grpc', te: 'trailers' }, false);
    expect(s.localReply.grpcStatus).toBe(12);
    s.done();
  });
});
