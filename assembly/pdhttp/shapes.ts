// The JSON shapes of PD's HTTP API that carry keys or ids, as tables for jsonwalk.ts: which
// members of which objects are rewritten, and how. Everything not named here is copied byte for
// byte. Field names and types: PD server pkg/schedule/labeler/rules.go (LabelRule,
// KeyRangeRule, LabelRulePatch), pkg/schedule/placement/rule.go (Rule, GroupBundle, RuleOp),
// server/api (RegionInfo, RegionsInfo); client side pd/client/http/types.go.

/** Any value, copied byte for byte. */
export const K_COPY: i32 = 0;
/** An object or array walked with a sub-shape (null is copied). */
export const K_SUB: i32 = 1;
/** A region label rule id, scoped with labelScope (scope.ts). */
export const K_LABEL_ID: i32 = 2;
/** A placement group id: "tiflash" stays, any other is scoped with placementScope. */
export const K_PL_GROUP: i32 = 3;
/** A placement group id in a bundle write: as K_PL_GROUP, but "tiflash" is refused (403). */
export const K_PL_BUNDLE_GROUP: i32 = 4;
/** A placement rule id, scoped with placementScope. */
export const K_PL_RULE_ID: i32 = 5;
/** Hex memcomparable start/end key of a rule the tenant wrote: prefixed; strict on responses. */
export const K_KEY_START: i32 = 6;
export const K_KEY_END: i32 = 7;
/** Hex memcomparable start/end key of a region (responses): clamped to the keyspace. */
export const K_REGION_START: i32 = 8;
export const K_REGION_END: i32 = 9;
/** A count of the entries of an array member that may lose entries (RegionsInfo.count). */
export const K_COUNT: i32 = 10;

export const SH_OBJECT: i32 = 0;
export const SH_ARRAY: i32 = 1;

export class Shape {
  kind: i32;
  // Objects: members by exact name.
  names: Array<string> = new Array<string>();
  kinds: Array<i32> = new Array<i32>();
  subs: Array<Shape | null> = new Array<Shape | null>();
  required: Array<bool> = new Array<bool>();
  /** Member holding the owner's identity, checked before an element of a filtered array is walked. */
  idName: string = "";
  idKind: i32 = K_COPY;
  /** Array member whose dropped entries reduce the K_COUNT member. */
  countOf: string = "";
  // Arrays.
  elemKind: i32 = K_COPY;
  elem: Shape | null = null;
  /** Elements of other tenants (or regions outside the keyspace) are dropped, not an error. */
  filtered: bool = false;

  constructor(kind: i32) { this.kind = kind; }

  /** Adds a member with a string kind. */
  field(name: string, kind: i32, required: bool = false): Shape {
    this.names.push(name);
    this.kinds.push(kind);
    this.subs.push(null);
    this.required.push(required);
    return this;
  }

  /** Adds a member walked with `sub`. */
  sub(name: string, sub: Shape, required: bool = false): Shape {
    this.names.push(name);
    this.kinds.push(K_SUB);
    this.subs.push(sub);
    this.required.push(required);
    return this;
  }

  /** Marks `name` (already added with `kind`) as the identity of the object. */
  identity(name: string, kind: i32): Shape {
    this.idName = name;
    this.idKind = kind;
    return this;
  }

  /** Adds a K_COUNT member `name` that counts the entries of array member `array`. */
  counted(name: string, array: string): Shape {
    this.field(name, K_COUNT);
    this.countOf = array;
    return this;
  }
}

function obj(): Shape { return new Shape(SH_OBJECT); }

/** An array of `kind` (with `elem` for K_SUB). */
function arr(kind: i32, elem: Shape | null, filtered: bool = false): Shape {
  const s = new Shape(SH_ARRAY);
  s.elemKind = kind;
  s.elem = elem;
  s.filtered = filtered;
  return s;
}

// Region label rules (LabelRule, rule_type "key-range": data is [{start_key, end_key}]).
// Requests need every member the filter must rewrite: a missing key would leave PD a default.
const KEY_RANGE_REQ = obj().field("start_key", K_KEY_START, true).field("end_key", K_KEY_END, true);
const KEY_RANGE_RESP = obj().field("start_key", K_KEY_START).field("end_key", K_KEY_END);
export const LABEL_RULE_REQ = obj().field("id", K_LABEL_ID, true).sub("data", arr(K_SUB, KEY_RANGE_REQ), true);
export const LABEL_RULE_RESP = obj().field("id", K_LABEL_ID).sub("data", arr(K_SUB, KEY_RANGE_RESP)).identity("id", K_LABEL_ID);
/** GET .../region-label/rules and .../rules/ids: other tenants' rules (and PD's keyspaces/<id>) are dropped. */
export const LABEL_RULES_RESP = arr(K_SUB, LABEL_RULE_RESP, true);
/** Body of .../region-label/rules/ids: ["schema/db/t", ...]. */
export const LABEL_IDS_REQ = arr(K_LABEL_ID, null);
/** PATCH .../region-label/rules: {"sets": [LabelRule], "deletes": [id]} (json tags "sets"/"deletes"). */
export const LABEL_PATCH_REQ = obj().sub("sets", arr(K_SUB, LABEL_RULE_REQ)).sub("deletes", arr(K_LABEL_ID, null));

// Placement rules. A Rule without start_key/end_key would cover every key: they are required.
/** A Rule in a bundle: PD fills a missing group_id with the bundle's. */
const RULE_IN_BUNDLE_REQ = obj().field("group_id", K_PL_GROUP).field("id", K_PL_RULE_ID, true)
  .field("start_key", K_KEY_START, true).field("end_key", K_KEY_END, true);
/** POST .../config/rule, and each RuleOp of POST .../config/rules/batch (same members). */
export const RULE_REQ = obj().field("group_id", K_PL_GROUP, true).field("id", K_PL_RULE_ID, true)
  .field("start_key", K_KEY_START, true).field("end_key", K_KEY_END, true);
export const RULE_OPS_REQ = arr(K_SUB, RULE_REQ);
const BUNDLE_REQ = obj().field("group_id", K_PL_BUNDLE_GROUP, true).sub("rules", arr(K_SUB, RULE_IN_BUNDLE_REQ));
/** POST .../config/placement-rule?partial: [GroupBundle]. */
export const BUNDLES_REQ = arr(K_SUB, BUNDLE_REQ);
const RULE_RESP = obj().field("group_id", K_PL_GROUP).field("id", K_PL_RULE_ID)
  .field("start_key", K_KEY_START).field("end_key", K_KEY_END).identity("id", K_PL_RULE_ID);
/** GET .../config/rules/group/<group>: other tenants' rules are dropped. */
export const RULES_RESP = arr(K_SUB, RULE_RESP, true);
/** GET .../config/placement-rule/<group>: one GroupBundle of the tenant. */
export const BUNDLE_RESP = obj().field("group_id", K_PL_GROUP).sub("rules", arr(K_SUB, RULE_RESP));

// Regions (hex memcomparable start_key/end_key, upper-case from PD).
/** GET .../region/key/<key>: one RegionInfo (or null). */
export const REGION_RESP = obj().field("start_key", K_REGION_START).field("end_key", K_REGION_END);
/** GET .../regions/key: {"count": n, "regions": [RegionInfo]}; regions outside the keyspace are dropped. */
export const REGIONS_RESP = obj().counted("count", "regions").sub("regions", arr(K_SUB, REGION_RESP, true));
