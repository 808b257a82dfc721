// Benchmark workloads: TiKV messages with the shapes TiDB really sends and receives
// (shared/reference/perf-reliability.md §A5), encoded with protobufjs from the hand-written
// kvproto subset in test/proto. Requests are what a TiDB without keyspace sends (api v1
// Context, keyspace_id 0xFFFFFFFF, unprefixed 19-byte row keys); responses are what TiKV
// sends back to the filter (keys carry the tenant's 4-byte api-v2 prefix).
'use strict';
const path = require('path');
const protobuf = require('protobufjs');

const PROTO_DIR = path.resolve(__dirname, '..', 'test', 'proto');
/** Tenant used everywhere: keyspace 1, txn prefix 'x' 00 00 01. */
const KEYSPACE_ID = 1;
const TXN_PREFIX = Buffer.from([0x78, 0x00, 0x00, KEYSPACE_ID]);

let root;
function types() {
  if (!root) {
    root = new protobuf.Root();
    root.resolvePath = (_origin, target) => path.join(PROTO_DIR, path.basename(target));
    root.loadSync(path.join(PROTO_DIR, 'tikvpb.proto'), { keepCase: true });
    root.resolveAll();
  }
  return {
    Context: root.lookupType('kvrpcpb.Context'),
    GetRequest: root.lookupType('kvrpcpb.GetRequest'),
    GetResponse: root.lookupType('kvrpcpb.GetResponse'),
    PrewriteRequest: root.lookupType('kvrpcpb.PrewriteRequest'),
    BatchGetRequest: root.lookupType('kvrpcpb.BatchGetRequest'),
    ScanResponse: root.lookupType('kvrpcpb.ScanResponse'),
    CopRequest: root.lookupType('coprocessor.Request'),
    CopResponse: root.lookupType('coprocessor.Response'),
    BatchCommandsRequest: root.lookupType('tikvpb.BatchCommandsRequest'),
    BatchCommandsResponse: root.lookupType('tikvpb.BatchCommandsResponse'),
  };
}

/** 8-byte memcomparable int64 (sign bit flipped), as TiDB's codec.EncodeInt. */
function cmpInt(n) {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n) ^ 0x8000000000000000n);
  return b;
}
/** Record key 't' + table id + "_r" + handle: 19 bytes (tablecodec.RecordRowKeyLen). */
function rowKey(table, handle) {
  return Buffer.concat([Buffer.from('t'), cmpInt(table), Buffer.from('_r'), cmpInt(handle)]);
}
/** Index key of one int column: 't' + table + "_i" + index id + flag 0x03 + int = 28 bytes. */
function indexKey(table, index, value) {
  return Buffer.concat([Buffer.from('t'), cmpInt(table), Buffer.from('_i'), cmpInt(index), Buffer.from([0x03]), cmpInt(value)]);
}
const withPrefix = (k) => Buffer.concat([TXN_PREFIX, k]);

/** A Context as client-go codecV1 fills it for a point get: ~60 bytes on the wire. */
function v1Context(i = 0) {
  return {
    region_id: 1000 + (i % 64),
    region_epoch: { conf_ver: 5, version: 120 + (i % 7) },
    peer: { id: 2001 + (i % 64), store_id: 1 },
    term: 6,
    priority: 0,
    isolation_level: 0,
    resource_group_tag: Buffer.from('0a0d53656c656374506f696e74', 'hex'),
    request_source: 'external_Select',
    txn_source: 0,
    keyspace_id: 0xffffffff,
  };
}

function getRequest(i) {
  return { context: v1Context(i), key: rowKey(112, 1 + i * 7919), version: 449622302580195329 + i };
}

/** Builds every workload: {name, desc, path, request(bool), msg (Buffer), type, decoded}. */
function buildWorkloads() {
  const T = types();
  const out = [];
  const add = (name, desc, methodPath, request, type, obj) => {
    const msg = Buffer.from(type.encode(type.fromObject(obj)).finish());
    out.push({ name, desc, path: methodPath, request, type, msg });
  };

  add('kvget', 'KvGet request, full Context, 19 B row key', '/tikvpb.Tikv/KvGet', true, T.GetRequest, getRequest(0));

  const reqs = [];
  const ids = [];
  for (let i = 0; i < 128; i++) { reqs.push({ Get: getRequest(i) }); ids.push(1000000 + i); }
  add('batch128', 'BatchCommands request, 128 Gets', '/tikvpb.Tikv/BatchCommands', true, T.BatchCommandsRequest,
    { requests: reqs, request_ids: ids, client_send_time_ns: 1732000000000000000 });

  // The answer to batch128 (what the Envoy part sends back): 128 GetResponses, 64-byte values, no keys.
  const resps = [];
  for (let i = 0; i < 128; i++) resps.push({ Get: { value: Buffer.alloc(64, 0x61 + (i % 26)), commit_ts: 449622302580195329 + i } });
  add('batch128resp', 'BatchCommands response, 128 GetResponses (64 B values)', '/tikvpb.Tikv/BatchCommands', false, T.BatchCommandsResponse,
    { responses: resps, request_ids: ids, transport_layer_load: 0 });

  // ~16 KiB of mutations (DefTxnCommitBatchSize): row Puts with ~100-byte values plus their index entries.
  const muts = [];
  const secondaries = [];
  let size = 0;
  for (let i = 0; size < 16 * 1024; i++) {
    const rk = rowKey(112, 50000 + i);
    const value = Buffer.alloc(96, 0x41 + (i % 26));
    muts.push({ op: 0, key: rk, value, assertion: 2 });
    muts.push({ op: 0, key: indexKey(112, 1, 50000 + i), value: Buffer.from('30', 'hex'), assertion: 0 });
    if (i > 0) secondaries.push(rk);
    size += rk.length + value.length + 28 + 1;
  }
  add('prewrite16k', `KvPrewrite request, ${muts.length} mutations (~16 KiB)`, '/tikvpb.Tikv/KvPrewrite', true, T.PrewriteRequest, {
    context: v1Context(1), mutations: muts, primary_lock: muts[0].key, start_version: 449622302580195329,
    lock_ttl: 3000, txn_size: muts.length, min_commit_ts: 449622302580195330,
  });

  const keys = [];
  for (let i = 0; i < 5120; i++) keys.push(rowKey(112, 1 + i * 13));
  add('batchget5120', 'KvBatchGet request, 5120 keys', '/tikvpb.Tikv/KvBatchGet', true, T.BatchGetRequest,
    { context: v1Context(2), keys, version: 449622302580195329 });

  const ranges = [];
  for (let i = 0; i < 100; i++) ranges.push({ start: rowKey(112, i * 1000), end: rowKey(112, i * 1000 + 500) });
  add('cop100', 'Coprocessor request, 100 ranges, 180 B DAG', '/tikvpb.Tikv/Coprocessor', true, T.CopRequest, {
    context: v1Context(3), tp: 103, data: Buffer.alloc(180, 0x12), ranges, start_ts: 449622302580195329, paging_size: 64,
  });

  const pairs = [];
  for (let i = 0; i < 1000; i++) pairs.push({ key: withPrefix(rowKey(112, 1 + i)), value: Buffer.alloc(64, 0x61 + (i % 26)) });
  add('scan1000', 'KvScan response, 1000 pairs (64 B values)', '/tikvpb.Tikv/KvScan', false, T.ScanResponse, { pairs });

  // 4 MiB of coprocessor chunk data: opaque to the filter, must be copied once and never walked.
  add('cop4m', 'Coprocessor response, 4 MiB data + paging range', '/tikvpb.Tikv/Coprocessor', false, T.CopResponse, {
    data: Buffer.alloc(4 * 1024 * 1024, 0x5a),
    range: { start: withPrefix(rowKey(112, 0)), end: withPrefix(rowKey(112, 999)) },
  });
  return out;
}

/** 5-byte gRPC frame around a message. */
function frame(msg) {
  const h = Buffer.alloc(5);
  h.writeUInt32BE(msg.length, 1);
  return Buffer.concat([h, msg]);
}

/** Messages for the Envoy load test: one KvGet, one BatchCommands of n Gets, and their responses. */
function envoyMessages(batch = 128) {
  const T = types();
  const enc = (type, obj) => Buffer.from(type.encode(type.fromObject(obj)).finish());
  const getReq = enc(T.GetRequest, getRequest(0));
  const getResp = enc(T.GetResponse, { value: Buffer.alloc(64, 0x76), commit_ts: 449622302580195329 });
  const reqs = [], ids = [], resps = [];
  for (let i = 0; i < batch; i++) {
    reqs.push({ Get: getRequest(i) });
    ids.push(1000000 + i);
    resps.push({ Get: { value: Buffer.alloc(64, 0x61 + (i % 26)), commit_ts: 449622302580195329 + i } });
  }
  const batchReq = enc(T.BatchCommandsRequest, { requests: reqs, request_ids: ids, client_send_time_ns: 1732000000000000000 });
  const batchResp = enc(T.BatchCommandsResponse, { responses: resps, request_ids: ids, transport_layer_load: 0 });
  return { getReq, getResp, batchReq, batchResp };
}

module.exports = { buildWorkloads, envoyMessages, types, frame, rowKey, TXN_PREFIX, KEYSPACE_ID, v1Context };
