// `tidb-mesh gc`: the platform's GC controller for one storage layer (controller.ts). Runs in the
// storage layer's network, as the platform, never through a tenant's filter:
//   tidb-mesh gc --pd http://basic-pd.tidb:2379 [--once] [--interval 10m] [--life-time 10m]
//                [--life-time <keyspace id>=<duration>]... [--max-hold 24h] [--safe-point-wait 100s]
//                [--etcd-namespace /keyspaces/tidb/{id}] [-o json]
// Exit 0 after --once (whether or not the point moved), 5 (IO) when a round failed; the loop
// logs a failed round and tries again at the next interval.
import { EXIT, ToolError } from '../errors';
import { closeAll } from '../storage/grpc';
import { PdClient } from '../storage/pd-client';
import type { Io } from '../commands';
import { listFormat, Options } from '../options';
import { DEFAULT_OPTIONS, describe, gcRound, GcOptions, GcRound } from './controller';

/** "100ms", "30s", "10m", "24h", "1h30m" -> ms. */
export function parseDuration(s: string, what: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let ms = 0, seen = '';
  for (const m of s.matchAll(re)) {
    ms += Number(m[1]) * ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as Record<string, number>)[m[2]];
    seen += m[0];
  }
  if (!s || seen !== s) throw new ToolError(`${what}: "${s}" is not a duration (e.g. 10m, 30s, 1h30m)`, EXIT.USAGE, 'USAGE');
  return ms;
}

/** GcOptions from the command line. */
export function gcOptions(o: Options): GcOptions {
  const g: GcOptions = { ...DEFAULT_OPTIONS, lifeTimeByKeyspace: new Map() };
  for (const l of o.lifeTime ?? []) {
    const m = /^(\d+)=(.+)$/.exec(l);
    if (m) g.lifeTimeByKeyspace.set(Number(m[1]), parseDuration(m[2], '--life-time'));
    else g.lifeTimeMs = parseDuration(l, '--life-time');
  }
  if (o.maxHold) g.maxHoldMs = parseDuration(o.maxHold, '--max-hold');
  if (o.safePointWait) g.safePointWaitMs = parseDuration(o.safePointWait, '--safe-point-wait');
  if (o.etcdNamespace) g.etcdNamespace = o.etcdNamespace;
  return g;
}

function pdOf(o: Options, io: Io): PdClient {
  if (o.pd.length !== 1 || o.pd[0].includes('=')) throw new ToolError('give exactly one --pd URL (the PD of the storage layer)', EXIT.USAGE, 'USAGE');
  return new PdClient(o.pd[0], io.fetch as any);
}

function report(r: GcRound, o: Options, io: Io): void {
  if (listFormat(o) === 'json') {
    io.stdout(JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) + '\n');
    return;
  }
  io.stdout(`${r.note}\n  held by ${describe(r.heldBy)}\n  locks below the target: ${r.locks.locks} in ${r.locks.txns} transaction(s) (${r.locks.committed} committed, ${r.locks.rolledBack} rolled back)\n`);
  for (const c of r.ignored) io.stdout(`  ignored (older than max-hold): ${describe(c)}\n`);
}

export async function cmdGc(o: Options, io: Io): Promise<number> {
  const pd = pdOf(o, io);
  const g = gcOptions(o);
  const log = (l: string) => io.stderr(`gc: ${l}\n`);
  try {
    if (o.once) {
      try {
        report(await gcRound(pd, g, log), o, io);
        return EXIT.OK;
      } catch (e) {
        throw new ToolError(`GC round failed: ${(e as Error).message}`, EXIT.IO, 'GC_ROUND_FAILED', 'Nothing moved the GC safe point; fix the cause and run again.');
      }
    }
    const every = o.interval ? parseDuration(o.interval, '--interval') : 10 * 60_000;
    for (;;) {
      try { report(await gcRound(pd, g, log), o, io); } catch (e) { log(`round failed, GC safe point not moved: ${(e as Error).message}`); }
      await new Promise((r) => setTimeout(r, every));
    }
  } finally {
    closeAll();
  }
}
