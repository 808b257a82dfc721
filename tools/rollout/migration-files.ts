// File IO of the rollout: the migration directory. (State storage: store.ts.)
import * as fs from 'fs';
import * as path from 'path';
import { EXIT, ToolError } from '../errors';

/** Reads the regular files directly in `dir` (name + UTF-8 text). Throws ToolError (USAGE) if `dir` is not a directory. */
export function readMigrationDir(dir: string): Array<{ name: string; text: string }> {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new ToolError(`${dir}: not a directory of migrations`, EXIT.USAGE, 'USAGE');
  }
  return fs.readdirSync(dir).sort()
    .filter((n) => fs.statSync(path.join(dir, n)).isFile())
    .map((name) => ({ name, text: fs.readFileSync(path.join(dir, name), 'utf8') }));
}
