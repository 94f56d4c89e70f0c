// Pure retry decisions: how long to wait before the next attempt, and whether to try again at all.

export interface RetryPolicy {
  /** Attempts in total, the first included. */
  maxAttempts: number;
  /** No retry is started once this much time has passed since the first attempt (or would pass while waiting). */
  maxRetryTimeMs: number;
  /** First backoff ceiling; doubles each attempt. */
  baseDelayMs: number;
  /** Largest backoff ceiling. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 6,
  maxRetryTimeMs: 300_000,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
};

/** The backoff ceiling after the 1-based `attempt`: `firstMs`, doubled per attempt, capped at the policy's maximum. */
function ceilingMs(attempt: number, firstMs: number, policy: RetryPolicy): number {
  return Math.min(policy.maxDelayMs, firstMs * 2 ** Math.max(0, attempt - 1));
}

/** Exponential backoff with full jitter (a uniform pick in [0, ceiling]); `attempt` is the 1-based attempt that failed. */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  return Math.floor(random() * ceilingMs(attempt, policy.baseDelayMs, policy));
}

/** Retry-After as delta-seconds or an HTTP date, in ms from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * The backoff after a 429 that came without Retry-After. Sophos documents that header only for other APIs and
 * publishes no limits (sophos-central-api.md §7), so the limit may be a per-minute window that the generic
 * backoff (about 8 s over every attempt) would not outlast. This one starts ten times higher and never waits
 * less than half its ceiling: with the default policy, 47-95 s over five retries.
 */
export function rateLimitDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = ceilingMs(attempt, 10 * policy.baseDelayMs, policy);
  return Math.floor(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * The wait before the next attempt, or undefined to give up. A server's Retry-After is honoured as is
 * (plus a little jitter so that many tenants told the same time do not return in one burst).
 */
export function nextDelay(
  args: { attempt: number; elapsedMs: number; retryAfterMs?: number; rateLimited?: boolean },
  policy: RetryPolicy,
  random: () => number = Math.random,
): number | undefined {
  if (args.attempt >= policy.maxAttempts) return undefined;
  const delay =
    args.retryAfterMs !== undefined
      ? args.retryAfterMs + Math.floor(random() * Math.min(1000, policy.baseDelayMs))
      : args.rateLimited
        ? rateLimitDelay(args.attempt, policy, random)
        : backoffDelay(args.attempt, policy, random);
  if (args.elapsedMs + delay > policy.maxRetryTimeMs) return undefined;
  return delay;
}

/** HTTP statuses worth another attempt of an idempotent request. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 408 || status >= 500;
}
