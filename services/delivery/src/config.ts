import { baseEnvSchema, loadConfig } from "@retail/platform/config";
import { z } from "zod";

const delays = z
  .string()
  .regex(/^\d+(,\d+)*$/, "comma-separated delays in milliseconds, such as 5000,300000")
  .transform((text) => text.split(",").map(Number));

/** Delivery's environment: the platform's variables plus how deliveries are paced and retried. */
export const deliveryEnvSchema = baseEnvSchema.extend({
  /**
   * The delay before each retry of a failed delivery (the first try is at once); past the last, the
   * delivery is dead. The default is Standard Webhooks' suggested schedule: 5 s, 5 min, 30 min, 2 h,
   * 5 h, 10 h, 10 h (about 27 hours in all).
   */
  DELIVERY_RETRY_SCHEDULE_MS: delays.default([
    5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
  ]),
  /** An endpoint that has not answered within this is a failed attempt. */
  DELIVERY_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  /** How often each instance looks for due deliveries when no event woke it. */
  DELIVERY_POLL_MS: z.coerce.number().int().positive().default(500),
  /** A subscription's lease: another instance takes its deliveries over this long after a crash. */
  DELIVERY_LEASE_MS: z.coerce.number().int().positive().default(30_000),
  /** Aggregates of one subscription delivered to at once. */
  DELIVERY_CONCURRENCY: z.coerce.number().int().positive().default(8),
  /**
   * How long a delivered delivery is kept (listing, replay from a point in time); dead and pending ones
   * are kept until they are delivered.
   */
  DELIVERY_RETENTION_DAYS: z.coerce.number().int().positive().default(30),
  /**
   * An event whose subscription filters on channel or location, arriving before its aggregate's facts
   * (its order's acceptance late or handled beside it), waits this long for them, then is dropped.
   */
  DELIVERY_FACTS_WAIT_MS: z.coerce.number().int().positive().default(90_000),
  /**
   * A delivery's first attempt waits this long after it is recorded, so an earlier event of its
   * aggregate handled at the same moment by another instance is recorded first and goes first.
   */
  DELIVERY_SETTLE_MS: z.coerce.number().int().min(0).default(250),
  /** How often the last week's erasures are applied again to the stored deliveries (a lost write). */
  DELIVERY_ERASURE_SWEEP_MS: z.coerce.number().int().positive().default(60_000),
  /** How often an instance re-reads the subscriptions (changes made through another instance). */
  SUBSCRIPTION_REFRESH_MS: z.coerce.number().int().positive().default(2_000),
});

export type DeliveryConfig = z.output<typeof deliveryEnvSchema>;

export function loadDeliveryConfig(env: Record<string, string | undefined> = process.env): DeliveryConfig {
  return loadConfig(deliveryEnvSchema, env);
}
