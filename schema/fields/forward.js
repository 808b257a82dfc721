'use strict';
// Table rules and allowlisted methods that no pinned schema (schema/upstream-protos.js) has,
// each kept on purpose with its reason. The completeness check (test/realschema) fails on a
// rule or method that is in no pinned schema and not listed here, and on an entry here that a
// pinned schema does have (then the field must be classified like any other, and the entry
// removed).

/**
 * "<table name>.<field number>" -> why the rule stays. These come from kvproto after the
 * newest pinned version (keyfields guide): with the rule, a newer TiKV/PD's field is walked,
 * dropped or refused; without it, it would be copied unchanged.
 */
const RULES = {
  'coprocessor.Request.15': 'versioned_ranges (VersionedKeyRange.range): newer coprocessor ranges, prefixed like ranges(4)',
  'coprocessor.StoreBatchTask.6': 'versioned_ranges of a batched task: prefixed like ranges(4)',
  'kvrpcpb.Context.38': 'keyspace_identity (API v3): dropped from requests like the other keyspace fields',
  'kvrpcpb.KeyError.13': 'lock_upgrade_conflict (LockUpgradeConflict.key(1)): checked and stripped',
  'kvrpcpb.KeyError.14': 'shared_lock_lost (SharedLockLost.key(1)): checked and stripped',
  'kvrpcpb.LockInfo.12': 'shared_lock_infos (repeated LockInfo): walked like the lock itself',
  'pdpb.KeyspaceScope.2': 'keyspace_identity (API v3): refused, the id alone names the keyspace',
  'pdpb.GetGCSafePointV2Request.3': 'keyspace_identity (API v3): refused',
  'pdpb.UpdateGCSafePointV2Request.4': 'keyspace_identity (API v3): refused',
  'pdpb.UpdateServiceSafePointV2Request.6': 'keyspace_identity (API v3): refused',
};

/** gRPC paths on the allowlist (rewritten or passed) that are defined outside the pinned modules. */
const METHODS = {
  '/grpc.health.v1.Health/Check': 'grpc-proto grpc/health/v1/health.proto (not in these Go modules): HealthCheckRequest { string service = 1 } in, HealthCheckResponse { ServingStatus status = 1 } out; no keys',
  '/grpc.health.v1.Health/Watch': 'grpc-proto grpc/health/v1/health.proto: the same messages as Check, streamed; no keys',
};

module.exports = { RULES, METHODS };
