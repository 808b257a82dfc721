'use strict';
// Tests for the JS proxy-wasm host (test/host/proxy-wasm-host.js).
//  1. the real compiled filter (dist/tidb-mesh.wasm) loads, configures and passes a stream
//     through without traps (assertions are generic: the filter will later rewrite bodies);
//  2. a hand-assembled probe module (bytes built below, no toolchain needed) whose callbacks call
//     back into a JS hook; the hook drives the host's imports *through the guest* (exported
//     trampolines), so pointers, malloc and out-params are exercised exactly as a filter would;
//  3. the host's pure buffer/pairs logic, unit-tested directly.

const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const {
  ProxyWasmHost, WasmResult, FilterHeadersStatus, FilterDataStatus, _internals,
} = require('./proxy-wasm-host');

const ROOT = path.resolve(__dirname, '..', '..');
const FILTER = path.join(ROOT, 'dist', 'tidb-mesh.wasm');
const EXAMPLE_CONFIG = fs.readFileSync(path.join(ROOT, 'schema', 'example-config.json'), 'utf8');
const NODE_METADATA = {
  NAMESPACE: 'tidb',
  LABELS: { 'app.kubernetes.io/instance': 'cluster1', 'app.kubernetes.io/component': 'tidb' },
};

// ------------------------------------------------------------------------------------------
// Minimal wasm binary assembler (enough for the probe module).
const I32 = 0x7f, I64 = 0x7e;
function uleb(n) { const o = []; do { let b = n & 0x7f; n >>>= 7; if (n) b |= 0x80; o.push(b); } while (n); return o; }
function sleb(n) {
  const o = [];
  for (;;) {
    const b = n & 0x7f; n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && (b & 0x40))) { o.push(b); return o; }
    o.push(b | 0x80);
  }
}
function str(s) { const b = Buffer.from(s, 'utf8'); return [...uleb(b.length), ...b]; }
function vec(items) { return [...uleb(items.length), ...items.flat()]; }
function section(id, bytes) { return [id, ...uleb(bytes.length), ...bytes]; }

const ENV_IMPORTS = [
  ['proxy_get_property', [I32, I32, I32, I32]],
  ['proxy_get_buffer_status', [I32, I32, I32]],
  ['proxy_get_buffer_bytes', [I32, I32, I32, I32, I32]],
  ['proxy_set_buffer_bytes', [I32, I32, I32, I32, I32]],
  ['proxy_send_local_response', [I32, I32, I32, I32, I32, I32, I32, I32]],
  ['proxy_log', [I32, I32, I32]],
  ['proxy_get_header_map_value', [I32, I32, I32, I32, I32]],
  ['proxy_add_header_map_value', [I32, I32, I32, I32, I32]],
  ['proxy_replace_header_map_value', [I32, I32, I32, I32, I32]],
  ['proxy_remove_header_map_value', [I32, I32, I32]],
  ['proxy_get_header_map_pairs', [I32, I32, I32]],
  ['proxy_set_header_map_pairs', [I32, I32, I32]],
  ['proxy_define_metric', [I32, I32, I32, I32]],
  ['proxy_increment_metric', [I32, I64]],
  ['proxy_record_metric', [I32, I64]],
  ['proxy_get_metric', [I32, I32]],
];

/**
 * Probe module: every proxy_on_* callback calls the imported test.hook(kind, a, b, c) and returns
 * its result; t_<import> trampolines re-export each env import; `trap` executes unreachable;
 * `grow` grows memory; malloc is a bump allocator starting at 0x8000.
 */
function buildProbeModule() {
  const types = [], typeIdx = (params, results) => {
    const key = `${params.join(',')}:${results.join(',')}`;
    let i = types.findIndex((t) => t.key === key);
    if (i < 0) { types.push({ key, bytes: [0x60, ...vec(params.map((p) => [p])), ...vec(results.map((r) => [r]))] }); i = types.length - 1; }
    return i;
  };
  const imports = ENV_IMPORTS.map(([name, params]) => ({ mod: 'env', name, type: typeIdx(params, [I32]), params }));
  imports.push({ mod: 'test', name: 'hook', type: typeIdx([I32, I32, I32, I32], [I32]), params: [I32, I32, I32, I32] });
  const HOOK = imports.length - 1;
  const funcs = []; // {name, type, body: bytes}
  const lg = (i) => [0x20, ...uleb(i)];
  const hookCall = (kind, nparams, hasResult) => {
    const body = [0x41, ...sleb(kind)];
    for (let i = 0; i < 3; i++) body.push(...(i < nparams ? lg(i) : [0x41, 0]));
    body.push(0x10, ...uleb(HOOK));
    if (!hasResult) body.push(0x1a);
    return body;
  };
  const cb = (name, kind, nparams, hasResult = true) => funcs.push({
    name, type: typeIdx(Array(nparams).fill(I32), hasResult ? [I32] : []), body: hookCall(kind, nparams, hasResult),
  });
  funcs.push({ name: 'malloc', type: typeIdx([I32], [I32]), body: [0x23, 0, 0x23, 0, ...lg(0), 0x6a, 0x24, 0] });
  funcs.push({ name: 'proxy_abi_version_0_2_0', type: typeIdx([], []), body: [] });
  cb('proxy_on_context_create', 0, 2, false);
  cb('proxy_on_vm_start', 10, 2);
  cb('proxy_on_configure', 11, 2);
  cb('proxy_on_request_headers', 1, 3);
  cb('proxy_on_request_body', 2, 3);
  cb('proxy_on_request_trailers', 3, 2);
  cb('proxy_on_response_headers', 4, 3);
  cb('proxy_on_response_body', 5, 3);
  cb('proxy_on_response_trailers', 6, 2);
  cb('proxy_on_log', 7, 1, false);
  cb('proxy_on_done', 8, 1);
  cb('proxy_on_delete', 9, 1, false);
  funcs.push({ name: 'trap', type: typeIdx([], [I32]), body: [0x00] });
  funcs.push({ name: 'grow', type: typeIdx([I32], [I32]), body: [...lg(0), 0x40, 0x00] });
  imports.forEach((imp, i) => {
    if (imp.mod !== 'env') return;
    funcs.push({ name: `t_${imp.name}`, type: imp.type, body: [...imp.params.flatMap((_, j) => lg(j)), 0x10, ...uleb(i)] });
  });
  const nImp = imports.length;
  const bytes = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  bytes.push(...section(1, vec(types.map((t) => t.bytes))));
  bytes.push(...section(2, vec(imports.map((imp) => [...str(imp.mod), ...str(imp.name), 0x00, ...uleb(imp.type)]))));
  bytes.push(...section(3, vec(funcs.map((f) => uleb(f.type)))));
  bytes.push(...section(5, vec([[0x00, ...uleb(2)]])));
  bytes.push(...section(6, vec([[I32, 0x01, 0x41, ...sleb(0x8000), 0x0b]])));
  const exportsList = [[...str('memory'), 0x02, 0x00], ...funcs.map((f, i) => [...str(f.name), 0x00, ...uleb(nImp + i)])];
  bytes.push(...section(7, vec(exportsList)));
  bytes.push(...section(10, vec(funcs.map((f) => { const body = [0x00, ...f.body, 0x0b]; return [...uleb(body.length), ...body]; }))));
  return Buffer.from(bytes);
}

const KIND = { ctx: 0, reqHeaders: 1, reqBody: 2, reqTrailers: 3, respHeaders: 4, respBody: 5, respTrailers: 6, log: 7, done: 8, del: 9, vmStart: 10, configure: 11 };
const SCRATCH = 0x100; // scratch area for strings passed to imports
const OUT_PTR = 0x40, OUT_SIZE = 0x44; // out-params

/** Load the probe module; `handlers[kind](g, a, b, c)` -> number, g = guest helper. */
function loadProbe(handlers = {}, opts = {}) {
  let host;
  const g = {
    get ex() { return host.instance.exports; },
    mem() { return Buffer.from(host.instance.exports.memory.buffer); },
    put(s, at = SCRATCH) { const b = Buffer.from(s); this.mem().set(b, at); return [at, b.length]; },
    out() { const m = this.mem(); return { ptr: m.readUInt32LE(OUT_PTR), size: m.readUInt32LE(OUT_SIZE) }; },
    outBytes() { const { ptr, size } = this.out(); return Buffer.from(this.mem().subarray(ptr, ptr + size)); },
    clearOut() { this.mem().fill(0xee, OUT_PTR, OUT_PTR + 8); },
    getProperty(p) { this.clearOut(); const [a, n] = this.put(p); const r = this.ex.t_proxy_get_property(a, n, OUT_PTR, OUT_SIZE); return { r, value: r === 0 ? this.outBytes() : null }; },
    bufferStatus(type) { const r = this.ex.t_proxy_get_buffer_status(type, OUT_PTR, OUT_SIZE); return { r, length: this.out().ptr }; },
    bufferBytes(type, start, len) { this.clearOut(); const r = this.ex.t_proxy_get_buffer_bytes(type, start, len, OUT_PTR, OUT_SIZE); return { r, bytes: r === 0 ? this.outBytes() : null }; },
    setBufferBytes(type, start, len, data) { const [a, n] = this.put(data); return this.ex.t_proxy_set_buffer_bytes(type, start, len, a, n); },
    header(type, k) { this.clearOut(); const [a, n] = this.put(k); const r = this.ex.t_proxy_get_header_map_value(type, a, n, OUT_PTR, OUT_SIZE); return { r, value: r === 0 ? this.outBytes().toString() : null }; },
    addHeader(type, k, v) { const [ka, kn] = this.put(k); const [va, vn] = this.put(v, SCRATCH + 0x200); return this.ex.t_proxy_add_header_map_value(type, ka, kn, va, vn); },
    replaceHeader(type, k, v) { const [ka, kn] = this.put(k); const [va, vn] = this.put(v, SCRATCH + 0x200); return this.ex.t_proxy_replace_header_map_value(type, ka, kn, va, vn); },
    removeHeader(type, k) { const [ka, kn] = this.put(k); return this.ex.t_proxy_remove_header_map_value(type, ka, kn); },
    pairs(type) { this.clearOut(); const r = this.ex.t_proxy_get_header_map_pairs(type, OUT_PTR, OUT_SIZE); return { r, pairs: r === 0 ? _internals.deserializePairs(this.outBytes()) : null }; },
    setPairs(type, pairs) { const [a, n] = this.put(_internals.serializePairs(pairs)); return this.ex.t_proxy_set_header_map_pairs(type, a, n); },
    localReply(status, details, body, headers, grpc) {
      const [da, dn] = this.put(details, SCRATCH); const [ba, bn] = this.put(body, SCRATCH + 0x100);
      const [ha, hn] = this.put(_internals.serializePairs(headers), SCRATCH + 0x200);
      return this.ex.t_proxy_send_local_response(status, da, dn, ba, bn, ha, hn, grpc);
    },
    log(level, msg) { const [a, n] = this.put(msg); return this.ex.t_proxy_log(level, a, n); },
  };
  const hook = (kind, a, b, c) => {
    const h = handlers[kind];
    if (h) return h(g, a, b, c) | 0;
    return kind === KIND.vmStart || kind === KIND.configure || kind === KIND.done ? 1 : 0;
  };
  // constructor + start() (instead of loadSync) so the hook can reach the instance during start-up
  host = new ProxyWasmHost(new WebAssembly.Module(buildProbeModule()), { rootId: 'probe-root', extraImports: { test: { hook } }, ...opts });
  host.start();
  return { host, g };
}

// ------------------------------------------------------------------------------------------

describe('real filter (dist/tidb-mesh.wasm)', () => {
  beforeAll(() => {
    if (!fs.existsSync(FILTER)) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  }, 120000);

  test('every import of the compiled filter is provided by the host', async () => {
    const mod = new WebAssembly.Module(fs.readFileSync(FILTER));
    const host = await ProxyWasmHost.load(mod, { rootId: 'tidb-mesh', config: EXAMPLE_CONFIG, nodeMetadata: NODE_METADATA });
    expect(host.traps).toBe(0);
    for (const imp of WebAssembly.Module.imports(mod)) expect(['env', 'wasi_unstable', 'wasi_snapshot_preview1']).toContain(imp.module);
  });

  test('loads, configures and passes a gRPC stream without traps', async () => {
    const host = await ProxyWasmHost.load(FILTER, {
      rootId: 'tidb-mesh', config: EXAMPLE_CONFIG, nodeMetadata: NODE_METADATA, metadataPaths: 'both',
    });
    expect(host.traps).toBe(0);
    expect(host.failed).toBe(false);
    expect(host.configured).toBe(true);
    expect(host.memoryBytes()).toBeGreaterThan(0);

    const s = host.newStream({ peerPrincipal: 'spiffe://cluster.local/ns/tidb/sa/cluster1-tidb' });
    const h = s.requestHeaders({ ':method': 'POST', ':path': '/tikvpb.Tikv/RawGet', ':authority': 'tikv:20160', 'content-type': 'application/grpc', te: 'trailers' }, false);
    expect(Object.values(FilterHeadersStatus)).toContain(h.action);
    expect(h.headers['content-type']).toBe('application/grpc');
    // an (empty) gRPC message split across three chunks: 5-byte frame header + payload
    const frame = Buffer.from([0, 0, 0, 0, 2, 0x0a, 0x00]);
    const chunks = [frame.subarray(0, 2), frame.subarray(2, 5), frame.subarray(5)];
    let forwarded = 0;
    chunks.forEach((c, i) => {
      const r = s.requestBody(c, i === chunks.length - 1);
      if (r.action !== null) expect(Object.values(FilterDataStatus)).toContain(r.action);
      forwarded += r.forwarded.length;
    });
    if (!s.localReply) {
      expect(forwarded).toBeGreaterThan(0);
      s.responseHeaders({ ':status': '200', 'content-type': 'application/grpc' }, false);
      s.responseBody(Buffer.from([0, 0, 0, 0, 0]), false);
      s.responseTrailers({ 'grpc-status': '0' });
    }
    s.done();
    expect(host.traps).toBe(0);
    expect(host.trapLog).toEqual([]);
  });

  test('reconfigure creates a fresh root context (Envoy style) without traps', async () => {
    const host = await ProxyWasmHost.load(FILTER, { rootId: 'tidb-mesh', config: EXAMPLE_CONFIG, nodeMetadata: NODE_METADATA });
    expect(host.reconfigure(EXAMPLE_CONFIG)).toBe(true);
    expect(host.reconfigure(EXAMPLE_CONFIG, { sameRoot: true })).toBe(true);
    const s = host.newStream();
    s.requestHeaders({ ':path': '/x', 'content-type': 'application/grpc' }, true);
    s.done();
    expect(host.traps).toBe(0);
  });

  test('many streams stay fast and leak-free enough for benchmarks', async () => {
    const host = await ProxyWasmHost.load(FILTER, { rootId: 'tidb-mesh', config: EXAMPLE_CONFIG, nodeMetadata: NODE_METADATA });
    const t0 = Date.now();
    for (let i = 0; i < 500; i++) {
      const s = host.newStream();
      s.requestHeaders({ ':path': '/tikvpb.Tikv/RawGet', 'content-type': 'application/grpc' }, false);
      s.requestBody(Buffer.from([0, 0, 0, 0, 0]), true);
      s.done();
    }
    expect(host.traps).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});

describe('probe module: ABI through the guest', () => {
  test('load-time: unknown imports are rejected with a clear error', () => {
    expect(() => ProxyWasmHost.loadSync(buildProbeModule(), { rootId: 'x' })).toThrow(/test\.hook/);
  });

  test('start-up sequence, root context id, plugin configuration buffer', () => {
    const seen = [];
    const { host } = loadProbe({
      [KIND.ctx]: (g, id, parent) => { seen.push(['create', id, parent]); return 0; },
      [KIND.vmStart]: (g, id, size) => { seen.push(['vm_start', id, size]); return 1; },
      [KIND.configure]: (g, id, size) => {
        seen.push(['configure', id, size]);
        const b = g.bufferBytes(7, 0, size);
        seen.push(['config', b.r, b.bytes.toString()]);
        expect(g.bufferStatus(7)).toEqual({ r: 0, length: size });
        expect(g.setBufferBytes(7, 0, 0, 'x')).toBe(WasmResult.BadArgument);
        return 1;
      },
    }, { config: '{"a":1}', vmConfig: 'vm' });
    expect(host.configured).toBe(true);
    expect(seen).toEqual([['create', 1, 0], ['vm_start', 1, 2], ['configure', 1, 7], ['config', 0, '{"a":1}']]);
  });

  test('on_configure returning false -> configured=false', () => {
    const { host } = loadProbe({ [KIND.configure]: () => 0 }, { config: 'bad' });
    expect(host.configured).toBe(false);
    expect(host.failed).toBe(false);
  });

  test('properties: NUL paths, node metadata (both/xds/node forms), principal, NOT_FOUND', () => {
    const got = {};
    const paths = [
      'plugin_root_id', 'plugin_name', 'plugin_vm_id',
      'xds\0node\0metadata\0NAMESPACE', 'node\0metadata\0NAMESPACE',
      'xds\0node\0metadata\0LABELS\0app', 'xds\0node\0metadata\0LABELS\0missing',
      'xds\0node\0metadata\0NOPE', 'connection\0uri_san_peer_certificate', 'no\0such\0thing',
      'xds\0node\0metadata\0LABELS',
    ];
    const handler = (g) => { for (const p of paths) got[p] = g.getProperty(p); return 0; };
    const run = (metadataPaths, streamOpts) => {
      const { host } = loadProbe({ [KIND.reqHeaders]: handler }, {
        metadataPaths, vmId: 'vm1', pluginName: 'plug',
        nodeMetadata: { NAMESPACE: 'tidb', LABELS: { app: 'tidb', tier: 'db' } },
      });
      host.newStream(streamOpts).requestHeaders({ ':path': '/' }, true);
      expect(host.traps).toBe(0);
      return host;
    };
    run('both', { peerPrincipal: 'spiffe://td/ns/a/sa/b' });
    const str = (p) => got[p].value && got[p].value.toString();
    expect(str('plugin_root_id')).toBe('probe-root');
    expect(str('plugin_name')).toBe('plug');
    expect(str('plugin_vm_id')).toBe('vm1');
    expect(str('xds\0node\0metadata\0NAMESPACE')).toBe('tidb');
    expect(str('node\0metadata\0NAMESPACE')).toBe('tidb');
    expect(str('xds\0node\0metadata\0LABELS\0app')).toBe('tidb');
    expect(str('connection\0uri_san_peer_certificate')).toBe('spiffe://td/ns/a/sa/b');
    expect(got['xds\0node\0metadata\0LABELS\0missing'].r).toBe(WasmResult.NotFound);
    expect(got['xds\0node\0metadata\0NOPE'].r).toBe(WasmResult.NotFound);
    expect(got['no\0such\0thing'].r).toBe(WasmResult.NotFound);
    expect(_internals.deserializePairs(got['xds\0node\0metadata\0LABELS'].value)).toEqual([['app', 'tidb'], ['tier', 'db']]);

    run('xds', {});
    expect(str('xds\0node\0metadata\0NAMESPACE')).toBe('tidb');
    expect(got['node\0metadata\0NAMESPACE'].r).toBe(WasmResult.NotFound);
    expect(got['connection\0uri_san_peer_certificate'].r).toBe(WasmResult.NotFound);

    run('node', {});
    expect(got['xds\0node\0metadata\0NAMESPACE'].r).toBe(WasmResult.NotFound);
    expect(str('node\0metadata\0NAMESPACE')).toBe('tidb');
  });

  test('property values are raw UTF-8 and empty values come back as (0, 0) without malloc', () => {
    const { host, g } = loadProbe({}, { properties: { 'k\0utf8': 'ключ', 'k\0empty': '' } });
    expect(host.getProperty('k\0utf8').value.toString('utf8')).toBe('ключ');
    const before = host.instance.exports.malloc(0);
    const r = g.getProperty('k\0empty');
    expect(r.r).toBe(0);
    expect(g.out()).toEqual({ ptr: 0, size: 0 });
    expect(host.instance.exports.malloc(0)).toBe(before);
  });

  test('headers: get/add/replace/remove/pairs/set pairs, lower-casing, lifetimes', () => {
    let inBody = null;
    const { host } = loadProbe({
      [KIND.reqHeaders]: (g, id, n, eos) => {
        expect(n).toBe(3);
        expect(eos).toBe(0);
        expect(g.header(0, ':PATH')).toEqual({ r: 0, value: '/svc/M' });
        expect(g.header(0, 'absent').r).toBe(WasmResult.NotFound);
        expect(g.header(2, ':status').r).toBe(WasmResult.BadArgument); // response map not available yet
        expect(g.addHeader(0, 'X-Added', 'v1')).toBe(0);
        expect(g.addHeader(0, 'x-added', 'v2')).toBe(0);
        expect(g.header(0, 'x-added').value).toBe('v1'); // first value
        expect(g.replaceHeader(0, 'x-added', 'only')).toBe(0);
        expect(g.removeHeader(0, 'te')).toBe(0);
        expect(g.addHeader(0, ':scheme', 'http')).toBe(0); // pseudo-headers stay in front
        const p = g.pairs(0);
        expect(p.pairs).toEqual([[':path', '/svc/M'], [':scheme', 'http'], ['content-type', 'application/grpc'], ['x-added', 'only']]);
        return 0;
      },
      [KIND.reqBody]: (g) => {
        inBody = { get: g.header(0, ':path').r, pairs: g.pairs(0) }; // Envoy dropped the map after Continue
        // mutating trailers from the last body callback creates them (addDecodedTrailers)
        expect(g.addHeader(1, 'x-trailer', 't')).toBe(0);
        return 0;
      },
      [KIND.respHeaders]: (g) => {
        expect(g.setPairs(2, [[':status', '200'], ['X-New', 'n']])).toBe(0);
        return 0;
      },
    });
    const s = host.newStream();
    const r = s.requestHeaders({ ':path': '/svc/M', 'content-type': 'application/grpc', te: 'trailers' }, false);
    expect(r.action).toBe(0);
    expect(r.headers).toEqual({ ':path': '/svc/M', ':scheme': 'http', 'content-type': 'application/grpc', 'x-added': 'only' });
    expect(r.headerPairs[0][0]).toBe(':path');
    expect(r.headerPairs[1][0]).toBe(':scheme');
    const b = s.requestBody('abc', true);
    expect(inBody.get).toBe(WasmResult.BadArgument);
    expect(inBody.pairs).toEqual({ r: 0, pairs: [] });
    expect(b.addedTrailers).toEqual({ 'x-trailer': 't' });
    const rh = s.responseHeaders({ ':status': '500' }, false);
    expect(rh.headers).toEqual({ ':status': '200', 'x-new': 'n' });
    s.done();
    expect(host.traps).toBe(0);
  });

  test('body: current chunk, accumulated buffer after StopIterationAndBuffer, set_buffer_bytes', () => {
    const seen = [];
    const { host } = loadProbe({
      [KIND.reqBody]: (g, id, len, eos) => {
        const st = g.bufferStatus(0);
        const all = g.bufferBytes(0, 0, len);
        seen.push({ len, eos, status: st.length, body: all.bytes.toString() });
        expect(g.bufferBytes(0, 1, 1000).bytes.toString()).toBe(all.bytes.toString().slice(1)); // clamped
        expect(g.bufferBytes(0, len + 5, 3)).toEqual({ r: 0, bytes: Buffer.alloc(0) });
        expect(g.bufferBytes(4, 0, 1).r).toBe(WasmResult.NotFound); // no http call response
        if (!eos) return FilterDataStatus.StopIterationAndBuffer;
        expect(g.setBufferBytes(0, 0, 2, '<<')).toBe(0);  // drain 2, prepend
        expect(g.setBufferBytes(0, 999, 0, '>>')).toBe(0); // append
        expect(g.setBufferBytes(0, 1, 0, '?')).toBe(WasmResult.BadArgument); // middle
        return 0;
      },
      [KIND.respBody]: (g, id, len) => {
        const b = g.bufferBytes(1, 0, len).bytes.toString();
        g.setBufferBytes(1, 0, len, b.toUpperCase()); // replace whole chunk
        return 0;
      },
    });
    const s = host.newStream();
    s.requestHeaders({ ':path': '/' }, false);
    const r1 = s.requestBody('ab', false);
    const r2 = s.requestBody('cd', false);
    const r3 = s.requestBody('ef', true);
    expect(seen.map((x) => [x.len, x.status, x.body])).toEqual([[2, 2, 'ab'], [4, 4, 'abcd'], [6, 6, 'abcdef']]);
    expect([r1.action, r2.action, r3.action]).toEqual([1, 1, 0]);
    expect(r1.forwarded.length + r2.forwarded.length).toBe(0);
    expect(r3.forwarded.toString()).toBe('<<cdef>>');
    s.responseHeaders({ ':status': '200' }, false);
    expect(s.responseBody('xy', false).forwarded.toString()).toBe('XY');
    expect(s.responseBody('z', true).forwarded.toString()).toBe('Z'); // current chunk only
    expect(host.traps).toBe(0);
  });

  test('body: memory growth inside a callback does not break host views', () => {
    const { host } = loadProbe({
      [KIND.reqBody]: (g, id, len) => {
        g.ex.grow(4);
        const b = g.bufferBytes(0, 0, len);
        g.setBufferBytes(0, 0, len, b.bytes.toString().split('').reverse().join(''));
        return 0;
      },
    });
    const s = host.newStream();
    s.requestHeaders({ ':path': '/' }, false);
    const before = host.memoryBytes();
    expect(s.requestBody('abc', true).forwarded.toString()).toBe('cba');
    expect(host.memoryBytes()).toBe(before + 4 * 65536);
  });

  test('headers StopIteration is converted to StopAllIterationAndWatermark and body is held', () => {
    const bodies = [];
    const { host } = loadProbe({ [KIND.reqHeaders]: () => 1, [KIND.reqBody]: (g, id, len) => { bodies.push(len); return 0; } });
    const s = host.newStream();
    const r = s.requestHeaders({ ':path': '/' }, false);
    expect(r.rawAction).toBe(1);
    expect(r.action).toBe(FilterHeadersStatus.StopAllIterationAndWatermark);
    expect(r.forwarded).toBe(false);
    expect(s.requestBody('abc', true)).toMatchObject({ action: null });
    expect(bodies).toEqual([]);
  });

  test('send_local_response: recorded, forces Stop, runs the encode path, later chunks not forwarded', () => {
    const respSeen = [];
    const { host } = loadProbe({
      [KIND.reqHeaders]: (g) => {
        expect(g.localReply(403, 'denied by tidb mesh', 'tenant unknown', [['X-Why', 'nope']], 7)).toBe(0);
        return 0; // ignored: Envoy stops iteration after a local reply
      },
      [KIND.respHeaders]: (g) => { respSeen.push(g.pairs(2).pairs); return 0; },
    });
    const s = host.newStream();
    const r = s.requestHeaders({ ':path': '/tikvpb.Tikv/RawGet', 'content-type': 'application/grpc' }, false);
    expect(r.action).toBe(FilterHeadersStatus.StopAllIterationAndWatermark);
    expect(s.localReply).toMatchObject({
      status: 403, details: 'denied_by_tidb_mesh', grpcStatus: 7, headers: [['x-why', 'nope']], hostFailure: false,
    });
    expect(s.localReply.body.toString()).toBe('tenant unknown');
    // gRPC: trailers-only response through this filter's on_response_headers
    expect(respSeen).toEqual([[[':status', '200'], ['x-why', 'nope'], ['content-type', 'application/grpc'], ['grpc-status', '7'], ['grpc-message', 'tenant unknown']]]);
    expect(s.localReply.sent.body.length).toBe(0);
    const b = s.requestBody('more', true);
    expect(b.action).toBe(null);
    expect(b.forwarded.length).toBe(0);
    s.done();
    expect(host.traps).toBe(0);
  });

  test('send_local_response from a body callback on a plain HTTP request', () => {
    const { host } = loadProbe({
      [KIND.reqBody]: (g) => { g.localReply(400, 'bad', 'oops', [], -1); return 0; },
    });
    const s = host.newStream();
    s.requestHeaders({ ':path': '/', 'content-type': 'text/plain' }, false);
    const r = s.requestBody('x', false);
    expect(r.action).toBe(FilterDataStatus.StopIterationNoBuffer);
    expect(r.forwarded.length).toBe(0);
    expect(s.localReply.grpcStatus).toBe(null);
    expect(s.localReply.sent.headers).toEqual([[':status', '400'], ['content-length', '4'], ['content-type', 'text/plain']]);
    expect(s.localReply.sent.body.toString()).toBe('oops');
  });

  test('metrics and logs', () => {
    const { host } = loadProbe({
      [KIND.configure]: (g) => {
        const def = (type, name) => { const [a, n] = g.put(name); g.ex.t_proxy_define_metric(type, a, n, OUT_PTR); return g.mem().readUInt32LE(OUT_PTR); };
        const c = def(0, 'tidb_mesh_requests'), ga = def(1, 'tidb_mesh_inflight'), h = def(2, 'tidb_mesh_size');
        expect(g.ex.t_proxy_increment_metric(c, 2n)).toBe(0);
        expect(g.ex.t_proxy_increment_metric(c, -1n)).toBe(WasmResult.BadArgument);
        expect(g.ex.t_proxy_increment_metric(ga, 5n)).toBe(0);
        expect(g.ex.t_proxy_increment_metric(ga, -2n)).toBe(0);
        expect(g.ex.t_proxy_record_metric(h, 42n)).toBe(0);
        expect(g.ex.t_proxy_get_metric(c, OUT_PTR)).toBe(0);
        expect(g.mem().readBigUInt64LE(OUT_PTR)).toBe(2n);
        expect(g.ex.t_proxy_get_metric(h, OUT_PTR)).toBe(WasmResult.BadArgument);
        expect(g.log(3, 'hello ✓')).toBe(0);
        expect(g.log(9, 'x')).toBe(WasmResult.BadArgument);
        return 1;
      },
    });
    expect(host.metrics()).toEqual({ tidb_mesh_requests: 2, tidb_mesh_inflight: 3, tidb_mesh_size: [42] });
    expect(host.logs()).toContainEqual({ level: 3, message: 'hello ✓', contextId: 1 });
  });

  test('trap: counted, VM fails closed, later streams fail without entering the VM, API does not throw', () => {
    let calls = 0;
    const { host } = loadProbe({
      [KIND.reqHeaders]: (g) => { calls++; return g.ex.trap(); },
    });
    expect(host.traps).toBe(0);
    const s = host.newStream();
    let r;
    expect(() => { r = s.requestHeaders({ ':path': '/', 'content-type': 'application/grpc' }, false); }).not.toThrow();
    expect(host.traps).toBe(1);
    expect(host.failed).toBe(true);
    expect(host.trapLog[0]).toMatchObject({ function: 'proxy_on_request_headers' });
    expect(host.trapLog[0].message).toMatch(/unreachable/);
    expect(r.action).toBe(FilterHeadersStatus.StopAllIterationAndWatermark);
    expect(s.localReply).toMatchObject({ status: 503, details: 'wasm_fail_stream', grpcStatus: 14, hostFailure: true });
    expect(s.requestBody('x', true).forwarded.length).toBe(0);
    s.done();
    const s2 = host.newStream();
    const r2 = s2.requestHeaders({ ':path': '/' }, true);
    expect(calls).toBe(1);
    expect(r2.action).toBe(FilterHeadersStatus.StopAllIterationAndWatermark);
    expect(s2.localReply.status).toBe(503);
    expect(host.traps).toBe(1);
  });

  test('trap with failOpen: streams continue', () => {
    const { host } = loadProbe({ [KIND.reqBody]: (g) => g.ex.trap() }, { failOpen: true });
    const s = host.newStream();
    s.requestHeaders({ ':path': '/' }, false);
    const r = s.requestBody('abc', true);
    expect(host.traps).toBe(1);
    expect(r.action).toBe(FilterDataStatus.Continue);
    expect(s.localReply).toBe(null);
  });

  test('hand-written module whose proxy_on_request_headers executes unreachable', () => {
    // (module (memory (export "memory") 1) (func (export "malloc") (param i32) (result i32) i32.const 1024)
    //  (func (export "proxy_abi_version_0_2_0")) (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) unreachable))
    const bytes = Buffer.from([
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
      0x01, 0x10, 0x03, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x60, 0x00, 0x00, 0x60, 0x03, 0x7f, 0x7f, 0x7f, 0x01, 0x7f,
      0x03, 0x04, 0x03, 0x00, 0x01, 0x02,
      0x05, 0x03, 0x01, 0x00, 0x01,
      0x07, 0x48, 0x04,
      0x06, ...Buffer.from('memory'), 0x02, 0x00,
      0x06, ...Buffer.from('malloc'), 0x00, 0x00,
      0x17, ...Buffer.from('proxy_abi_version_0_2_0'), 0x00, 0x01,
      0x18, ...Buffer.from('proxy_on_request_headers'), 0x00, 0x02,
      0x0a, 0x0e, 0x03, 0x05, 0x00, 0x41, 0x80, 0x08, 0x0b, 0x02, 0x00, 0x0b, 0x03, 0x00, 0x00, 0x0b,
    ]);
    const host = ProxyWasmHost.loadSync(bytes, { rootId: 'r' });
    expect(host.configured).toBe(true); // no on_configure export: Envoy treats it as success
    const s = host.newStream();
    const r = s.requestHeaders({ ':path': '/' }, true);
    expect(host.traps).toBe(1);
    expect(r.action).toBe(FilterHeadersStatus.StopAllIterationAndWatermark);
    expect(s.localReply.status).toBe(503);
    expect(() => s.done()).not.toThrow();
  });
});

describe('host buffer / pairs logic (pure JS)', () => {
  const { setBufferBytes, clampRange, serializePairs, deserializePairs, serializeValue } = _internals;
  const B = (s) => Buffer.from(s);

  test('set_buffer_bytes semantics (Envoy Buffer::copyFrom)', () => {
    expect(setBufferBytes(B('hello'), 0, 0, B('>')).buf.toString()).toBe('>hello');        // prepend
    expect(setBufferBytes(B('hello'), 0, 2, B('J')).buf.toString()).toBe('Jllo');          // drain 2 + prepend
    expect(setBufferBytes(B('hello'), 0, 5, B('bye')).buf.toString()).toBe('bye');         // replace all
    expect(setBufferBytes(B('hello'), 0, 99, B('x')).buf.toString()).toBe('x');            // drain clamps
    expect(setBufferBytes(B('hello'), 5, 0, B('!')).buf.toString()).toBe('hello!');        // append at end
    expect(setBufferBytes(B('hello'), 50, 3, B('!')).buf.toString()).toBe('hello!');       // start > size appends
    const bad = setBufferBytes(B('hello'), 2, 1, B('x'));
    expect(bad.result).toBe(WasmResult.BadArgument);
    expect(bad.buf.toString()).toBe('hello');
    expect(setBufferBytes(B(''), 0, 0, B('a')).buf.toString()).toBe('a');
  });

  test('get_buffer_bytes range clamping', () => {
    expect(clampRange(10, 0, 4)).toEqual({ result: 0, start: 0, length: 4 });
    expect(clampRange(10, 8, 4)).toEqual({ result: 0, start: 8, length: 2 });
    expect(clampRange(10, 11, 4)).toEqual({ result: 0, start: 11, length: 0 });
    expect(clampRange(10, 0xfffffff0, 0x20).result).toBe(WasmResult.BadArgument);
  });

  test('pairs format round trip and layout', () => {
    const b = serializePairs([['a', 'xyz'], [':path', '']]);
    expect([...b.subarray(0, 20)]).toEqual([2, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0]);
    expect(b.subarray(20).toString('latin1')).toBe('a\0xyz\0:path\0\0');
    expect(deserializePairs(b)).toEqual([['a', 'xyz'], [':path', '']]);
    expect(deserializePairs(Buffer.from([5, 0, 0, 0]))).toEqual([]); // truncated -> empty
  });

  test('property value serialization', () => {
    expect(serializeValue('x').value.toString()).toBe('x');
    expect(serializeValue(true).value).toEqual(Buffer.from([1]));
    expect(serializeValue(1.5).value.readDoubleLE(0)).toBe(1.5);
    expect(serializeValue(null).result).toBe(WasmResult.SerializationFailure);
  });
});
