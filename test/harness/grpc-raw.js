// Byte-level gRPC over HTTP/2 (node:http2, h2c, 127.0.0.1) for tests that need control over how
// gRPC frames are laid out in DATA chunks: several length-prefixed messages in one chunk, a message
// split across chunks, a compressed-flag frame, a malformed payload.
'use strict';

const http2 = require('http2');

/** 5-byte gRPC prefix + payload. */
function grpcFrame(payload, compressed = false) {
  const p = Buffer.from(payload);
  const h = Buffer.alloc(5);
  h[0] = compressed ? 1 : 0;
  h.writeUInt32BE(p.length, 1);
  return Buffer.concat([h, p]);
}

/** Splits a byte stream of gRPC frames into payloads; throws on a truncated tail. */
function parseFrames(buf) {
  const out = [];
  let i = 0;
  while (i < buf.length) {
    if (buf.length - i < 5) throw new Error(`truncated gRPC frame header at ${i}/${buf.length}`);
    const len = buf.readUInt32BE(i + 1);
    if (buf.length - i - 5 < len) throw new Error(`truncated gRPC frame at ${i}: need ${len}, have ${buf.length - i - 5}`);
    out.push({ compressed: buf[i] === 1, payload: buf.subarray(i + 5, i + 5 + len) });
    i += 5 + len;
  }
  return out;
}

/**
 * One gRPC call with hand-made DATA chunks.
 * @param {number} port
 * @param {string} path  e.g. '/tikvpb.Tikv/BatchCommands'
 * @param {Buffer[]} chunks  each is written with one stream.write (one or more DATA frames)
 * @param {{delayMs?: number, timeoutMs?: number, headers?: object}} [opts]
 * @returns {Promise<{headers: object, trailers: object, status: number|null, message: string,
 *   body: Buffer, frames: {compressed: boolean, payload: Buffer}[], reset: number|null}>}
 */
function rawGrpcCall(port, path, chunks, opts = {}) {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    const timer = setTimeout(() => { session.destroy(); reject(new Error(`rawGrpcCall ${path} timed out`)); }, opts.timeoutMs || 10000);
    session.on('error', (e) => { clearTimeout(timer); reject(e); });
    const req = session.request({
      ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...(opts.headers || {}),
    });
    let headers = {}; let trailers = {};
    const body = [];
    req.on('response', (h) => { headers = h; });
    req.on('trailers', (t) => { trailers = t; });
    req.on('data', (c) => body.push(c));
    const finish = () => {
      clearTimeout(timer);
      const all = Buffer.concat(body);
      const statusRaw = trailers['grpc-status'] !== undefined ? trailers['grpc-status'] : headers['grpc-status'];
      const msg = trailers['grpc-message'] !== undefined ? trailers['grpc-message'] : headers['grpc-message'];
      let frames = [];
      try { frames = parseFrames(all); } catch (e) { frames = []; }
      session.close();
      resolve({
        headers, trailers, body: all, frames,
        status: statusRaw === undefined ? null : Number(statusRaw),
        message: msg ? decodeURIComponent(String(msg)) : '',
        reset: req.rstCode && req.rstCode !== http2.constants.NGHTTP2_NO_ERROR ? req.rstCode : null,
      });
    };
    req.on('close', finish);
    req.on('error', () => { /* reported through rstCode in finish */ });
    (async () => {
      for (const c of chunks) {
        req.write(c);
        if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
      }
      req.end();
    })();
  });
}

module.exports = { grpcFrame, parseFrames, rawGrpcCall };
