// Per-client rate limits: a token bucket per client id, refilled continuously. A refused request learns
// when one token will be back (Retry-After, whole seconds, at least 1). Buckets live in this gateway
// process: with N replicas a client gets up to N times its limit, which is the usual trade for not
// putting a shared store on every request's path.

export interface RateLimit {
  readonly requestsPerSecond: number;
  readonly burst: number;
}

export type RateDecision =
  | { readonly allowed: true; readonly remaining: number }
  | { readonly allowed: false; readonly retryAfterSeconds: number };

export interface RateLimiter {
  take(clientId: string, limit: RateLimit): RateDecision;
}

/** Creates the limiter; `now` is injectable for tests (milliseconds). */
export function createRateLimiter(now: () => number = () => performance.now()): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take(clientId, limit) {
      const t = now();
      const bucket = buckets.get(clientId) ?? { tokens: limit.burst, at: t };
      bucket.tokens = Math.min(
        limit.burst,
        bucket.tokens + ((t - bucket.at) / 1000) * limit.requestsPerSecond,
      );
      bucket.at = t;
      buckets.set(clientId, bucket);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return { allowed: true, remaining: Math.floor(bucket.tokens) };
      }
      const wait = (1 - bucket.tokens) / limit.requestsPerSecond;
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(wait)) };
    },
  };
}
