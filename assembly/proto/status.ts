// Status values returned by every parser and rewriter in this filter. Nothing that reads
// untrusted bytes throws: AssemblyScript cannot catch, and a throw traps the whole VM.
// filter/decision.ts maps each status to the gRPC status and message the caller sees.

export const OK: i32 = 0;
/** A varint, tag or length-delimited field runs past the end of its enclosing bytes. */
export const ERR_TRUNCATED: i32 = 1;
/** A varint longer than 10 bytes, or a length that does not fit in 32 bits. */
export const ERR_VARINT: i32 = 2;
/** Wire types 3/4 (groups), 6, 7, or a known field carried with the wrong wire type. */
export const ERR_WIRE_TYPE: i32 = 3;
/** Field number 0. */
export const ERR_FIELD_NUMBER: i32 = 4;
/** Messages nested deeper than MAX_DEPTH. */
export const ERR_DEPTH: i32 = 5;
/** A response key or range lies outside the tenant's keyspace. */
export const ERR_OUT_OF_KEYSPACE: i32 = 6;
/** The request uses a command or shape that cannot be scoped to one keyspace. */
export const ERR_DENIED: i32 = 7;
/** The request uses a command the filter does not know (an unknown BatchCommands oneof tag). */
export const ERR_UNKNOWN_COMMAND: i32 = 8;
/** A memcomparable region key that does not decode. */
export const ERR_REGION_KEY: i32 = 9;
/** The call cannot work in this mode (coprocessor in prefix mode). */
export const ERR_UNSUPPORTED: i32 = 10;
/** An etcd request with an empty key and no range end. */
export const ERR_EMPTY_KEY: i32 = 11;
/** An etcd key without the leading '/' while etcdNamespace has no trailing slash and does not end in {id} ("/" rule). */
export const ERR_ETCD_KEY_FORMAT: i32 = 16;
/** A request key outside the only prefix the method allows (MessageDesc.keyUnder: PD meta storage). */
export const ERR_KEY_NOT_ALLOWED: i32 = 17;
/** An etcd key starting with '0'..'9' while the namespace ends in the decimal keyspace id (no-digit rule). */
export const ERR_ETCD_DIGIT_KEY: i32 = 18;
/** An etcd range that meets both parts of a no-digit key space (keys below "0" and keys from ":" on). */
export const ERR_ETCD_RANGE_SPAN: i32 = 19;

export const MAX_DEPTH: i32 = 32;

/** Short stable reason used in grpc-message, logs and metric names. */
export function statusReason(status: i32): string {
  switch (status) {
    case OK: return "ok";
    case ERR_TRUNCATED: return "truncated protobuf field";
    case ERR_VARINT: return "malformed varint";
    case ERR_WIRE_TYPE: return "unsupported protobuf wire type";
    case ERR_FIELD_NUMBER: return "invalid protobuf field number";
    case ERR_DEPTH: return "protobuf nesting too deep";
    case ERR_OUT_OF_KEYSPACE: return "key outside the tenant keyspace";
    case ERR_DENIED: return "command cannot be scoped to a keyspace";
    case ERR_UNKNOWN_COMMAND: return "unknown BatchCommands command";
    case ERR_REGION_KEY: return "malformed memcomparable region key";
    case ERR_UNSUPPORTED: return "not supported in prefix mode";
    case ERR_EMPTY_KEY: return "empty etcd key";
    case ERR_ETCD_KEY_FORMAT: return "etcd keys must start with '/'";
    case ERR_KEY_NOT_ALLOWED: return "key outside the prefix this method may read";
    case ERR_ETCD_DIGIT_KEY: return "etcd keys must not start with a digit (the namespace ends in the keyspace id)";
    case ERR_ETCD_RANGE_SPAN: return "etcd range covers keys on both sides of the digits '0'..'9', which would include other keyspaces; use a prefix such as '/' or 'tidb/'";
  }
  return "unknown error";
}

/** A gRPC frame with the compressed flag set: the filter cannot see keys inside it. */
export const ERR_COMPRESSED: i32 = 12;
/** A gRPC frame flag byte other than 0 or 1. */
export const ERR_FRAME_FLAG: i32 = 13;
/** A gRPC message larger than maxMessageBytes. */
export const ERR_OVERSIZE: i32 = 14;
/** The stream ended inside a gRPC frame. */
export const ERR_FRAME_TRUNCATED: i32 = 15;

/** Short reason for the frame-level statuses (statusReason covers the message-level ones). */
export function frameReason(status: i32): string {
  switch (status) {
    case ERR_COMPRESSED: return "compressed gRPC messages are not supported; disable grpc compression";
    case ERR_FRAME_FLAG: return "malformed gRPC frame flag";
    case ERR_OVERSIZE: return "gRPC message larger than maxMessageBytes";
    case ERR_FRAME_TRUNCATED: return "stream ended inside a gRPC frame";
  }
  return statusReason(status);
}
