// Loads dist/tidb-mesh-core.wasm (the pure core: assembly/testing/entry.ts) and wraps the
// string-taking exports. AssemblyScript 0.14 strings: a managed block of class id 1 holding
// UTF-16LE code units; its byte length sits in the header word just before the data.
'use strict';

const fs = require('fs');
const path = require('path');

const CORE = process.env.TIDB_MESH_CORE_WASM || path.join(__dirname, '..', '..', 'dist', 'tidb-mesh-core.wasm');
const STRING_ID = 1;

function loadCore() {
  let abortMsg = null;
  let instance = null;
  // The core's lock ledger store (test/core/core.js ledgerImports; not used by these tests).
  const { ledgerImports } = require('../core/core');
  instance = new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync(CORE)), {
    env: {
      abort: (msg, file, line, col) => { abortMsg = `abort at ${line}:${col}`; throw new Error(abortMsg); },
      ...ledgerImports(() => instance.exports.memory, new Map()),
    },
  });
  const ex = instance.exports;
  const newString = (s) => {
    const p = ex.__alloc(s.length * 2, STRING_ID) >>> 0;
    const u16 = new Uint16Array(ex.memory.buffer, p, s.length);
    for (let i = 0; i < s.length; i++) u16[i] = s.charCodeAt(i);
    return ex.__retain(p) >>> 0;
  };
  const getString = (p) => {
    p >>>= 0;
    if (p === 0) return null;
    const len = new Uint32Array(ex.memory.buffer, p - 4, 1)[0] >>> 1;
    return String.fromCharCode(...new Uint16Array(ex.memory.buffer, p, len));
  };
  const withStrings = (fn) => (...args) => {
    const ptrs = args.map(newString);
    try {
      const r = fn(...ptrs);
      const s = getString(r);
      ex.__release(r);
      return s;
    } finally { for (const p of ptrs) ex.__release(p); }
  };
  return {
    exports: ex,
    /** "" when the configuration is valid, else the filter's error text. */
    configure: withStrings(ex.configure),
    selectOutbound: withStrings(ex.selectOutbound),
    selectInbound: withStrings(ex.selectInbound),
  };
}

module.exports = { loadCore };
