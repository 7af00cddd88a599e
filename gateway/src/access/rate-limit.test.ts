import { createLogger } from "@retail/platform/log";
import { freePort } from "@retail/platform/processes";
import { testRedisUrl, uniqueName, until } from "@retail/platform/testing";
import { afterEach, describe, expect, it } from "vitest";
import { createRateLimiter, createSharedRateLimiter, type RateLimiter, sharedWindow } from "./rate-limit.js";

describe("rate limiter in this process", () => {
  it("allows a burst, then refuses with the wait for the next token, then refills", async () => {
    let now = 0;
    const limiter = createRateLimiter(() => now);
    const limit = { requestsPerSecond: 0.5, burst: 3 };
    const first = await Promise.all([1, 2, 3].map(() => limiter.take("pos", limit)));
    expect(first.map((d) => d.allowed)).toEqual([true, true, true]);
    expect(await limiter.take("pos", limit)).toEqual({ allowed: false, retryAfterSeconds: 2 });
    // Another client has its own bucket.
    expect((await limiter.take("web", limit)).allowed).toBe(true);
    now += 2_000;
    expect(await limiter.take("pos", limit)).toEqual({ allowed: true, remaining: 0 });
    expect((await limiter.take("pos", limit)).allowed).toBe(false);
  });
});

describe("rate limiter shared through Redis", () => {
  const open: RateLimiter[] = [];
  const logged: string[] = [];
  const logger = createLogger({
    service: "gateway",
    level: "info",
    destination: { write: (line: string) => logged.push(line) },
  });
  const shared = async (url: string, prefix: string) => {
    const limiter = await createSharedRateLimiter(url, logger, prefix);
    open.push(limiter);
    return limiter;
  };
  afterEach(async () => {
    for (const limiter of open.splice(0)) await limiter.close();
  });

  it("counts a window holding at least a burst, in whole seconds", () => {
    expect(sharedWindow({ requestsPerSecond: 1, burst: 4 })).toEqual({ seconds: 4, requests: 4 });
    expect(sharedWindow({ requestsPerSecond: 0.2, burst: 2 })).toEqual({ seconds: 10, requests: 2 });
    expect(sharedWindow({ requestsPerSecond: 3, burst: 10 })).toEqual({ seconds: 4, requests: 12 });
    expect(sharedWindow({ requestsPerSecond: 100, burst: 50 })).toEqual({ seconds: 1, requests: 100 });
  });

  it("holds one limit across two replicas: together they let through what one would", async () => {
    const prefix = uniqueName("rate");
    const [a, b] = [await shared(testRedisUrl(), prefix), await shared(testRedisUrl(), prefix)];
    const limit = { requestsPerSecond: 1, burst: 4 };
    const decisions = [];
    for (let i = 0; i < 8; i++) decisions.push(await (i % 2 ? b : a).take("pos", limit));
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, true, false, false, false, false]);
    const refused = decisions[4];
    if (refused?.allowed !== false) throw new Error("the fifth request was let through");
    expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(refused.retryAfterSeconds).toBeLessThanOrEqual(4);
    // Other clients count apart.
    expect((await b.take("web", limit)).allowed).toBe(true);
  });

  it("limits each replica on its own while Redis cannot be reached, and says so once", async () => {
    const nowhere = `redis://127.0.0.1:${await freePort()}`;
    const limiter = await shared(nowhere, uniqueName("rate"));
    const limit = { requestsPerSecond: 1, burst: 2 };
    const decisions = [];
    for (let i = 0; i < 3; i++) decisions.push(await limiter.take("pos", limit));
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, false]);
    const warnings = () => logged.filter((line) => line.includes("rate-limit store unreachable"));
    await until(() => expect(warnings()).toHaveLength(1));
    await new Promise((resolve) => setTimeout(resolve, 500)); // reconnect attempts fail meanwhile
    expect(warnings()).toHaveLength(1);
  });
});
