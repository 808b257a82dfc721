// Unary and bidi gRPC calls with protobufjs messages (storage/proto.ts) over @grpc/grpc-js,
// plaintext: the tool speaks to PD and TiKV from inside the storage layer's network, as its
// own components do (in a mesh, through its sidecar).
import * as grpc from '@grpc/grpc-js';
import { decode, encode } from './proto';

const clients = new Map<string, grpc.Client>();

function clientFor(target: string): grpc.Client {
  let c = clients.get(target);
  if (!c) {
    c = new grpc.Client(target, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': 256 << 20 });
    clients.set(target, c);
  }
  return c;
}

/** Closes every channel opened so far (the CLI calls it before it exits). */
export function closeAll(): void {
  for (const c of clients.values()) c.close();
  clients.clear();
}

/**
 * Calls `path` (e.g. "/pdpb.PD/UpdateGCSafePoint") on `target` ("host:port") with request
 * type `reqType` and response type `respType`; rejects on a gRPC error (with its code).
 */
export function unary<T = any>(target: string, path: string, reqType: string, respType: string, req: Record<string, unknown>, timeoutMs = 20000): Promise<T> {
  return new Promise((resolve, reject) => {
    clientFor(target).makeUnaryRequest(path, (x: Buffer) => x, (b: Buffer) => b, encode(reqType, req),
      new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, resp) => {
        if (err) reject(new Error(`${path} on ${target}: ${err.message}`));
        else resolve(decode<T>(respType, resp as Buffer));
      });
  });
}

/** One request and its first answer on a bidi stream (PD's Tso). */
export function bidiOnce<T = any>(target: string, path: string, reqType: string, respType: string, req: Record<string, unknown>, timeoutMs = 20000): Promise<T> {
  return new Promise((resolve, reject) => {
    const call = clientFor(target).makeBidiStreamRequest(path, (x: Buffer) => x, (b: Buffer) => b, new grpc.Metadata(), { deadline: Date.now() + timeoutMs });
    let done = false;
    call.on('data', (b: Buffer) => {
      if (done) return;
      done = true;
      resolve(decode<T>(respType, b));
      call.end();
      call.cancel();
    });
    call.on('error', (e: Error) => { if (!done) { done = true; reject(new Error(`${path} on ${target}: ${e.message}`)); } });
    call.write(encode(reqType, req));
  });
}
