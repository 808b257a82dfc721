'use strict';
// Loads dist/tidb-mesh-pdhttp.wasm (assembly/testing/pdhttp-entry.ts: the pure PD-HTTP module,
// no proxy ABI) and wraps it: plan(tenant, method, path) and rewrite(tenant, method, path,
// request, body). Also the key helpers the tests and the real-PD e2e share: memcomparable
// encoding (client-go codec.EncodeBytes), keyspace prefixes and Go's url.QueryEscape.
const fs = require('fs');
const path = require('path');
const loader = require('assemblyscript/lib/loader');

const ROOT = path.resolve(__dirname, '..', '..');
const WASM = process.env.PDHTTP_WASM || path.join(ROOT, 'dist', 'tidb-mesh-pdhttp.wasm');

/** Key bytes: Buffers as they are, strings byte per character (latin1), so '\x80' is one byte. */
function bytes(k) { return Buffer.isBuffer(k) ? k : Buffer.from(k, 'latin1'); }

/** Memcomparable encoding: 8-byte groups, each followed by 0xFF - padding. */
function E(key) {
  const k = bytes(key);
  const out = [];
  for (let i = 0; ; i += 8) {
    const g = Buffer.alloc(8);
    const real = Math.min(8, k.length - i);
    k.copy(g, 0, i, i + real);
    out.push(g, Buffer.from([0xff - (8 - real)]));
    if (real < 8) break;
  }
  return Buffer.concat(out);
}

/** The inverse of E (throws on malformed input). */
function D(enc) {
  const b = Buffer.from(enc);
  const out = [];
  for (let i = 0; ; i += 9) {
    if (b.length - i < 9) throw new Error('truncated memcomparable key');
    const pad = 0xff - b[i + 8];
    if (pad > 8) throw new Error('bad marker');
    out.push(b.subarray(i, i + 8 - pad));
    if (pad !== 0) break;
  }
  return Buffer.concat(out);
}

/** Txn prefix 'x' + 3-byte id, optionally followed by `rest`. */
function P(id, rest = '') { return Buffer.concat([Buffer.from([0x78, (id >> 16) & 255, (id >> 8) & 255, id & 255]), bytes(rest)]); }

/** Go's url.QueryEscape of raw bytes. */
function qe(b) {
  let s = '';
  for (const c of bytes(b)) {
    if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f || c === 0x2e || c === 0x7e) s += String.fromCharCode(c);
    else if (c === 0x20) s += '+';
    else s += '%' + c.toString(16).toUpperCase().padStart(2, '0');
  }
  return s;
}

/** Go's url.QueryUnescape into bytes. */
function qu(s) {
  const out = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '%') { out.push(parseInt(s.substr(i + 1, 2), 16)); i += 2; } else if (c === '+') out.push(0x20); else out.push(c.charCodeAt(0));
  }
  return Buffer.from(out);
}

const hex = (b) => Buffer.from(b).toString('hex');

const CONFIG = JSON.stringify({
  version: 1, direction: 'outbound', mode: 'api-v2', maxMessageBytes: 4096,
  tenants: [
    { name: 't1', keyspaceId: 1, match: { namespace: 'ns1' } },
    { name: 't2', keyspaceId: 2, match: { namespace: 'ns2' } },
    { name: 't10', keyspaceId: 10, match: { namespace: 'ns10' } },
  ],
});

class PdHttp {
  constructor(config = CONFIG) {
    this.mod = loader.instantiateSync(fs.readFileSync(WASM), {
      env: { abort(msg, file, line, col) { throw new WebAssembly.RuntimeError(`pdhttp abort at ${line}:${col}`); } },
    });
    this.ex = this.mod.exports;
    const err = this.withStr(config, (p) => this.getStr(this.ex.configure(p)));
    if (err) throw new Error(`configure: ${err}`);
  }

  withStr(s, fn) {
    const { __allocString, __retain, __release } = this.ex;
    const p = __retain(__allocString(s));
    try { return fn(p); } finally { __release(p); }
  }

  getStr(ptr) { const s = this.ex.__getString(ptr); this.ex.__release(ptr); return s; }

  routes() { return this.ex.routes(); }

  /** The plan of one request: {status, treatment, reason, body, path, request, response, passes, keys}. */
  plan(tenant, method, p) {
    return JSON.parse(this.withStr(method, (m) => this.withStr(p, (pp) => this.getStr(this.ex.plan(tenant, m, pp)))));
  }

  /** Rewrites a body: {status, keys, filtered, httpStatus, message, reason, out (Buffer), json (parsed or null)}. */
  rewrite(tenant, method, p, request, body) {
    const buf = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const ptr = this.ex.alloc(Math.max(buf.length, 1));
    new Uint8Array(this.ex.memory.buffer).set(buf, ptr);
    try {
      const r = JSON.parse(this.withStr(method, (m) => this.withStr(p, (pp) => this.getStr(this.ex.rewrite(tenant, m, pp, request ? 1 : 0, ptr, buf.length)))));
      const op = this.ex.outPtr() >>> 0, ol = this.ex.outLen() >>> 0;
      r.out = Buffer.from(new Uint8Array(this.ex.memory.buffer).subarray(op, op + ol));
      if (r.status === 0) { try { r.json = JSON.parse(r.out.toString('utf8')); } catch { r.json = null; } }
      return r;
    } finally { this.ex.release(ptr); }
  }
}

module.exports = { PdHttp, E, D, P, qe, qu, hex, CONFIG };
