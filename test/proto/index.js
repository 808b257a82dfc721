// Loads the hand-written kvproto subset in this directory (see the header of each .proto).
'use strict';
const path = require('path');
const protoLoader = require('@grpc/proto-loader');
const grpc = require('@grpc/grpc-js');

const PROTO_DIR = __dirname;
const FILES = ['tikvpb.proto'];

// Buffers for bytes, numbers for 64-bit ints (test values stay < 2^53), enums as numbers,
// defaults filled so that handlers can read fields without null checks, oneofs exposed as `cmd`.
const LOADER_OPTIONS = {
  keepCase: true,
  longs: Number,
  enums: Number,
  bytes: Buffer,
  defaults: true,
  arrays: true,
  oneofs: true,
  includeDirs: [PROTO_DIR],
};

let cached;
function loadTikv() {
  if (!cached) {
    const def = protoLoader.loadSync(FILES.map((f) => path.join(PROTO_DIR, f)), LOADER_OPTIONS);
    cached = { def, pkg: grpc.loadPackageDefinition(def) };
  }
  return cached;
}

module.exports = { loadTikv, PROTO_DIR, LOADER_OPTIONS };
