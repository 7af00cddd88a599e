import { describe, expect, it } from "vitest";
import { nextAttemptDelayMs, retryAfterMs } from "./retry-schedule.js";

describe("the retry schedule", () => {
  const schedule = [5_000, 300_000];

  it("waits the schedule's delay for the attempt that failed, spread ±20%, then gives up", () => {
    expect(nextAttemptDelayMs(schedule, 1, () => 0)).toBe(4_000);
    expect(nextAttemptDelayMs(schedule, 1, () => 1)).toBe(6_000);
    expect(nextAttemptDelayMs(schedule, 2, () => 0.5)).toBe(300_000);
    expect(nextAttemptDelayMs(schedule, 3, () => 0.5)).toBeUndefined();
  });

  it("never retries sooner than the endpoint's Retry-After", () => {
    expect(nextAttemptDelayMs(schedule, 1, () => 0.5, 60_000)).toBe(60_000);
    expect(nextAttemptDelayMs(schedule, 1, () => 0.5, 1_000)).toBe(5_000);
  });

  it("reads Retry-After as seconds or as an HTTP date", () => {
    const now = new Date("2026-11-28T10:00:00Z");
    expect(retryAfterMs("120", now)).toBe(120_000);
    expect(retryAfterMs("Sat, 28 Nov 2026 10:01:00 GMT", now)).toBe(60_000);
    expect(retryAfterMs("soon", now)).toBe(0);
    expect(retryAfterMs(null, now)).toBe(0);
  });
});
