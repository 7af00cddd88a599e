/**
 * When a failed delivery is tried again: after the schedule's delay for the attempt that failed (the
 * first try is at once), spread by ±20% jitter so a recovering endpoint is not hit by every delivery in
 * the same second, and never sooner than the endpoint's Retry-After. Undefined: the schedule is spent,
 * the delivery is dead.
 */
export function nextAttemptDelayMs(
  schedule: readonly number[],
  failedAttempts: number,
  random: () => number,
  retryAfterMs = 0,
): number | undefined {
  const base = schedule[failedAttempts - 1];
  if (base === undefined) return undefined;
  const jittered = Math.round(base * (0.8 + 0.4 * random()));
  return Math.max(jittered, retryAfterMs);
}

/** A Retry-After header (seconds or an HTTP date) in milliseconds from now; 0 when absent or unreadable. */
export function retryAfterMs(header: string | null, now: Date): number {
  if (!header) return 0;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? 0 : Math.max(0, at - now.getTime());
}
