// Entry point: argument parsing and exit-code mapping only. Handlers live in commands.ts.
import * as fs from 'fs';
import { cmdApply, cmdDiff, cmdGenerate, cmdRbac, cmdTenants, Io } from './commands';
import { EXIT, ToolError } from './errors';
import { parseArgs, USAGE } from './options';
import { cmdPublish } from './publish';
import { cmdRollout } from './rollout/command';
import { cmdGc } from './gc/command';
import { readStdin } from './source';

const HANDLERS: Record<string, (o: ReturnType<typeof parseArgs>, io: Io) => Promise<number>> = {
  generate: cmdGenerate, apply: cmdApply, diff: cmdDiff, tenants: cmdTenants, rollout: cmdRollout, gc: cmdGc, rbac: cmdRbac, publish: cmdPublish,
};

/** The real process Io. */
export function processIo(): Io {
  return {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    stdin: () => readStdin(process.stdin),
    writeFile: (f, t) => fs.writeFileSync(f, t),
    cwd: process.cwd(),
    rollout: { stderrIsTTY: Boolean(process.stderr.isTTY) },
  };
}

/**
 * Runs the CLI with `argv` (no node/script) and resolves to the exit code. Expected failures
 * (ToolError) print "error: <message>" and the fix on stderr; anything else is internal (70).
 */
export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  try {
    const o = parseArgs(argv);
    if (o.help || !o.command || o.command === 'help') { (o.command ? io.stdout : io.stderr)(USAGE); return o.command || o.help ? EXIT.OK : EXIT.USAGE; }
    const h = HANDLERS[o.command];
    if (!h) { io.stderr(`unknown command ${o.command}\n\n${USAGE}`); return EXIT.USAGE; }
    return await h(o, io);
  } catch (e) {
    if (e instanceof ToolError) {
      io.stderr(`error: ${e.code !== 'ERROR' && e.code !== 'USAGE' ? `${e.code}: ` : ''}${e.message}\n${e.fix ? `  fix: ${e.fix}\n` : ''}`);
      return e.exitCode;
    }
    io.stderr(`internal error: ${(e as Error)?.stack ?? String(e)}\n`);
    return EXIT.INTERNAL;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
