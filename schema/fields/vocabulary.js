'use strict';
// The vocabulary of the field classification (schema/fields/): what one field of a real
// kvproto / pdpb / etcd message means for tenant isolation. Every bytes and string field that
// can reach the filter, and every field whose name mentions a keyspace, must have an entry;
// test/realschema/completeness.js checks the filter's tables (assembly/schema/) against it.
//
// Entries are keyed "package.Message.field" (nested messages "package.Outer.Inner.field").

function need(why, what) {
  if (typeof why !== 'string' || why.trim().length < 8) throw new Error(`${what} needs a written reason`);
  return why;
}

/** A data key: requests get the tenant prefix, responses are checked and stripped. */
const key = (why = '') => ({ cls: 'key', why });
/** A data key that stays empty when empty in a request (CommitRequest.primary_key). */
const keyOrEmpty = (why) => ({ cls: 'key-or-empty', why: need(why, 'keyOrEmpty') });
/** A repeated key whose foreign entries are dropped from responses instead of failing the call. */
const filteredKey = (why) => ({ cls: 'key', filter: true, why: need(why, 'filteredKey') });
/** Range bounds; range is 'raw' (kvrpcpb KeyRange semantics), 'region' (memcomparable) or 'etcd'. */
const start = (range) => ({ cls: 'start', range });
const end = (range) => ({ cls: 'end', range });
/** The bool that makes the message's range reverse (start is then the upper bound). */
const reverse = () => ({ cls: 'reverse' });
/** One memcomparable region key (PD routing): E(k) in, E(P‖k) out. */
const regionKey = (why = '') => ({ cls: 'region', why });
/** A bucket boundary (memcomparable), decoded as client-go DecodeBucketKeys. */
const bucketKey = () => ({ cls: 'bucket' });
/** A raw key that must lie under `prefix` (a store shared by every tenant: PD meta storage). */
const under = (prefix) => ({ cls: 'under', prefix });
/** The range_end paired with an `under` key. */
const endUnder = (prefix) => ({ cls: 'end-under', prefix });
/**
 * Names a keyspace. Requests: replaced by the tenant's, dropped or refused. Responses: with
 * { response: 'match' } the message belongs to the tenant only when it equals the tenant's id.
 */
const keyspace = (why, opts = {}) => ({ cls: 'keyspace', why: need(why, 'keyspace'), ...opts });
/**
 * An id that belongs to one tenant in a store shared by all (PD service safe point ids):
 * requests get the tenant's scope in front, responses lose it (another tenant's id is hidden).
 */
const scopedId = (why) => ({ cls: 'scoped-id', why: need(why, 'scopedId') });
/** A request varint that must not reach the upstream: kept for the response, sent as 0 (schema/gc.ts). */
const carried = (why) => ({ cls: 'carried', why: need(why, 'carried') });
/** The response varint answered from a carried request value (schema/gc.ts). */
const clampCarried = (why) => ({ cls: 'clamp-carried', why: need(why, 'clampCarried') });
/** User data that is not a key (values, column families): copied unchanged. */
const value = (why = '') => ({ cls: 'value', why });
/** Copied unchanged, with the reason it is safe to copy. */
const opaque = (why) => ({ cls: 'opaque', why: need(why, 'opaque') });
/** A message field (usually repeated) whose response elements outside the keyspace are dropped. */
const filtered = (why) => ({ cls: 'filtered', why: need(why, 'filtered') });
/** The field refuses the call when present (in the direction it is given for). */
const refuse = (why) => ({ cls: 'refuse', why: need(why, 'refuse') });
/** Different meanings per direction: { request, response } (a missing side is unclassified). */
const perDirection = (d) => ({ cls: 'per-direction', request: d.request, response: d.response });

/** Classes that the filter must act on (a raw copy of them is a leak or a smuggle). */
const SENSITIVE = new Set(['key', 'key-or-empty', 'start', 'end', 'region', 'bucket', 'under', 'end-under', 'keyspace', 'refuse',
  'scoped-id', 'carried', 'clamp-carried']);

/** The class of `entry` for a direction ('request' | 'response'), or undefined. */
function forDirection(entry, dir) {
  if (!entry) return undefined;
  if (entry.cls === 'per-direction') return entry[dir];
  return entry;
}

module.exports = {
  key, keyOrEmpty, filteredKey, start, end, reverse, regionKey, bucketKey, under, endUnder, keyspace,
  scopedId, carried, clampCarried, value, opaque, filtered, refuse, perDirection, SENSITIVE, forDirection,
};
