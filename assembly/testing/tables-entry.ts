// A test-only entry point (dist/tidb-mesh-tables.wasm) that describes the allowlist and every
// key-field table it reaches as text, so that test/realschema can check the hand-written
// tables of assembly/schema/ against the real kvproto, pdpb and etcd schemas. No proxy ABI.
import { lookupMethod, methodPaths, Method } from "../schema/methods";
import { MessageDesc } from "../schema/types";

const ids = new Map<usize, i32>();
const order = new Array<usize>();

/** The id of a table (numbered in the order they are first reached); -1 for none. */
function idOf(d: MessageDesc | null): i32 {
  if (d === null) return -1;
  const p = changetype<usize>(d);
  if (ids.has(p)) return ids.get(p);
  const id = order.length;
  ids.set(p, id);
  order.push(p);
  return id;
}

function flag(b: bool): string { return b ? "1" : "0"; }

function hex(p: usize, n: usize): string {
  const digits = "0123456789abcdef";
  let s = "";
  for (let i: usize = 0; i < n; i++) {
    const b = <i32>load<u8>(p + i);
    s += digits.charAt(b >> 4) + digits.charAt(b & 15);
  }
  return s;
}

/**
 * The allowlist and its tables, one record a line, fields separated by tabs:
 *   M path policy requestId responseId apiV2Only streamingResponse
 *   D id name kind strict rangeKind rangeStart rangeEnd rangeReverse setKeyspace
 *     requireField ensureContextField bucketField matchField underHex underEndHex
 *   R descId fieldNumber action flags childId
 * Policies, actions, kinds and flags are the numbers of schema/methods.ts and schema/types.ts;
 * an id of -1 is "no table". Every table reachable from a method is listed once.
 */
export function dumpTables(): string {
  const lines = new Array<string>();
  const paths = methodPaths();
  for (let i = 0; i < paths.length; i++) {
    const m = lookupMethod(paths[i]) as Method;
    lines.push("M\t" + m.path + "\t" + m.policy.toString() + "\t" + idOf(m.request).toString() + "\t" +
      idOf(m.response).toString() + "\t" + flag(m.apiV2Only) + "\t" + flag(m.streamingResponse));
  }
  // Tables reached through rules are appended to `order` while it is walked.
  for (let k = 0; k < order.length; k++) {
    const d = changetype<MessageDesc>(order[k]);
    lines.push("D\t" + k.toString() + "\t" + d.name + "\t" + d.kind.toString() + "\t" + flag(d.strict) + "\t" +
      d.rangeKind.toString() + "\t" + d.rangeStart.toString() + "\t" + d.rangeEnd.toString() + "\t" +
      d.rangeReverse.toString() + "\t" + flag(d.setKeyspace) + "\t" + d.requireField.toString() + "\t" +
      d.ensureContextField.toString() + "\t" + d.bucketField.toString() + "\t" + d.matchField.toString() + "\t" +
      hex(d.underPtr, d.underLen) + "\t" + hex(d.underEndPtr, d.underEndLen));
    for (let i = 0; i < d.count; i++) {
      const num = load<u32>(d.numsPtr + (<usize>i << 2));
      const cp = d.childAt(i);
      const child = cp == 0 ? -1 : idOf(changetype<MessageDesc>(cp));
      lines.push("R\t" + k.toString() + "\t" + num.toString() + "\t" + d.actAt(i).toString() + "\t" +
        d.flagsAt(i).toString() + "\t" + child.toString());
    }
  }
  return lines.join("\n");
}
