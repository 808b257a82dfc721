// The lock ledger: for each transaction (its start_ts), the keys of its locks that the tenant
// was shown last, in one response. Why: TiKV resolves a ResolveLock or PessimisticRollback
// request without keys over the whole region it names, whoever owns the locks there, so the
// filter never forwards one as it is (proto/keyless.ts). It forwards the keyed form instead,
// with the keys recorded here. Every key recorded here came out of a response the walk
// accepted as the tenant's own (a LockInfo whose keys lie in the keyspace), so the keyed
// request can only touch the tenant's keys, however the regions are laid out.
//
// One response's worth: client-go sends a keyless request right after a response showed it
// the locks (txnlock/lock_resolver.go resolveLock: the region of the lock it just met), so
// the last response's locks of that transaction are the ones it means, and they sit in one
// region (one response answers one region), which TiKV needs for a keyed ResolveLock.
//
// Pure: notes are collected while a response frame is walked and committed once the frame is
// accepted (filter/direction.ts). The store behind the ledger is swappable: by default a map
// in this VM; the filter puts it into Envoy's shared data (filter/ledger-host.ts), because
// the response and the later request may be handled by different worker threads, and the
// test core into its host (testing/ledger-store.ts).

/** At most this many keys (and bytes of keys) per transaction record. */
export const MAX_KEYS: i32 = 256;
export const MAX_BYTES: i32 = 16384;
/** Records per tenant: start_ts modulo SLOTS picks one (a collision replaces the older one). */
export const SLOTS: u64 = 1024;
/** Notes per response frame (a ScanLock answers at most 1024 locks, client-go's limit). */
const MAX_NOTES: i32 = 4096;

export type LedgerGet = (key: string) => ArrayBuffer | null;
export type LedgerSet = (key: string, value: ArrayBuffer) => void;

const mem = new Map<string, ArrayBuffer>();
function memGet(key: string): ArrayBuffer | null {
  if (!mem.has(key)) return null;
  return mem.get(key);
}
function memSet(key: string, value: ArrayBuffer): void {
  mem.set(key, value);
}
let getFn: LedgerGet = memGet;
let setFn: LedgerSet = memSet;

/** Puts the ledger into another store (the filter: Envoy's shared data). */
export function useStore(get: LedgerGet, set: LedgerSet): void {
  getFn = get;
  setFn = set;
}

// Notes of the frame being walked: start_ts and the key's bytes in that frame.
const noteTs = new Array<u64>();
const notePtr = new Array<usize>();
const noteLen = new Array<usize>();

/** Notes that the frame being walked shows a lock of `ts` on key [p, p+n) (as stored, prefixed). */
export function note(ts: u64, p: usize, n: usize): void {
  if (n == 0 || noteTs.length >= MAX_NOTES) return;
  noteTs.push(ts);
  notePtr.push(p);
  noteLen.push(n);
}

/** Forgets the notes of a frame that was refused. */
export function discardNotes(): void {
  noteTs.length = 0;
  notePtr.length = 0;
  noteLen.length = 0;
}

function slotKey(scope: string, ts: u64): string {
  return "tidb-mesh/locks/" + scope + "/" + (ts % SLOTS).toString();
}

/**
 * Stores the notes of an accepted frame: for each start_ts in it, its keys (up to MAX_KEYS,
 * MAX_BYTES) replace the tenant's previous record of that transaction. Record layout:
 * u64 start_ts, u32 count, then count × (u32 length, bytes), little endian.
 */
export function commitNotes(scope: string): void {
  const n = noteTs.length;
  for (let i = 0; i < n; i++) {
    const ts = unchecked(noteTs[i]);
    let seen = false;
    for (let j = 0; j < i; j++) if (unchecked(noteTs[j]) == ts) { seen = true; break; }
    if (seen) continue;
    let count = 0, bytes = 0;
    for (let j = i; j < n && count < MAX_KEYS; j++) {
      if (unchecked(noteTs[j]) != ts) continue;
      const len = <i32>unchecked(noteLen[j]);
      if (bytes + len > MAX_BYTES) break;
      count++;
      bytes += len;
    }
    const rec = new ArrayBuffer(12 + count * 4 + bytes);
    const base = changetype<usize>(rec);
    store<u64>(base, ts);
    store<u32>(base + 8, <u32>count);
    let at = base + 12;
    let written = 0;
    for (let j = i; j < n && written < count; j++) {
      if (unchecked(noteTs[j]) != ts) continue;
      const len = unchecked(noteLen[j]);
      store<u32>(at, <u32>len);
      memory.copy(at + 4, unchecked(notePtr[j]), len);
      at += 4 + len;
      written++;
    }
    setFn(slotKey(scope, ts), rec);
  }
  discardNotes();
}

/**
 * The tenant's record of transaction `ts`, or null: a buffer in commitNotes' layout whose
 * start_ts is `ts` and whose entries are well formed (a shared store could hand back
 * anything; a malformed record is treated as no record).
 */
export function recordOf(scope: string, ts: u64): ArrayBuffer | null {
  const r = getFn(slotKey(scope, ts));
  if (r === null) return null;
  const rec = r as ArrayBuffer;
  const size = <usize>rec.byteLength;
  if (size < 12) return null;
  const base = changetype<usize>(rec);
  if (load<u64>(base) != ts) return null;
  const count = load<u32>(base + 8);
  if (count == 0 || count > <u32>MAX_KEYS) return null;
  let at: usize = 12;
  for (let i: u32 = 0; i < count; i++) {
    if (at + 4 > size) return null;
    const len = <usize>load<u32>(base + at);
    if (len == 0 || at + 4 + len > size) return null;
    at += 4 + len;
  }
  return rec;
}
