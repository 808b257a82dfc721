// TiKV as the platform sees it: one region-addressed request at a time, with the Context a
// keyspace-aware client sends (API v2, the keyspace's id: TiKV with api-version 2 refuses
// anything else). The leader's store address comes from PD.
import { unary } from './grpc';
import { PdClient, Region } from './pd-client';

export class TikvClient {
  private storeAddr = new Map<bigint, string>();

  constructor(readonly pd: PdClient, readonly keyspaceId: number) {}

  private async addressOf(storeId: bigint): Promise<string> {
    if (!this.storeAddr.has(storeId)) {
      for (const s of await this.pd.stores()) this.storeAddr.set(BigInt(s.id), s.address);
    }
    const a = this.storeAddr.get(storeId);
    if (!a) throw new Error(`PD knows no store ${storeId}`);
    return a;
  }

  /** kvrpcpb.Context of `region` for this keyspace. */
  context(region: Region): Record<string, unknown> {
    return {
      region_id: region.id, region_epoch: { conf_ver: region.confVer, version: region.version },
      peer: { id: region.leaderId, store_id: region.storeId }, api_version: 2, keyspace_id: this.keyspaceId,
    };
  }

  /** Sends `method` (tikvpb.Tikv/<method>) for `region`. */
  async call<T = any>(region: Region, method: string, reqType: string, respType: string, body: Record<string, unknown>): Promise<T> {
    const target = await this.addressOf(region.storeId);
    return unary<T>(target, `/tikvpb.Tikv/${method}`, reqType, respType, { context: this.context(region), ...body }, 60000);
  }

  /** Every store, for the calls TiKV takes on each store (UnsafeDestroyRange). */
  async allStores(): Promise<Array<{ id: bigint; address: string }>> {
    return (await this.pd.stores()).filter((s) => s.state !== 'Tombstone').map((s) => ({ id: BigInt(s.id), address: s.address }));
  }

  /** UnsafeDestroyRange on one store (Context without a region: the call is store-wide). */
  async unsafeDestroyRange(address: string, start: Buffer, end: Buffer): Promise<void> {
    const r = await unary(address, '/tikvpb.Tikv/UnsafeDestroyRange', 'kvrpcpb.UnsafeDestroyRangeRequest', 'kvrpcpb.UnsafeDestroyRangeResponse',
      { context: { api_version: 2, keyspace_id: this.keyspaceId }, start_key: start, end_key: end }, 300000);
    if (r.region_error) throw new Error(`UnsafeDestroyRange on ${address}: ${r.region_error.message || 'region error'}`);
    if (r.error) throw new Error(`UnsafeDestroyRange on ${address}: ${r.error}`);
  }
}
