#!/usr/bin/env node
// One gRPC call with the tool's kvproto subset (tools/storage/proto.ts, compiled into
// tools/build), for tests that act as a tenant's own client: run it inside the tenant's
// network namespace, and it reaches PD and TiKV through that tenant's sidecar and filter.
//   node realstack/lib/kv-call.js <host:port> <full method path> <request type> <response type> '<json>'
// JSON numbers above 2^53 are given as {"$big": "123"}; bytes as {"$hex": "78.."}. Prints the
// response as JSON (bigint as string, bytes as hex), or the gRPC error on stderr with exit 1.
'use strict';
const path = require('path');
const build = path.resolve(__dirname, '..', '..', 'tools', 'build', 'storage');
const { unary, closeAll } = require(path.join(build, 'grpc.js'));

const [target, method, reqType, respType, json] = process.argv.slice(2);
const revive = (v) => {
  if (Array.isArray(v)) return v.map(revive);
  if (v && typeof v === 'object') {
    if ('$big' in v) return BigInt(v.$big);
    if ('$hex' in v) return Buffer.from(v.$hex, 'hex');
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, revive(x)]));
  }
  return v;
};
unary(target, method, reqType, respType, revive(JSON.parse(json)))
  .then((r) => { process.stdout.write(JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? v.toString() : (v && v.type === 'Buffer' ? Buffer.from(v.data).toString('hex') : v)))); closeAll(); })
  .catch((e) => { process.stderr.write(e.message); closeAll(); process.exit(1); });
