// Processes and network namespaces of one real-stack run. Everything started here is recorded
// by PID and ended by PID (never by name); namespaces are created and deleted by their names.
'use strict';

const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const http = require('http');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Creates a network namespace with loopback up. Needs root (CAP_SYS_ADMIN). */
function createNetns(name) {
  execFileSync('ip', ['netns', 'add', name]);
  execFileSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
}

function deleteNetns(name) {
  try { execFileSync('ip', ['netns', 'delete', name], { stdio: 'ignore' }); } catch { /* gone */ }
}

/**
 * Starts `cmd args` inside netns `ns` (or the current one when ns is null), detached into its
 * own session so it outlives nothing but us: stop() or the exit hook ends it by PID.
 * Why nsenter and not `ip netns exec`: the latter remounts /sys, and tidb-server then dies at
 * start with "failed to detect cgroup root mount and version".
 * @returns {{name, pid, log, exited: null|{code, signal}, child}}
 */
function startProcess(name, ns, cmd, args, logFile, env = {}) {
  const out = fs.openSync(logFile, 'a');
  const argv = ns ? ['--net=/run/netns/' + ns, '--', cmd, ...args] : args;
  const child = spawn(ns ? 'nsenter' : cmd, argv, { stdio: ['ignore', out, out], detached: true, env: { ...process.env, ...env } });
  fs.closeSync(out);
  const p = { name, pid: child.pid, log: logFile, exited: null, child };
  child.on('exit', (code, signal) => { p.exited = { code, signal }; });
  return p;
}

/** SIGTERM, then SIGKILL after graceMs; resolves when the process is gone. */
async function stopProcess(p, graceMs = 5000) {
  if (!p || p.exited) return;
  try { process.kill(p.pid, 'SIGTERM'); } catch { return; }
  const deadline = Date.now() + graceMs;
  while (!p.exited && Date.now() < deadline) await sleep(50);
  if (!p.exited) { try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ } }
  while (!p.exited) await sleep(20);
}

function tail(file, lines = 30) {
  try { return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n'); } catch { return '(no log)'; }
}

/** Polls until check() resolves truthy; fails with the process's log tail if it exits or times out. */
async function waitFor(what, check, { proc = null, timeoutMs = 60000, intervalMs = 250 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last = null;
  for (;;) {
    if (proc && proc.exited) throw new Error(`${what}: ${proc.name} exited (${JSON.stringify(proc.exited)}); last lines of ${proc.log}:\n${tail(proc.log)}`);
    try { const v = await check(); if (v) return v; } catch (e) { last = e; }
    if (Date.now() > deadline) throw new Error(`${what}: not ready after ${timeoutMs} ms${last ? ` (${last.message})` : ''}${proc ? `; last lines of ${proc.log}:\n${tail(proc.log)}` : ''}`);
    await sleep(intervalMs);
  }
}

/** HTTP over a unix socket: {status, body}. */
function httpUnix(socketPath, method, urlPath, body = null, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path: urlPath, timeout: timeoutMs, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${urlPath} timed out`)));
    req.on('error', reject);
    if (body) req.write(typeof body === 'string' ? body : JSON.stringify(body));
    req.end();
  });
}

module.exports = { createNetns, deleteNetns, startProcess, stopProcess, waitFor, httpUnix, tail, sleep };
