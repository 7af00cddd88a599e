import { baseEnvSchema, jsonEnv, loadConfig } from "@retail/platform/config";
import { z } from "zod";

/**
 * The order service's environment: the platform's variables, its peers and sweeps. Tax rates and
 * store jurisdictions are data (TaxRate RPCs, inventory's locations), not environment.
 */
export const orderEnvSchema = baseEnvSchema.extend({
  CUSTOMER_IDENTITY_URL: z.url(),
  INVENTORY_URL: z.url(),
  /** Deadline of each call to a peer service. */
  PEER_TIMEOUT_MS: z.coerce.number().int().positive().default(5_000),
  /**
   * How long the stock of an order still being accepted is held: its reservations are confirmed
   * (held until shipped, picked up or cancelled) when it is accepted, so this covers the saga alone.
   */
  PENDING_HOLD_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(15 * 60_000),
  /** A tax engine (TaxJar's API) asked for shipped lines before the rate table; unset: none. */
  TAX_ENGINE_URL: z.url().optional(),
  TAX_ENGINE_TOKEN: z.string().default(""),
  /** The deadline of one tax engine call. */
  TAX_ENGINE_TIMEOUT_MS: z.coerce.number().int().positive().default(2_000),
  /**
   * JSON {channel: "rate_table" | "hold" | "refuse" | "defer"} ("*" for the rest): what a channel's
   * orders do when the engine does not answer in time: priced from the rate table; priced so and held
   * PENDING for review (ReleaseTaxHold); refused; or answered UNAVAILABLE for the channel to send again.
   * Default: the rate table for every channel.
   */
  TAX_ENGINE_FALLBACK: jsonEnv(z.record(z.string(), z.enum(["rate_table", "hold", "refuse", "defer"])), {
    "*": "rate_table",
  }),
  /** An acceptance saga still pending after this long (a crash, a peer down) is resumed. */
  PENDING_GRACE_MS: z.coerce.number().int().positive().default(30_000),
  /** How often pending sagas and uncollected pickups are looked for. */
  SWEEP_MS: z.coerce.number().int().positive().default(5_000),
  /** Default time a pickup waits in store before it is cancelled. */
  PICKUP_HOLD_HOURS: z.coerce.number().int().positive().default(72),
});

export type OrderConfig = z.output<typeof orderEnvSchema>;

export function loadOrderConfig(env: Record<string, string | undefined> = process.env): OrderConfig {
  return loadConfig(orderEnvSchema, env);
}
