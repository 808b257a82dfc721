// PD TEST server for the tidb-mesh end-to-end tests.
//
// This is NOT PD. It is a small imitation of the pdpb.PD gRPC service (@grpc/grpc-js over the
// hand-written subset in test/proto/pd), holding a fixed set of regions over the SHARED,
// prefixed key space, with memcomparable region keys as a PD with API-v2 keyspaces has them.
// Lookups compare the encoded keys byte for byte, as PD does. Every request is recorded
// (server.calls) so a test can see exactly what the proxy sent.
'use strict';

const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PROTO_DIR = path.join(__dirname, '..', 'proto', 'pd');
const LOADER_OPTIONS = {
  keepCase: true, longs: Number, enums: Number, bytes: Buffer, defaults: true, arrays: true, oneofs: true,
  // metapb is shared with the TiKV subset one directory up.
  includeDirs: [PROTO_DIR, path.join(PROTO_DIR, '..')],
};
const NULL_KEYSPACE = 0xffffffff;

let cached;
function loadPd() {
  if (!cached) {
    const def = protoLoader.loadSync(path.join(PROTO_DIR, 'pdpb.proto'), LOADER_OPTIONS);
    cached = grpc.loadPackageDefinition(def);
  }
  return cached;
}

/** client-go EncodeBytes: 8-byte groups padded with 0x00, each followed by 0xFF - pad. */
function encodeRegionKey(key) {
  const k = Buffer.from(key);
  const out = [];
  for (let i = 0; i <= k.length; i += 8) {
    const group = Buffer.alloc(8);
    const n = Math.min(8, k.length - i);
    k.copy(group, 0, i, i + n);
    out.push(group, Buffer.from([0xff - (8 - n)]));
  }
  return Buffer.concat(out);
}

/** DecodeBytes (strict: no leftover). */
function decodeRegionKey(enc) {
  const out = [];
  for (let i = 0; ; i += 9) {
    if (i + 9 > enc.length) throw new Error(`bad memcomparable key ${enc.toString('hex')}`);
    const pad = 0xff - enc[i + 8];
    if (pad > 8) throw new Error(`bad marker in ${enc.toString('hex')}`);
    out.push(enc.subarray(i, i + 8 - pad));
    if (pad !== 0) return Buffer.concat(out);
  }
}

const txnPrefix = (id) => Buffer.from([0x78, (id >> 16) & 0xff, (id >> 8) & 0xff, id & 0xff]);

/**
 * The default region layout, in decoded (raw) keys over the shared key space:
 *   10: ["",            x000001"a")   straddles the start of keyspace 1
 *   11: [x000001"a",    x000001"m")   inside keyspace 1
 *   12: [x000001"m",    x000002"c")   straddles the end of keyspace 1 and the start of keyspace 2
 *   20: [x000002"c",    x000003)      inside keyspace 2, up to its end
 *   30: [x000003,       "")           keyspace 3 and everything after: outside keyspaces 1 and 2
 */
function defaultLayout() {
  const k = (id, s) => Buffer.concat([txnPrefix(id), Buffer.from(s)]);
  return [
    { id: 10, start: Buffer.alloc(0), end: k(1, 'a') },
    { id: 11, start: k(1, 'a'), end: k(1, 'm') },
    { id: 12, start: k(1, 'm'), end: k(2, 'c') },
    { id: 20, start: k(2, 'c'), end: txnPrefix(3) },
    { id: 30, start: txnPrefix(3), end: Buffer.alloc(0) },
  ];
}

function start(opts = {}) {
  const pkg = loadPd();
  const layout = (opts.layout || defaultLayout()).map((r) => ({
    id: r.id,
    rawStart: r.start,
    rawEnd: r.end,
    start: r.start.length ? encodeRegionKey(r.start) : Buffer.alloc(0),
    end: r.end.length ? encodeRegionKey(r.end) : Buffer.alloc(0),
  }));
  const calls = [];
  // sloppy: scans return every region, ignoring the requested bounds (a misbehaving or racing
  // PD), so that a test can see the proxy drop regions of other keyspaces.
  let sloppy = false;
  const gcStates = new Map(); // keyspace id -> {txn, gc}
  const record = (method, request) => { calls.push({ method, request }); };
  const header = () => ({ cluster_id: 7 });

  const contains = (r, key) => Buffer.compare(r.start, key) <= 0 && (r.end.length === 0 || Buffer.compare(key, r.end) < 0);
  const overlaps = (r, s, e) => (e.length === 0 || Buffer.compare(r.start, e) < 0) && (r.end.length === 0 || Buffer.compare(s, r.end) < 0);
  const meta = (r) => ({ id: r.id, start_key: r.start, end_key: r.end, region_epoch: { conf_ver: 1, version: 1 }, peers: [{ id: r.id * 100 + 1, store_id: 1 }] });
  const leader = (r) => ({ id: r.id * 100 + 1, store_id: 1 });
  // Buckets: the region's start, a key inside it (its start with "5" appended), and its end.
  const buckets = (r) => ({ region_id: r.id, version: 3, keys: [r.start, encodeRegionKey(Buffer.concat([r.rawStart, Buffer.from('5')])), r.end] });
  const regionOf = (key) => layout.find((r) => contains(r, key)) || null;
  const regionResponse = (r, needBuckets) => ({ header: header(), region: meta(r), leader: leader(r), buckets: needBuckets ? buckets(r) : null });
  const pdRegion = (r, needBuckets) => ({ region: meta(r), leader: leader(r), buckets: needBuckets ? buckets(r) : null });

  const svc = {
    GetMembers(call, cb) { record('GetMembers', call.request); cb(null, { header: header(), members: [{ name: 'pd-test', member_id: 1, client_urls: ['http://127.0.0.1:2379'] }] }); },
    Tso(call) {
      call.on('data', (req) => { record('Tso', req); call.write({ header: header(), count: req.count, timestamp: { physical: Date.now(), logical: 1 } }); });
      call.on('end', () => call.end());
    },
    GetAllStores(call, cb) { record('GetAllStores', call.request); cb(null, { header: header(), stores: [{ id: 1, address: '127.0.0.1:20160' }] }); },
    StoreHeartbeat(call, cb) { record('StoreHeartbeat', call.request); cb(null, { header: header() }); },
    GetRegion(call, cb) {
      record('GetRegion', call.request);
      const r = regionOf(call.request.region_key);
      cb(null, r ? regionResponse(r, call.request.need_buckets) : { header: header() });
    },
    GetPrevRegion(call, cb) {
      record('GetPrevRegion', call.request);
      const i = layout.findIndex((r) => contains(r, call.request.region_key));
      cb(null, i > 0 ? regionResponse(layout[i - 1], call.request.need_buckets) : { header: header() });
    },
    GetRegionByID(call, cb) {
      record('GetRegionByID', call.request);
      const r = layout.find((x) => x.id === call.request.region_id);
      cb(null, r ? regionResponse(r, call.request.need_buckets) : { header: header() });
    },
    QueryRegion(call) {
      call.on('data', (req) => {
        record('QueryRegion', req);
        const byId = {};
        const idOf = (key) => { const r = regionOf(key); if (!r) return 0; byId[r.id] = pdRegion(r, req.need_buckets); return r.id; };
        const prevIdOf = (key) => {
          const i = layout.findIndex((r) => contains(r, key));
          if (i <= 0) return 0;
          byId[layout[i - 1].id] = pdRegion(layout[i - 1], req.need_buckets);
          return layout[i - 1].id;
        };
        const keyIds = req.keys.map(idOf);
        const prevIds = req.prev_keys.map(prevIdOf);
        for (const id of req.ids) { const r = layout.find((x) => x.id === id); if (r) byId[id] = pdRegion(r, req.need_buckets); }
        call.write({ header: header(), key_id_map: keyIds, prev_key_id_map: prevIds, regions_by_id: byId });
      });
      call.on('end', () => call.end());
    },
    ScanRegions(call, cb) {
      record('ScanRegions', call.request);
      const { start_key: s, end_key: e, limit } = call.request;
      let rs = sloppy ? layout.slice() : layout.filter((r) => overlaps(r, s, e));
      if (limit > 0) rs = rs.slice(0, limit);
      cb(null, { header: header(), region_metas: rs.map(meta), leaders: rs.map(leader), regions: rs.map((r) => pdRegion(r, false)) });
    },
    BatchScanRegions(call, cb) {
      record('BatchScanRegions', call.request);
      const seen = new Set();
      const out = [];
      for (const kr of call.request.ranges) {
        for (const r of layout) {
          if ((sloppy || overlaps(r, kr.start_key, kr.end_key)) && !seen.has(r.id)) { seen.add(r.id); out.push(pdRegion(r, call.request.need_buckets)); }
        }
      }
      cb(null, { header: header(), regions: out });
    },
    SplitRegions(call, cb) { record('SplitRegions', call.request); cb(null, { header: header(), finished_percentage: 100, regions_id: [99] }); },
    GetGCSafePoint(call, cb) { record('GetGCSafePoint', call.request); cb(null, { header: header(), safe_point: 5 }); },
    UpdateGCSafePoint(call, cb) { record('UpdateGCSafePoint', call.request); cb(null, { header: header(), new_safe_point: call.request.safe_point }); },
    UpdateServiceGCSafePoint(call, cb) { record('UpdateServiceGCSafePoint', call.request); cb(null, { header: header(), min_safe_point: 1 }); },
    GetGCSafePointV2(call, cb) {
      record('GetGCSafePointV2', call.request);
      const st = gcStates.get(call.request.keyspace_id);
      cb(null, { header: header(), safe_point: st ? st.gc : 0 });
    },
    GetAllGCSafePointV2(call, cb) {
      record('GetAllGCSafePointV2', call.request);
      cb(null, { header: header(), gc_safe_points: [1, 2, 10, 3].map((id) => ({ keyspace_id: id, gc_safe_point: 1000 + id })), revision: 4 });
    },
    AdvanceTxnSafePoint(call, cb) {
      record('AdvanceTxnSafePoint', call.request);
      const id = call.request.keyspace_scope ? call.request.keyspace_scope.keyspace_id : NULL_KEYSPACE;
      const st = gcStates.get(id) || { txn: 0, gc: 0 };
      const old = st.txn;
      st.txn = Math.max(st.txn, call.request.target);
      gcStates.set(id, st);
      cb(null, { header: header(), old_txn_safe_point: old, new_txn_safe_point: st.txn });
    },
    GetGCState(call, cb) {
      record('GetGCState', call.request);
      const id = call.request.keyspace_scope ? call.request.keyspace_scope.keyspace_id : NULL_KEYSPACE;
      const st = gcStates.get(id) || { txn: 0, gc: 0 };
      cb(null, { header: header(), gc_state: { keyspace_scope: { keyspace_id: id }, is_keyspace_level_gc: true, txn_safe_point: st.txn, gc_safe_point: st.gc } });
    },
    GetAllKeyspacesGCStates(call, cb) {
      record('GetAllKeyspacesGCStates', call.request);
      cb(null, {
        header: header(),
        gc_states: [1, 2, NULL_KEYSPACE].map((id) => ({ keyspace_scope: { keyspace_id: id }, is_keyspace_level_gc: id !== NULL_KEYSPACE, txn_safe_point: 100 + (id % 1000), gc_safe_point: 50 })),
      });
    },
    SetGlobalGCBarrier(call, cb) { record('SetGlobalGCBarrier', call.request); cb(null, { header: header() }); },
  };

  const server = new grpc.Server();
  server.addService(pkg.pdpb.PD.service, svc);
  return new Promise((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
      if (err) return reject(err);
      resolve({
        port,
        calls,
        layout,
        setSloppy(v) { sloppy = v; },
        lastCall(method) { for (let i = calls.length - 1; i >= 0; i--) if (calls[i].method === method) return calls[i].request; return null; },
        stop() { return new Promise((r) => server.tryShutdown(() => r())); },
      });
    });
  });
}

/** A pdpb.PD client (grpc-js) on 127.0.0.1:port. */
function pdClient(port) {
  const pkg = loadPd();
  return new pkg.pdpb.PD(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}

module.exports = { start, pdClient, loadPd, encodeRegionKey, decodeRegionKey, txnPrefix, NULL_KEYSPACE };
