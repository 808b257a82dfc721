// The lock ledger (locks/ledger.ts) of the test core, kept OUTSIDE the VM by the test host
// (test/core/core.js: a JS Map), as the filter keeps it in Envoy's shared data
// (filter/ledger-host.ts). Why not the ledger's default in-VM map: the VM's memory should
// behave as in the filter, where records only pass through (the property test checks that
// the core's memory is flat once warmed up; records living in the VM fragment its heap).
import { useStore } from "../locks/ledger";

/** Stores `value` under `key` (UTF-8 bytes). */
@external("env", "ledgerSet")
declare function hostSet(keyPtr: usize, keyLen: usize, valPtr: usize, valLen: usize): void;
/** Copies up to `cap` bytes of `key`'s value to `dst`; returns its length, or -1 if none. */
@external("env", "ledgerGet")
declare function hostGet(keyPtr: usize, keyLen: usize, dst: usize, cap: usize): i32;

function get(key: string): ArrayBuffer | null {
  const k = String.UTF8.encode(key);
  const n = hostGet(changetype<usize>(k), <usize>k.byteLength, 0, 0);
  if (n < 0) return null;
  const v = new ArrayBuffer(n);
  hostGet(changetype<usize>(k), <usize>k.byteLength, changetype<usize>(v), <usize>n);
  return v;
}

function set(key: string, value: ArrayBuffer): void {
  const k = String.UTF8.encode(key);
  hostSet(changetype<usize>(k), <usize>k.byteLength, changetype<usize>(value), <usize>value.byteLength);
}

/** Called when the test core starts (testing/entry.ts). */
export function useHostLedger(): void {
  useStore(get, set);
}
