// A small promise-based tikvpb.Tikv client for the e2e tests and the demo (plain h2c, 127.0.0.1).
'use strict';

const grpc = require('@grpc/grpc-js');
const { loadTikv } = require('../proto');

const TXN_METHODS = [
  'KvGet', 'KvScan', 'KvPrewrite', 'KvPessimisticLock', 'KvCheckTxnStatus', 'KvCommit', 'KvCleanup',
  'KvBatchGet', 'KvBatchRollback', 'KvScanLock', 'KvResolveLock', 'KvGC', 'KvDeleteRange',
  'RawGet', 'RawBatchGet', 'RawPut', 'RawScan', 'UnsafeDestroyRange', 'Coprocessor', 'SplitRegion',
];

const identity = (b) => b;

/**
 * @param {number} port
 * @param {{deadlineMs?: number}} [opts]
 */
function tikvClient(port, opts = {}) {
  const { pkg } = loadTikv();
  const deadlineMs = opts.deadlineMs || 10000;
  const client = new pkg.tikvpb.Tikv(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': 64 << 20,
    'grpc.max_send_message_length': 64 << 20,
  });
  const deadline = () => new Date(Date.now() + deadlineMs);
  const api = { raw: client };
  for (const m of TXN_METHODS) {
    api[m] = (req) => new Promise((resolve, reject) => {
      client[m](req, { deadline: deadline() }, (err, resp) => (err ? reject(err) : resolve(resp)));
    });
  }

  /** Calls any path with raw bytes (e.g. an unknown method); resolves to a Buffer. */
  api.rawUnary = (path, bytes) => new Promise((resolve, reject) => {
    client.makeUnaryRequest(path, identity, identity, Buffer.from(bytes || []), new grpc.Metadata(),
      { deadline: deadline() }, (err, resp) => (err ? reject(err) : resolve(resp)));
  });

  /** Client-streaming Raft call (TiKV internal) with the given messages. */
  api.Raft = (msgs) => new Promise((resolve, reject) => {
    const call = client.Raft({ deadline: deadline() }, (err, resp) => (err ? reject(err) : resolve(resp)));
    for (const m of msgs || [{ region_id: 1 }]) call.write(m);
    call.end();
  });

  /**
   * Opens one BatchCommands stream, writes every batch in `batches` back to back (so several gRPC
   * frames may share an HTTP/2 DATA chunk), half-closes, and resolves to all responses received.
   * Each batch: {requests: [{Get: {...}} | ...], request_ids: [...]}
   */
  api.batchCommands = (batches) => new Promise((resolve, reject) => {
    const call = client.BatchCommands({ deadline: deadline() });
    const got = [];
    let done = false;
    call.on('data', (r) => got.push(r));
    call.on('error', (e) => { if (!done) { done = true; e.partial = got; reject(e); } });
    call.on('status', (st) => { if (!done && st.code === grpc.status.OK) { done = true; resolve(got); } });
    for (const b of batches) call.write(b);
    call.end();
  });

  api.close = () => client.close();
  return api;
}

module.exports = { tikvClient };
