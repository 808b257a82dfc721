// The one place that decides what a caller sees when a call is refused: gRPC status code,
// grpc-message, and the metric reason. Messages never contain keys or values.
import {
  ERR_TRUNCATED, ERR_VARINT, ERR_WIRE_TYPE, ERR_FIELD_NUMBER, ERR_DEPTH, ERR_OUT_OF_KEYSPACE,
  ERR_DENIED, ERR_UNKNOWN_COMMAND, ERR_REGION_KEY, ERR_UNSUPPORTED, ERR_EMPTY_KEY, ERR_ETCD_KEY_FORMAT, ERR_COMPRESSED,
  ERR_KEY_NOT_ALLOWED, ERR_ETCD_DIGIT_KEY, ERR_ETCD_RANGE_SPAN,
  ERR_FRAME_FLAG, ERR_OVERSIZE, ERR_FRAME_TRUNCATED, frameReason,
} from "../proto/status";

export const GRPC_INVALID_ARGUMENT: u32 = 3;
export const GRPC_PERMISSION_DENIED: u32 = 7;
export const GRPC_RESOURCE_EXHAUSTED: u32 = 8;
export const GRPC_UNIMPLEMENTED: u32 = 12;
export const GRPC_INTERNAL: u32 = 13;
export const GRPC_UNAVAILABLE: u32 = 14;

export class Refusal {
  grpcStatus: u32;
  message: string;
  /** Metric/log reason, snake_case. */
  reason: string;
  constructor(grpcStatus: u32, message: string, reason: string) {
    this.grpcStatus = grpcStatus;
    this.message = "tidb-mesh: " + message;
    this.reason = reason;
  }
}

/** The refusal for a rewrite status in the given direction. */
export function refusalFor(status: i32, request: bool): Refusal {
  const where = request ? "request" : "response";
  switch (status) {
    case ERR_COMPRESSED: return new Refusal(GRPC_UNIMPLEMENTED, frameReason(status), "compressed");
    case ERR_OVERSIZE: return new Refusal(GRPC_RESOURCE_EXHAUSTED, frameReason(status), "oversize");
    case ERR_DENIED: return new Refusal(GRPC_PERMISSION_DENIED, frameReason(status), "denied_command");
    case ERR_UNKNOWN_COMMAND: return new Refusal(GRPC_UNIMPLEMENTED, frameReason(status), "unknown_command");
    case ERR_UNSUPPORTED: return new Refusal(GRPC_UNIMPLEMENTED, "the coprocessor needs mode api-v2", "unsupported_in_prefix_mode");
    case ERR_OUT_OF_KEYSPACE: return new Refusal(GRPC_INTERNAL, where + " " + frameReason(status), "out_of_keyspace");
    case ERR_EMPTY_KEY: return new Refusal(GRPC_INVALID_ARGUMENT, frameReason(status), "empty_key");
    case ERR_ETCD_KEY_FORMAT: return new Refusal(GRPC_INVALID_ARGUMENT, frameReason(status), "etcd_key_format");
    case ERR_ETCD_DIGIT_KEY: return new Refusal(GRPC_INVALID_ARGUMENT, frameReason(status), "etcd_key_format");
    case ERR_ETCD_RANGE_SPAN: return new Refusal(GRPC_INVALID_ARGUMENT, frameReason(status), "etcd_range_span");
    // The only table with keyUnder rules is PD meta storage (schema/metastorage.ts), so the
    // message can say what is readable.
    case ERR_KEY_NOT_ALLOWED:
      return new Refusal(GRPC_PERMISSION_DENIED, frameReason(status) + " (PD meta storage: only keys under resource_group/, read-only)", "key_not_allowed");
    case ERR_TRUNCATED:
    case ERR_VARINT:
    case ERR_WIRE_TYPE:
    case ERR_FIELD_NUMBER:
    case ERR_DEPTH:
    case ERR_REGION_KEY:
    case ERR_FRAME_FLAG:
    case ERR_FRAME_TRUNCATED:
      return new Refusal(request ? GRPC_INVALID_ARGUMENT : GRPC_INTERNAL, "malformed " + where + ": " + frameReason(status), "malformed");
  }
  return new Refusal(GRPC_INTERNAL, where + " error " + status.toString(), "internal");
}
