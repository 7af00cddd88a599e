import { describe, expect, it } from "vitest";
import { createRateLimiter } from "./rate-limit.js";

describe("rate limiter", () => {
  it("allows a burst, then refuses with the wait for the next token, then refills", () => {
    let now = 0;
    const limiter = createRateLimiter(() => now);
    const limit = { requestsPerSecond: 0.5, burst: 3 };
    expect([1, 2, 3].map(() => limiter.take("pos", limit).allowed)).toEqual([true, true, true]);
    expect(limiter.take("pos", limit)).toEqual({ allowed: false, retryAfterSeconds: 2 });
    // Another client has its own bucket.
    expect(limiter.take("web", limit).allowed).toBe(true);
    now += 2_000;
    expect(limiter.take("pos", limit)).toEqual({ allowed: true, remaining: 0 });
    expect(limiter.take("pos", limit).allowed).toBe(false);
  });
});
