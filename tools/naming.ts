// Kubernetes naming rules (cdk8s habit: names capped at 63 characters with a hash suffix).
import { createHash } from 'crypto';

export const MAX_NAME = 63;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/**
 * Returns `base` if it fits in `max` characters, else a prefix of it plus "-" and the first
 * 8 hex digits of sha256(base). Deterministic; distinct long bases get distinct names.
 */
export function boundedName(base: string, max: number = MAX_NAME): string {
  if (base.length <= max) return base;
  const hash = createHash('sha256').update(base).digest('hex').slice(0, 8);
  const head = base.slice(0, max - hash.length - 1).replace(/[-.]+$/, '');
  return `${head}-${hash}`;
}

/** True if `name` is a DNS-1123 label (Service names, label-safe names): ≤63, [a-z0-9-]. */
export function isDnsLabel(name: string): boolean {
  return name.length <= MAX_NAME && DNS1123_LABEL.test(name);
}

/** True if `value` is a valid Kubernetes label value (≤63 characters). */
export function isLabelValue(value: string): boolean {
  return value.length <= MAX_NAME && LABEL_VALUE.test(value);
}
