// The lock ledger (locks/ledger.ts) in Envoy's shared data. Why: the response that shows a
// tenant a lock and the keyless request that follows often travel on different connections
// (client-go spreads BatchCommands over several), which Envoy may give to different worker
// threads, each with its own VM; shared data is one store for all of them. Keys are
// "tidb-mesh/locks/<txn prefix hex>/<slot>", so every tenant has its own part and can
// neither read nor displace another's records.
import { useStore } from "../locks/ledger";
import { getSharedData, setSharedData } from "../host";

function get(key: string): ArrayBuffer | null { return getSharedData(key); }
function set(key: string, value: ArrayBuffer): void { setSharedData(key, value); }

/** Called once when the filter's module starts (index.ts). */
export function useSharedLedger(): void {
  useStore(get, set);
}
