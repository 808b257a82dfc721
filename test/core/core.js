'use strict';
// Loads dist/tidb-mesh-core.wasm (assembly/testing/entry.ts: the pure core, no proxy ABI)
// with the AssemblyScript 0.14 loader and wraps its exports with Buffers.
const fs = require('fs');
const path = require('path');
const loader = require('assemblyscript/lib/loader');

const ROOT = path.resolve(__dirname, '..', '..');
const CORE_WASM = path.join(ROOT, 'dist', 'tidb-mesh-core.wasm');
const EMPTY = Buffer.alloc(0);

/** Statuses from assembly/proto/status.ts. */
const S = Object.freeze({
  OK: 0, TRUNCATED: 1, VARINT: 2, WIRE_TYPE: 3, FIELD_NUMBER: 4, DEPTH: 5, OUT_OF_KEYSPACE: 6,
  DENIED: 7, UNKNOWN_COMMAND: 8, REGION_KEY: 9, UNSUPPORTED: 10, EMPTY_KEY: 11,
  COMPRESSED: 12, FRAME_FLAG: 13, OVERSIZE: 14, FRAME_TRUNCATED: 15, ETCD_KEY_FORMAT: 16,
  KEY_NOT_ALLOWED: 17, ETCD_DIGIT_KEY: 18, ETCD_RANGE_SPAN: 19,
});
const STATUS_NAME = Object.fromEntries(Object.entries(S).map(([k, v]) => [v, k]));

/** A tenant table for the core: ids chosen to exercise the 3-byte id encoding. */
const DEFAULT_TENANTS = [
  { name: 't1', keyspaceId: 1 },
  { name: 't2', keyspaceId: 2 },
  { name: 'tmax', keyspaceId: 0xfffffe },
  { name: 't255', keyspaceId: 255 },
];

function configJson({ tenants = DEFAULT_TENANTS, mode = 'api-v2', maxMessageBytes, etcdNamespace } = {}) {
  const cfg = {
    version: 1, direction: 'outbound', mode,
    tenants: tenants.map((t, i) => {
      const o = { name: t.name, match: { namespace: `ns${i}` } };
      if (t.keyspaceId !== undefined) o.keyspaceId = t.keyspaceId;
      if (t.prefix !== undefined) o.prefix = t.prefix;
      return o;
    }),
  };
  if (maxMessageBytes !== undefined) cfg.maxMessageBytes = maxMessageBytes;
  if (etcdNamespace !== undefined) cfg.etcdNamespace = etcdNamespace;
  return JSON.stringify(cfg);
}

/** env.ledgerGet / env.ledgerSet of the test core over `map` (key string -> Buffer). */
function ledgerImports(memory, map) {
  const bytes = (p, n) => Buffer.from(new Uint8Array(memory().buffer, p >>> 0, n >>> 0));
  return {
    ledgerSet(kp, kn, vp, vn) { map.set(bytes(kp, kn).toString('latin1'), Buffer.from(bytes(vp, vn))); },
    ledgerGet(kp, kn, dst, cap) {
      const v = map.get(bytes(kp, kn).toString('latin1'));
      if (v === undefined) return -1;
      if (cap >>> 0 >= v.length) new Uint8Array(memory().buffer, dst >>> 0, v.length).set(v);
      return v.length;
    },
  };
}

class Core {
  constructor(wasmPath = CORE_WASM) {
    this.aborts = 0;
    this.traps = 0;
    const self = this;
    // The lock ledger's store, outside the VM like Envoy's shared data (testing/ledger-store.ts).
    this.ledger = new Map();
    this.mod = loader.instantiateSync(fs.readFileSync(wasmPath), {
      env: {
        abort(msg, file, line, col) {
          self.aborts++;
          throw new WebAssembly.RuntimeError(`core abort at ${line}:${col}`);
        },
        ...ledgerImports(() => self.ex.memory, this.ledger),
      },
    });
    this.ex = this.mod.exports;
    this.inCap = 0;
    this.inPtr = 0;
  }

  /** Wraps a call into the VM: counts traps and rethrows. */
  guard(fn) {
    try { return fn(); } catch (e) {
      if (e instanceof WebAssembly.RuntimeError || e instanceof RangeError) this.traps++;
      throw e;
    }
  }

  str(s, fn) {
    const { __allocString, __retain, __release } = this.ex;
    const p = __retain(__allocString(s));
    try { return fn(p); } finally { __release(p); }
  }

  getStr(ptr) {
    const s = this.ex.__getString(ptr);
    this.ex.__release(ptr);
    return s;
  }

  /** Parses a configuration (object for configJson, or a JSON string); returns "" or the error. */
  configure(cfg = {}) {
    const json = typeof cfg === 'string' ? cfg : configJson(cfg);
    return this.guard(() => this.str(json, (p) => this.getStr(this.ex.configure(p))));
  }

  /** The allowlist's treatment of a gRPC path: "unknown", "rewrite", "pass" or "deny: <reason>". */
  treatment(pathName) {
    return this.guard(() => this.str(pathName, (p) => this.getStr(this.ex.methodTreatment(p))));
  }

  /** Opens one direction of a call: handle > 0, -1 unknown method, -2 denied/pass. */
  open(tenant, pathName, isRequest) {
    return this.guard(() => this.str(pathName, (p) => this.ex.openCall(tenant, p, isRequest ? 1 : 0)));
  }

  close(h) { this.guard(() => this.ex.closeCall(h)); }

  /** A view of linear memory (rebuilt when the memory grows and its buffer changes). */
  mem() {
    const b = this.ex.memory.buffer;
    if (this._memBuf !== b) { this._memBuf = b; this._mem = Buffer.from(b); }
    return this._mem;
  }

  memoryBytes() { return this.ex.memory.buffer.byteLength; }

  /** Copies buf into the VM (one reusable input area). */
  put(buf) {
    if (buf.length > this.inCap) {
      if (this.inPtr) this.ex.release(this.inPtr);
      this.inCap = Math.max(buf.length, 4096);
      this.inPtr = this.guard(() => this.ex.alloc(this.inCap));
    }
    if (buf.length) this.mem().set(buf, this.inPtr);
    return this.inPtr;
  }

  /** One chunk: returns { status, out } (out is a copy of the bytes to forward). */
  push(h, buf, eos) {
    const p = this.put(buf);
    const status = this.guard(() => this.ex.push(h, p, buf.length, eos ? 1 : 0));
    if (status !== S.OK) return { status, out: Buffer.alloc(0) };
    const ol = this.ex.outputLen(h) >>> 0;
    if (ol === 0) return { status, out: EMPTY };
    const op = this.ex.outputPtr(h) >>> 0;
    return { status, out: Buffer.from(this.mem().subarray(op, op + ol)) };
  }

  counters(h) {
    return {
      keys: this.ex.keysRewritten(h) >>> 0, filtered: this.ex.entriesFiltered(h) >>> 0, pending: this.ex.pending(h) >>> 0,
      keylessRewritten: this.ex.keylessRewritten(h) >>> 0, keylessNoEffect: this.ex.keylessNoEffect(h) >>> 0,
    };
  }

  /** Empties the lock ledger (proto/keyless.ts reads it; LockInfo in responses fills it). */
  ledgerClear() { this.ledger.clear(); }

  /**
   * Runs a whole direction of one call over `chunks` (eos on the last one). Returns
   * { status, out, pushes, failedAt, keys, filtered }: out = everything forwarded (outputs of
   * successful pushes); after the first error nothing more is pushed.
   */
  run(tenant, pathName, isRequest, chunks, { keepLedger = false } = {}) {
    // A request runs against an empty lock ledger unless asked otherwise: the oracles
    // (wire.js) model keyless lock requests with no record, and earlier responses with
    // LockInfo would otherwise leave some behind.
    if (isRequest && !keepLedger) this.ledgerClear();
    const h = this.open(tenant, pathName, isRequest);
    if (h < 0) return { status: h, out: Buffer.alloc(0), openFailed: true };
    const outs = [];
    let status = S.OK, failedAt = -1, keys = 0, filtered = 0;
    try {
      for (let i = 0; i < chunks.length; i++) {
        const r = this.push(h, chunks[i], i === chunks.length - 1);
        if (r.status !== S.OK) { status = r.status; failedAt = i; break; }
        outs.push(r.out);
      }
      if (chunks.length === 0) {
        const r = this.push(h, Buffer.alloc(0), true);
        status = r.status;
        outs.push(r.out);
      }
      const c = this.counters(h);
      keys = c.keys; filtered = c.filtered;
      // After an error every later push must return the same status and forward nothing.
      if (status !== S.OK) {
        const again = this.push(h, Buffer.from([0, 0, 0, 0, 0]), true);
        const left = this.ex.outputLen(h) >>> 0;
        if (again.status !== status || left !== 0) throw new Error(`push after error returned ${again.status} with ${left} output bytes`);
      }
    } finally {
      this.close(h);
    }
    return { status, out: outs.length === 1 ? outs[0] : Buffer.concat(outs), failedAt, keys, filtered };
  }

  encodeRegion(buf) {
    const p = this.put(buf);
    this.guard(() => this.ex.encodeRegion(p, buf.length));
    return this.scratch();
  }

  decodeRegion(buf) {
    const p = this.put(buf);
    const status = this.guard(() => this.ex.decodeRegion(p, buf.length));
    return { status, out: this.scratch() };
  }

  scratch() {
    const p = this.ex.scratchPtr() >>> 0, n = this.ex.scratchLen() >>> 0;
    return Buffer.from(this.mem().subarray(p, p + n));
  }

  /** { prefix, end } of api-v2 txn keyspace `id`. */
  apiV2Bounds(id) {
    this.guard(() => this.ex.apiV2Bounds(id));
    const b = this.scratch();
    return { prefix: b.subarray(0, 4), end: b.subarray(4) };
  }
}

/** One gRPC length-prefixed message. */
function frame(payload, flag = 0) {
  const h = Buffer.alloc(5);
  h[0] = flag;
  h.writeUInt32BE(payload.length, 1);
  return Buffer.concat([h, payload]);
}

/** Splits a byte stream of frames into payloads (throws on a partial frame). */
function unframe(buf) {
  const out = [];
  let i = 0;
  while (i < buf.length) {
    if (buf.length - i < 5) throw new Error('partial frame header');
    if (buf[i] !== 0) throw new Error(`frame flag ${buf[i]}`);
    const n = buf.readUInt32BE(i + 1);
    if (buf.length - i - 5 < n) throw new Error('partial frame');
    out.push(buf.subarray(i + 5, i + 5 + n));
    i += 5 + n;
  }
  return out;
}

/** api-v2 prefixes for a keyspace id. */
function prefixes(id) {
  const b = (m) => Buffer.from([m, (id >> 16) & 0xff, (id >> 8) & 0xff, id & 0xff]);
  const next = (p) => { const n = Buffer.from(p); n.writeUInt32BE((n.readUInt32BE(0) + 1) >>> 0, 0); return n; };
  const txn = b(0x78), raw = b(0x72);
  return { txn, raw, txnEnd: next(txn), rawEnd: next(raw) };
}

module.exports = { ledgerImports, Core, S, STATUS_NAME, configJson, frame, unframe, prefixes, DEFAULT_TENANTS, CORE_WASM, ROOT };
