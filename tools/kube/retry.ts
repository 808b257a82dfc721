// Retrying what the API server asks to retry: HTTP 429 (Too Many Requests) with Retry-After, as
// answered for a few seconds after a CRD is created ("storage is (re)initializing") or by API
// priority and fairness. Everything else fails at once.

/** How long to wait and how often. */
export interface RetryPolicy {
  /** Attempts in total (first one included). */
  attempts: number;
  /** Used when Retry-After is missing or unparsable. */
  defaultDelayMs: number;
  /** Upper bound of one wait (a server asking for minutes gets this). */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 40, defaultDelayMs: 1000, maxDelayMs: 5000 };

function statusOf(e: unknown): number | undefined {
  return (e as any)?.statusCode ?? (e as any)?.response?.statusCode;
}

function messageOf(body: unknown): string | undefined {
  if (typeof body === 'string') { try { return JSON.parse(body)?.message; } catch { return undefined; } }
  return (body as any)?.message;
}

/** The wait before the next attempt, or undefined if `e` is not a 429 (do not retry). Pure. */
export function retryDelayMs(e: unknown, p: RetryPolicy = DEFAULT_RETRY): number | undefined {
  if (statusOf(e) !== 429) return undefined;
  const h = (e as any)?.response?.headers?.['retry-after'];
  const s = Number(Array.isArray(h) ? h[0] : h);
  const ms = Number.isFinite(s) && s >= 0 ? s * 1000 : p.defaultDelayMs;
  return Math.min(Math.max(ms, 100), p.maxDelayMs);
}

/**
 * Runs `fn`; on a 429 waits as the server asked and runs it again, up to `p.attempts` times.
 * `log` gets one line per retry. The last error propagates unchanged.
 */
export async function withRetry<T>(what: string, fn: () => Promise<T>, log: (line: string) => void, p: RetryPolicy = DEFAULT_RETRY,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms))): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      const wait = retryDelayMs(e, p);
      if (wait === undefined || attempt >= p.attempts) throw e;
      const msg = messageOf((e as any)?.body) ?? 'Too Many Requests';
      log(`${what}: the API server answered 429 (${msg}); retrying in ${(wait / 1000).toFixed(1)} s (attempt ${attempt + 1} of ${p.attempts})`);
      await sleep(wait);
    }
  }
}
