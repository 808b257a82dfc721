// Key-field tables for the two GC writes of the classic (v1) PD API that an unmodified TiDB's
// GC worker sends (tidb pkg/store/gcworker/gc_worker.go: setGCWorkerServiceSafePoint,
// uploadSafePointToPD), and BR, Lightning and log backup too. Field numbers: kvproto
// proto/pdpb.proto (b6a98c6bf02d). Why these treatments: docs/gc.md.
//
// Open-source TiKV collects garbage below one global GC safe point (it reads only
// GetGCSafePoint), which the platform's GC controller (`tidb-mesh gc`) moves after accounting
// for every tenant. A tenant therefore never writes the global point; it states what it needs:
import { MessageDesc, KIND_TXN } from "./types";

function m(name: string): MessageDesc { return new MessageDesc(name).withKind(KIND_TXN); }

/**
 * UpdateServiceGCSafePointRequest: header(1), service_id(2), TTL(3), safe_point(4). Rewritten:
 * service_id gets the tenant's scope ("gc_worker" of keyspace 1 is registered as
 * "tidb-mesh-1-gc_worker"), so the point is the tenant's own: it holds the global GC safe
 * point back (PD's min over service safe points, which the controller honours) and no tenant
 * can move, replace or delete the platform's "gc_worker" or another tenant's point. TTL and
 * safe point pass (PD refuses a point below the current minimum; TTL <= 0 removes it).
 */
export const UpdateServiceGCSafePointRequest = m("pdpb.UpdateServiceGCSafePointRequest").scopedId(2);
/**
 * UpdateServiceGCSafePointResponse: header(1), service_id(2) of the service holding the
 * minimum, TTL(3), min_safe_point(4). service_id loses the tenant's scope, or becomes "" when
 * it is not the tenant's (no other tenant's or the platform's ids are shown). min_safe_point
 * passes: it is the point below which the global GC may already have collected, which is
 * what TiDB must run its own GC at (TiDB uses min(its point, min_safe_point)).
 */
export const UpdateServiceGCSafePointResponse = m("pdpb.UpdateServiceGCSafePointResponse").scopedId(2);
/**
 * UpdateGCSafePointRequest: header(1), safe_point(2). Emulated with a read: the requested
 * value is kept (Walk.carry) and safe_point is sent as 0, for which PD only returns the
 * current global GC safe point G (pd server/grpc_service.go UpdateGCSafePoint: it never
 * lowers it).
 */
export const UpdateGCSafePointRequest = m("pdpb.UpdateGCSafePointRequest").carryZero(2);
/**
 * UpdateGCSafePointResponse: header(1), new_safe_point(2) = G. Answered with the tenant's
 * value s when 0 < s <= G (the global GC is already there: the tenant's run is complete, TiDB
 * checks new_safe_point == s), else G (a read, s = 0, gets the global point, as from PD; a
 * tenant asking past the global point is told the real one and TiDB reports "PD rejected our
 * safe point").
 */
export const UpdateGCSafePointResponse = m("pdpb.UpdateGCSafePointResponse").clampCarried(2);
