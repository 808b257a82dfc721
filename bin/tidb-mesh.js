#!/usr/bin/env node
// Shim: runs the compiled CLI (tools/build/cli.js, built by `npm run build:tools`).
'use strict';
const { main } = require('../tools/build/cli.js');
main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
