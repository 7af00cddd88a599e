// Per-client rate limits. Two kinds, one interface:
// - in this process (the default): a token bucket per client id, refilled continuously. With N gateway
//   replicas a client gets up to N times its limit.
// - shared by every replica (RATE_LIMIT_REDIS_URL set): rate-limiter-flexible's Redis limiter, one
//   fixed window per client of ceil(burst / rate) seconds holding rate x window requests (at least
//   `burst`), counted atomically in Redis. A replica that cannot reach Redis decides from its own
//   in-process window of the same size (the library's insurance limiter) and says so once in its log,
//   so an outage of Redis neither stops the gateway nor lifts the limits.
// A refused request learns when it may try again (Retry-After, whole seconds, at least 1).
import type { Logger } from "@retail/platform/log";
import { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";

export interface RateLimit {
  readonly requestsPerSecond: number;
  readonly burst: number;
}

export type RateDecision =
  | { readonly allowed: true; readonly remaining: number }
  | { readonly allowed: false; readonly retryAfterSeconds: number };

export interface RateLimiter {
  take(clientId: string, limit: RateLimit): Promise<RateDecision>;
  close(): Promise<void>;
}

/** The in-process limiter; `now` is injectable for tests (milliseconds). */
export function createRateLimiter(now: () => number = () => performance.now()): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    async take(clientId, limit) {
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
    async close() {},
  };
}

/** The window a shared limit is counted in: whole seconds (Redis expiries are), holding at least a burst. */
export function sharedWindow(limit: RateLimit): { seconds: number; requests: number } {
  const seconds = Math.max(1, Math.ceil(limit.burst / limit.requestsPerSecond));
  return { seconds, requests: Math.max(limit.burst, Math.floor(limit.requestsPerSecond * seconds)) };
}

/**
 * The limiter every replica shares through the Redis at `redisUrl`, once its connection is up (or has
 * failed once: a gateway starts, limiting on its own, while Redis is away).
 */
export async function createSharedRateLimiter(
  redisUrl: string,
  logger: Logger,
  keyPrefix = "gateway:rate",
): Promise<RateLimiter> {
  // No offline queue: while Redis is away a decision falls to the insurance limiter at once instead of
  // waiting for a reconnect on the request's path.
  const redis = new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  let reachable = true;
  redis.on("error", (error: Error) => {
    if (!reachable) return;
    reachable = false;
    logger.warn(
      { err: error },
      "rate-limit store unreachable: each replica limits on its own until it is back",
    );
  });
  redis.on("ready", () => {
    if (reachable) return;
    reachable = true;
    logger.info("rate-limit store reachable again: limits are shared");
  });
  await new Promise<void>((resolve) => {
    redis.once("ready", resolve);
    redis.once("error", () => resolve());
  });
  // One limiter per distinct limit (a clients-file change makes a new one, counted apart).
  const limiters = new Map<string, RateLimiterRedis>();
  const limiterFor = (limit: RateLimit) => {
    const { seconds, requests } = sharedWindow(limit);
    const name = `${keyPrefix}:${requests}/${seconds}s`;
    let limiter = limiters.get(name);
    if (!limiter) {
      limiter = new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: name,
        points: requests,
        duration: seconds,
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory({ points: requests, duration: seconds }),
      });
      limiters.set(name, limiter);
    }
    return limiter;
  };
  return {
    async take(clientId, limit) {
      try {
        const taken = await limiterFor(limit).consume(clientId);
        return { allowed: true, remaining: taken.remainingPoints };
      } catch (refusal) {
        if (!(refusal instanceof RateLimiterRes)) throw refusal;
        return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(refusal.msBeforeNext / 1000)) };
      }
    },
    async close() {
      redis.disconnect();
    },
  };
}
