/** Exponential backoff with full jitter: attempt n waits a random time up to min(max, base × 2^n). */
export interface RetryPolicy {
  /** Attempts after the first failure. */
  retries: number;
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 4, baseMs: 2_000, maxMs: 30_000 };

export function backoffMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  return Math.round(random() * Math.min(policy.maxMs, policy.baseMs * 2 ** attempt));
}

/**
 * Runs `fn`, and again after a backoff each time it throws, up to `policy.retries` more
 * times; `stop()` ends the retrying early (the server is shutting down). The last error
 * is thrown when every attempt failed.
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  opts: { sleep?: (ms: number) => Promise<void>; random?: () => number; stop?: () => boolean; onRetry?: (attempt: number, waitMs: number, err: unknown) => void } = {},
): Promise<T> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref()));
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= policy.retries || opts.stop?.()) throw err;
      const wait = backoffMs(attempt, policy, opts.random);
      opts.onRetry?.(attempt + 1, wait, err);
      await sleep(wait);
      if (opts.stop?.()) throw err;
    }
  }
}
