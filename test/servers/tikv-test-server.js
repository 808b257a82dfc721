#!/usr/bin/env node
// TiKV TEST server for the tidb-mesh end-to-end tests and demo.
//
// This is NOT TiKV. It is a small in-memory imitation of the tikvpb.Tikv gRPC service, built on
// @grpc/grpc-js over the hand-written kvproto subset in test/proto. It keeps the keys it receives
// verbatim (Buffers, sorted), so a test can look at exactly what a proxy in front of it wrote.
//
// It behaves like a TiKV started with storage.api-version = 2 in the ways the filter cares about:
//   * Context.api_version == 2: every txn key must start with 'x' and every raw key with 'r'
//     (len >= 4); ranges must be non-empty at both ends and stay in one key mode
//     (TiKV ApiV2::parse_range_mode). Violations come back as errors inside the response
//     (KeyError.abort / string error / region_error.message / other_error), not as gRPC status.
//   * Context.api_version == 0 (V1): txn keys must be TiDB keys ('m' or 't'); raw commands are
//     refused (ApiVersionNotMatched).
//   * The coprocessor hands its "executors" the key with the 4-byte keyspace prefix removed when
//     api_version == 2, as TiKV's ApiV2::make_kv_pair does.
// MVCC is simplified: one lock per key, a list of writes per key, reads see the newest write with
// commit_ts <= read ts and are blocked by a lock with lock_version <= read ts.
'use strict';

const grpc = require('@grpc/grpc-js');
const { loadTikv } = require('../proto');

const SERVER_NAME = 'tikv-test-server (in-memory TiKV imitation for tests, not TiKV)';
const MODE_TXN = 0x78; // 'x'
const MODE_RAW = 0x72; // 'r'
const OP = { Put: 0, Del: 1, Lock: 2, Rollback: 3, Insert: 4, PessimisticLock: 5, CheckNotExists: 6 };

// ---------------------------------------------------------------------------------------------
// A sorted map keyed by Buffer (byte order), small and simple: binary search + splice.
class SortedMap {
  constructor() { this.keys = []; this.values = new Map(); }
  _index(key) {
    let lo = 0; let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (Buffer.compare(this.keys[mid], key) < 0) lo = mid + 1; else hi = mid;
    }
    return lo;
  }
  get(key) { return this.values.get(key.toString('hex')); }
  has(key) { return this.values.has(key.toString('hex')); }
  set(key, value) {
    const h = key.toString('hex');
    if (!this.values.has(h)) this.keys.splice(this._index(key), 0, Buffer.from(key));
    this.values.set(h, value);
  }
  delete(key) {
    const h = key.toString('hex');
    if (!this.values.has(h)) return false;
    const i = this._index(key);
    this.keys.splice(i, 1);
    this.values.delete(h);
    return true;
  }
  // Keys k with lower <= k < upper; an empty/undefined bound is unbounded.
  range(lower, upper) {
    const out = [];
    let i = lower && lower.length ? this._index(lower) : 0;
    for (; i < this.keys.length; i++) {
      const k = this.keys[i];
      if (upper && upper.length && Buffer.compare(k, upper) >= 0) break;
      out.push(k);
    }
    return out;
  }
  clear() { this.keys = []; this.values.clear(); }
}

// ---------------------------------------------------------------------------------------------
// Memcomparable EncodeBytes (8-byte groups, 0xFF - pad marker) for region keys in SplitRegion.
function encodeBytes(key) {
  const out = [];
  for (let i = 0; i <= key.length; i += 8) {
    const remain = key.length - i;
    const pad = remain >= 8 ? 0 : 8 - remain;
    for (let j = 0; j < 8; j++) out.push(i + j < key.length ? key[i + j] : 0);
    out.push(0xff - pad);
  }
  return Buffer.from(out);
}

class ApiError extends Error {}

function ctxOf(req) { return (req && req.context) || {}; }
function isV2(req) { return Number(ctxOf(req).api_version || 0) === 2; }
function buf(b) { return b ? Buffer.from(b) : Buffer.alloc(0); }

// Key-mode checks modelled on TiKV's check_api_version / check_api_version_ranges.
function checkKey(req, key, mode) {
  key = buf(key);
  if (isV2(req)) {
    if (key.length < 4 || key[0] !== mode) {
      throw new ApiError(`InvalidKeyMode: api_version=V2 needs ${mode === MODE_TXN ? "'x'" : "'r'"}-prefixed keys, got ${key.toString('hex') || '(empty)'}`);
    }
  } else if (mode === MODE_RAW) {
    throw new ApiError('ApiVersionNotMatched: storage api_version=V2, request api_version=V1 on a raw command');
  } else if (!(key.length > 0 && (key[0] === 0x6d || key[0] === 0x74))) {
    throw new ApiError(`InvalidKeyMode: api_version=V1 on a V2 storage needs TiDB keys ('m'/'t'), got ${key.toString('hex') || '(empty)'}`);
  }
}
function checkRange(req, lower, upper, mode) {
  lower = buf(lower); upper = buf(upper);
  if (isV2(req)) {
    if (!lower.length || !upper.length) {
      throw new ApiError(`InvalidKeyMode: api_version=V2 range needs both bounds non-empty, got [${lower.toString('hex')}, ${upper.toString('hex')})`);
    }
    const sameMode = lower[0] === upper[0] || (upper.length === 1 && upper[0] === lower[0] + 1);
    if (lower[0] !== mode || !sameMode) {
      throw new ApiError(`InvalidKeyMode: api_version=V2 range [${lower.toString('hex')}, ${upper.toString('hex')}) is not in ${String.fromCharCode(mode)} mode`);
    }
  } else if (mode === MODE_RAW) {
    throw new ApiError('ApiVersionNotMatched: storage api_version=V2, request api_version=V1 on a raw command');
  } else if (lower.length && !(lower[0] === 0x6d || lower[0] === 0x74)) {
    throw new ApiError(`InvalidKeyMode: api_version=V1 range start ${lower.toString('hex')} is not a TiDB key`);
  }
}

// How each response type reports a request-level failure.
const ERROR_SHAPE = {
  KvGet: 'keyError', KvScan: 'keyError3', KvPrewrite: 'keyErrors', KvPessimisticLock: 'keyErrors',
  KvCommit: 'keyError', KvCleanup: 'keyError', KvBatchGet: 'keyError5', KvBatchRollback: 'keyError',
  KvCheckTxnStatus: 'keyError', KvScanLock: 'keyError', KvResolveLock: 'keyError', KvGC: 'keyError',
  KvDeleteRange: 'string', RawGet: 'string', RawPut: 'string', RawBatchGet: 'region', RawScan: 'region',
  UnsafeDestroyRange: 'string', SplitRegion: 'region', Coprocessor: 'other',
};
function errorResponse(method, message) {
  switch (ERROR_SHAPE[method]) {
    case 'keyError': return { error: { abort: message } };
    case 'keyError3': return { error: { abort: message } };
    case 'keyError5': return { error: { abort: message } };
    case 'keyErrors': return { errors: [{ abort: message }] };
    case 'string': return { error: message };
    case 'other': return { other_error: message };
    default: return { region_error: { message } };
  }
}

// ---------------------------------------------------------------------------------------------
class TikvTestStore {
  constructor() { this.txn = new SortedMap(); this.raw = new SortedMap(); this.log = []; this.injections = []; }

  reset() { this.txn.clear(); this.raw.clear(); this.log = []; this.injections = []; }

  entry(key) {
    let e = this.txn.get(key);
    if (!e) { e = { lock: null, writes: [] }; this.txn.set(key, e); }
    return e;
  }

  lockInfo(key, lock) {
    return {
      primary_lock: lock.primary, lock_version: lock.startTs, key: Buffer.from(key), lock_ttl: lock.ttl,
      txn_size: lock.txnSize, lock_type: lock.op, lock_for_update_ts: lock.forUpdateTs || 0,
      use_async_commit: !!lock.asyncCommit, min_commit_ts: lock.minCommitTs || 0, secondaries: lock.secondaries || [],
    };
  }

  // MVCC read of one key at `ts`: {locked} | {value, commitTs} | {notFound}
  read(key, ts, ignoreLockTs) {
    const e = this.txn.get(key);
    if (!e) return { notFound: true };
    const l = e.lock;
    if (l && l.startTs <= ts && l.startTs !== ignoreLockTs && (l.op === OP.Put || l.op === OP.Del || l.op === OP.Insert)) {
      return { locked: this.lockInfo(key, l) };
    }
    for (const w of e.writes) { // newest first
      if (w.commitTs > ts) continue;
      if (w.op === OP.Put || w.op === OP.Insert) return { value: w.value, commitTs: w.commitTs };
      if (w.op === OP.Del) return { notFound: true };
    }
    return { notFound: true };
  }

  visibleKeys(lower, upper, ts) {
    const out = [];
    for (const k of this.txn.range(lower, upper)) {
      const r = this.read(k, ts);
      if (!r.notFound) out.push([k, r]);
    }
    return out;
  }

  addWrite(key, w) {
    const e = this.entry(key);
    e.writes.push(w);
    e.writes.sort((a, b) => b.commitTs - a.commitTs);
  }

  rawKeys() {
    const all = new Map();
    for (const k of this.txn.keys) {
      const e = this.txn.get(k);
      if (e.lock || e.writes.length) all.set(k.toString('hex'), k);
    }
    for (const k of this.raw.keys) all.set(k.toString('hex'), k);
    return [...all.values()].sort(Buffer.compare).map((k) => Buffer.from(k));
  }
}

// Handlers: (store, req) -> response object. Throw ApiError for request-level failures.
const handlers = {
  KvGet(s, req) {
    checkKey(req, req.key, MODE_TXN);
    const r = s.read(buf(req.key), Number(req.version));
    if (r.locked) return { error: { locked: r.locked } };
    if (r.notFound) return { not_found: true };
    return { value: r.value, commit_ts: req.need_commit_ts ? r.commitTs : 0 };
  },

  KvBatchGet(s, req) {
    const pairs = [];
    for (const k of req.keys) checkKey(req, k, MODE_TXN);
    for (const k of req.keys) {
      const r = s.read(buf(k), Number(req.version));
      if (r.locked) pairs.push({ key: buf(k), error: { locked: r.locked } });
      else if (!r.notFound) pairs.push({ key: buf(k), value: r.value, commit_ts: req.need_commit_ts ? r.commitTs : 0 });
    }
    return { pairs };
  },

  KvScan(s, req) {
    // Forward: [start_key, end_key). Reverse: start_key is the exclusive UPPER bound and
    // end_key the inclusive LOWER bound (TiKV swaps them when reverse is set).
    const lower = req.reverse ? buf(req.end_key) : buf(req.start_key);
    const upper = req.reverse ? buf(req.start_key) : buf(req.end_key);
    checkRange(req, lower, upper, MODE_TXN);
    let rows = s.visibleKeys(lower, upper, Number(req.version));
    if (req.reverse) rows = rows.reverse();
    const limit = req.limit || Infinity;
    const pairs = rows.slice(0, limit).map(([k, r]) => (r.locked
      ? { key: Buffer.from(k), error: { locked: r.locked } }
      : { key: Buffer.from(k), value: req.key_only ? Buffer.alloc(0) : r.value }));
    return { pairs };
  },

  KvPrewrite(s, req) {
    for (const m of req.mutations) checkKey(req, m.key, MODE_TXN);
    if (req.primary_lock && req.primary_lock.length) checkKey(req, req.primary_lock, MODE_TXN);
    const start = Number(req.start_version);
    const errors = [];
    for (const m of req.mutations) {
      const key = buf(m.key);
      const e = s.txn.get(key);
      if (e && e.lock && e.lock.startTs !== start) { errors.push({ locked: s.lockInfo(key, e.lock) }); continue; }
      const newest = e && e.writes.find((w) => w.op !== OP.Rollback || w.startTs === start);
      if (newest && newest.commitTs >= start && !(e.lock && e.lock.op === OP.PessimisticLock)) {
        errors.push({ conflict: { start_ts: start, conflict_ts: newest.startTs, key, primary: buf(req.primary_lock), conflict_commit_ts: newest.commitTs, reason: 1 } });
        continue;
      }
      if (m.op === OP.Insert) {
        const r = s.read(key, Number.MAX_SAFE_INTEGER, start);
        if (!r.notFound && !r.locked) { errors.push({ already_exist: { key } }); continue; }
      }
    }
    if (errors.length) return { errors };
    for (const m of req.mutations) {
      s.entry(buf(m.key)).lock = {
        primary: buf(req.primary_lock), startTs: start, ttl: Number(req.lock_ttl) || 3000, op: m.op,
        value: buf(m.value), txnSize: Number(req.txn_size) || req.mutations.length,
        secondaries: (req.secondaries || []).map(buf), asyncCommit: !!req.use_async_commit,
        minCommitTs: Number(req.min_commit_ts) || 0,
      };
    }
    return { errors: [] };
  },

  KvPessimisticLock(s, req) {
    for (const m of req.mutations) checkKey(req, m.key, MODE_TXN);
    checkKey(req, req.primary_lock, MODE_TXN);
    const start = Number(req.start_version);
    const errors = []; const values = []; const notFounds = [];
    for (const m of req.mutations) {
      const key = buf(m.key);
      const e = s.txn.get(key);
      if (e && e.lock && e.lock.startTs !== start) { errors.push({ locked: s.lockInfo(key, e.lock) }); continue; }
      if (req.return_values) {
        const r = s.read(key, Number.MAX_SAFE_INTEGER, start);
        values.push(r.value || Buffer.alloc(0)); notFounds.push(!!r.notFound);
      }
    }
    if (errors.length) return { errors };
    for (const m of req.mutations) {
      s.entry(buf(m.key)).lock = {
        primary: buf(req.primary_lock), startTs: start, ttl: Number(req.lock_ttl) || 3000, op: OP.PessimisticLock,
        value: Buffer.alloc(0), txnSize: req.mutations.length, forUpdateTs: Number(req.for_update_ts),
      };
    }
    return { errors: [], values, not_founds: notFounds };
  },

  KvCommit(s, req) {
    for (const k of req.keys) checkKey(req, k, MODE_TXN);
    const start = Number(req.start_version);
    const commit = Number(req.commit_version);
    for (const k of req.keys) {
      const key = buf(k);
      const e = s.txn.get(key);
      if (e && e.lock && e.lock.startTs === start) continue;
      if (e && e.writes.some((w) => w.startTs === start && w.op !== OP.Rollback)) continue; // already committed
      return { error: { txn_lock_not_found: { key } } };
    }
    for (const k of req.keys) {
      const key = buf(k);
      const e = s.txn.get(key);
      if (!e || !e.lock || e.lock.startTs !== start) continue;
      const l = e.lock;
      e.lock = null;
      const op = l.op === OP.Insert ? OP.Put : (l.op === OP.PessimisticLock ? OP.Lock : l.op);
      s.addWrite(key, { startTs: start, commitTs: commit, op, value: l.value });
    }
    return { commit_version: commit };
  },

  KvCleanup(s, req) {
    checkKey(req, req.key, MODE_TXN);
    const key = buf(req.key);
    const start = Number(req.start_version);
    const e = s.txn.get(key);
    const committed = e && e.writes.find((w) => w.startTs === start && w.op !== OP.Rollback);
    if (committed) return { commit_version: committed.commitTs, error: { abort: `Committed: txn ${start} already committed at ${committed.commitTs}` } };
    if (e && e.lock && e.lock.startTs === start) e.lock = null;
    s.addWrite(key, { startTs: start, commitTs: start, op: OP.Rollback });
    return {};
  },

  KvBatchRollback(s, req) {
    for (const k of req.keys) checkKey(req, k, MODE_TXN);
    const start = Number(req.start_version);
    for (const k of req.keys) {
      const key = buf(k);
      const e = s.txn.get(key);
      if (e && e.writes.some((w) => w.startTs === start && w.op !== OP.Rollback)) {
        return { error: { abort: `Committed: txn ${start} already committed` } };
      }
    }
    for (const k of req.keys) {
      const key = buf(k);
      const e = s.txn.get(key);
      if (e && e.lock && e.lock.startTs === start) e.lock = null;
      s.addWrite(key, { startTs: start, commitTs: start, op: OP.Rollback });
    }
    return {};
  },

  KvCheckTxnStatus(s, req) {
    checkKey(req, req.primary_key, MODE_TXN);
    const key = buf(req.primary_key);
    const ts = Number(req.lock_ts);
    const e = s.txn.get(key);
    if (e && e.lock && e.lock.startTs === ts) return { lock_ttl: e.lock.ttl, lock_info: s.lockInfo(key, e.lock), action: 0 };
    const w = e && e.writes.find((x) => x.startTs === ts);
    if (w && w.op !== OP.Rollback) return { commit_version: w.commitTs };
    if (w) return { action: 0 };
    if (req.rollback_if_not_exist) {
      s.addWrite(key, { startTs: ts, commitTs: ts, op: OP.Rollback });
      return { action: 2 };
    }
    return { error: { txn_not_found: { start_ts: ts, primary_key: key } } };
  },

  KvScanLock(s, req) {
    const lower = buf(req.start_key); const upper = buf(req.end_key);
    if (isV2(req)) checkRange(req, lower, upper, MODE_TXN);
    const max = Number(req.max_version);
    const locks = [];
    for (const k of s.txn.range(lower, upper)) {
      const e = s.txn.get(k);
      if (e.lock && e.lock.startTs <= max) locks.push(s.lockInfo(k, e.lock));
      if (req.limit && locks.length >= req.limit) break;
    }
    return { locks };
  },

  KvResolveLock(s, req) {
    for (const k of req.keys) checkKey(req, k, MODE_TXN);
    const txns = req.txn_infos && req.txn_infos.length
      ? req.txn_infos.map((t) => [Number(t.txn), Number(t.status)])
      : [[Number(req.start_version), Number(req.commit_version)]];
    for (const [start, commit] of txns) {
      // Without keys a real TiKV resolves every lock of the txn in the whole region; here the
      // "region" is the whole store, which is exactly why the filter must not let this through.
      const keys = req.keys.length ? req.keys.map(buf) : s.txn.keys.filter((k) => { const e = s.txn.get(k); return e.lock && e.lock.startTs === start; });
      for (const key of keys) {
        const e = s.txn.get(key);
        if (!e || !e.lock || e.lock.startTs !== start) continue;
        const l = e.lock; e.lock = null;
        if (commit > 0) s.addWrite(key, { startTs: start, commitTs: commit, op: l.op === OP.PessimisticLock ? OP.Lock : l.op, value: l.value });
        else s.addWrite(key, { startTs: start, commitTs: start, op: OP.Rollback });
      }
    }
    return {};
  },

  KvGC() { return {}; },

  KvDeleteRange(s, req) {
    checkRange(req, req.start_key, req.end_key, MODE_TXN);
    for (const k of s.txn.range(buf(req.start_key), buf(req.end_key))) s.txn.delete(k);
    return {};
  },

  RawGet(s, req) {
    checkKey(req, req.key, MODE_RAW);
    const v = s.raw.get(buf(req.key));
    return v === undefined ? { not_found: true } : { value: v };
  },

  RawBatchGet(s, req) {
    for (const k of req.keys) checkKey(req, k, MODE_RAW);
    const pairs = [];
    for (const k of req.keys) { const v = s.raw.get(buf(k)); if (v !== undefined) pairs.push({ key: buf(k), value: v }); }
    return { pairs };
  },

  RawPut(s, req) {
    checkKey(req, req.key, MODE_RAW);
    s.raw.set(buf(req.key), buf(req.value));
    return {};
  },

  RawScan(s, req) {
    const lower = req.reverse ? buf(req.end_key) : buf(req.start_key);
    const upper = req.reverse ? buf(req.start_key) : buf(req.end_key);
    checkRange(req, lower, upper, MODE_RAW);
    let keys = s.raw.range(lower, upper);
    if (req.reverse) keys = keys.reverse();
    const kvs = keys.slice(0, req.limit || Infinity)
      .map((k) => ({ key: Buffer.from(k), value: req.key_only ? Buffer.alloc(0) : s.raw.get(k) }));
    return { kvs };
  },

  UnsafeDestroyRange(s, req) {
    const lower = buf(req.start_key); const upper = buf(req.end_key);
    if (!lower.length || !upper.length) throw new ApiError('UnsafeDestroyRange needs non-empty start_key and end_key');
    for (const k of s.txn.range(lower, upper)) s.txn.delete(k);
    for (const k of s.raw.range(lower, upper)) s.raw.delete(k);
    return {};
  },

  SplitRegion(s, req) {
    const keys = (req.split_keys.length ? req.split_keys : [req.split_key]).map(buf).filter((k) => k.length);
    for (const k of keys) checkKey(req, k, req.is_raw_kv ? MODE_RAW : MODE_TXN);
    keys.sort(Buffer.compare);
    const enc = (k) => (k.length === 0 || req.is_raw_kv ? k : encodeBytes(k));
    const bounds = [Buffer.alloc(0), ...keys, Buffer.alloc(0)];
    const regions = [];
    for (let i = 0; i + 1 < bounds.length; i++) {
      regions.push({ id: 1000 + i, start_key: enc(bounds[i]), end_key: enc(bounds[i + 1]), region_epoch: { conf_ver: 1, version: 1 + keys.length } });
    }
    return { regions };
  },

  Coprocessor(s, req) {
    // The "executor": list every visible txn key inside the ranges, as TiKV's scan executors would
    // see it (ApiV2 strips the 4-byte keyspace prefix before the row decoders run).
    const v2 = isV2(req);
    const ts = Number(req.start_ts) || Number.MAX_SAFE_INTEGER;
    const rows = [];
    let lo = null; let hi = null;
    for (const r of req.ranges) {
      const start = buf(r.start); const end = buf(r.end);
      if (v2) {
        for (const b of [start, end]) {
          if (b.length < 4 || (b[0] !== MODE_TXN && b[0] !== MODE_RAW)) {
            throw new ApiError(`coprocessor: range bound ${b.toString('hex') || '(empty)'} is not a keyspace key`);
          }
        }
      }
      if (lo === null || Buffer.compare(start, lo) < 0) lo = start;
      if (hi === null || Buffer.compare(end, hi) > 0) hi = end;
      for (const [k, rd] of s.visibleKeys(start, end, ts)) {
        if (rd.locked) return { locked: rd.locked };
        const seen = v2 ? k.subarray(4) : k;
        rows.push({ key: seen.toString('utf8'), keyHex: seen.toString('hex'), value: Buffer.from(rd.value).toString('utf8') });
      }
    }
    const data = Buffer.from(JSON.stringify({ server: 'tikv-test-server', apiVersion: v2 ? 2 : 1, rows }));
    return { data, range: lo === null ? null : { start: lo, end: hi } };
  },

  Raft() { return {}; },
};

// BatchCommands oneof name -> unary method name.
const BATCH_TO_METHOD = {
  Get: 'KvGet', Scan: 'KvScan', Prewrite: 'KvPrewrite', Commit: 'KvCommit', Cleanup: 'KvCleanup',
  BatchGet: 'KvBatchGet', BatchRollback: 'KvBatchRollback', ScanLock: 'KvScanLock', ResolveLock: 'KvResolveLock',
  GC: 'KvGC', DeleteRange: 'KvDeleteRange', RawGet: 'RawGet', RawBatchGet: 'RawBatchGet', RawPut: 'RawPut',
  RawScan: 'RawScan', Coprocessor: 'Coprocessor', PessimisticLock: 'KvPessimisticLock', CheckTxnStatus: 'KvCheckTxnStatus',
};

function summarizeContext(req) {
  const c = ctxOf(req);
  return { api_version: Number(c.api_version || 0), keyspace_id: c.keyspace_id === undefined || c.keyspace_id === null ? null : Number(c.keyspace_id), keyspace_name: c.keyspace_name || '' };
}

// Applies a pending injection for `method`, if any (consumed once per `times`).
function applyInjection(s, method, req, resp) {
  const i = s.injections.findIndex((x) => x.method === method);
  if (i < 0) return resp;
  const inj = s.injections[i];
  if (inj.skip > 0) { inj.skip--; return resp; }
  if (--inj.times <= 0) s.injections.splice(i, 1);
  if (inj.foreignLock) {
    const key = buf(inj.foreignLock);
    const lock = { primary_lock: key, lock_version: 1, key, lock_ttl: 3000, lock_type: OP.Put };
    if (method === 'Coprocessor') resp.locked = lock;
    else if (Array.isArray(resp.errors)) resp.errors.push({ locked: lock });
    else resp.error = { locked: lock };
  }
  if (inj.extraPair) {
    const p = { key: buf(inj.extraPair.key), value: buf(inj.extraPair.value) };
    if (Array.isArray(resp.kvs)) resp.kvs.push(p); else { resp.pairs = resp.pairs || []; resp.pairs.push(p); }
  }
  if (inj.range) resp.range = { start: buf(inj.range.start), end: buf(inj.range.end) };
  if (inj.keyNotInRegion) resp.region_error = { message: 'key not in region', key_not_in_region: { key: buf(inj.keyNotInRegion), region_id: 1 } };
  if (inj.mutate) resp = inj.mutate(resp, req) || resp;
  return resp;
}

function dispatch(s, method, req) {
  s.log.push({ method, context: summarizeContext(req), request: req });
  if (s.log.length > 5000) s.log.shift();
  let resp;
  try {
    resp = handlers[method](s, req);
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    resp = errorResponse(method, e.message);
  }
  return applyInjection(s, method, req, resp);
}

function buildService(s) {
  const impl = {};
  for (const method of Object.keys(handlers)) {
    if (method === 'Raft') continue;
    impl[method] = (call, cb) => {
      try { cb(null, dispatch(s, method, call.request)); } catch (e) { cb({ code: grpc.status.INTERNAL, details: `${SERVER_NAME}: ${e.message}` }); }
    };
  }
  impl.Raft = (call, cb) => {
    s.log.push({ method: 'Raft', context: {}, request: null });
    call.on('data', () => {});
    call.on('end', () => cb(null, {}));
    call.on('error', () => {});
  };
  impl.BatchCommands = (call) => {
    call.on('data', (batch) => {
      try {
        const responses = batch.requests.map((r) => {
          if (r.cmd === 'Empty') return { Empty: { test_id: r.Empty.test_id } };
          const method = BATCH_TO_METHOD[r.cmd];
          if (!method) return { Empty: { test_id: 0 } };
          return { [r.cmd]: dispatch(s, method, r[r.cmd]) };
        });
        call.write({ responses, request_ids: batch.request_ids });
      } catch (e) {
        call.destroy(e);
      }
    });
    call.on('end', () => call.end());
    call.on('error', () => {});
  };
  return impl;
}

/**
 * Starts the TiKV test server on 127.0.0.1.
 * @param {{port?: number}} [opts] port 0 (default) picks a free port.
 * @returns {Promise<{port:number, stop():Promise<void>, rawKeys():Buffer[], reset():void,
 *   inject(opts:object):void, requests():object[], store:TikvTestStore}>}
 */
async function start(opts = {}) {
  const { pkg } = loadTikv();
  const store = new TikvTestStore();
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 64 << 20, 'grpc.max_send_message_length': 64 << 20 });
  server.addService(pkg.tikvpb.Tikv.service, buildService(store));
  const port = await new Promise((resolve, reject) => {
    server.bindAsync(`127.0.0.1:${opts.port || 0}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });
  let stopped = false;
  return {
    name: SERVER_NAME,
    port,
    store,
    rawKeys: () => store.rawKeys(),
    reset: () => store.reset(),
    requests: () => store.log.slice(),
    /**
     * Arms one piece of mischief for the next response(s) of `method` (unary or inside
     * BatchCommands). Options: {method, times=1, skip=0 (leave that many responses alone first), foreignLock: Buffer (KeyError.locked / cop locked
     * with that key as key+primary), extraPair: {key, value} (appended to pairs/kvs),
     * range: {start, end} (coprocessor range), keyNotInRegion: Buffer, mutate(resp, req)}.
     */
    inject(o) {
      if (!o || !o.method || !handlers[o.method]) throw new Error(`inject: unknown method ${o && o.method}`);
      store.injections.push({ times: 1, skip: 0, ...o });
    },
    stop() {
      if (stopped) return Promise.resolve();
      stopped = true;
      return new Promise((resolve) => {
        const t = setTimeout(() => { server.forceShutdown(); resolve(); }, 2000);
        server.tryShutdown(() => { clearTimeout(t); resolve(); });
      });
    },
  };
}

module.exports = { start, encodeBytes, SERVER_NAME, TikvTestStore };

if (require.main === module) {
  const i = process.argv.indexOf('--port');
  const port = i > 0 ? Number(process.argv[i + 1]) : 0;
  start({ port }).then((srv) => {
    console.log(`${SERVER_NAME} listening on 127.0.0.1:${srv.port}`);
    const bye = () => srv.stop().then(() => process.exit(0));
    process.on('SIGINT', bye); process.on('SIGTERM', bye);
  }, (e) => { console.error(e); process.exit(1); });
}
