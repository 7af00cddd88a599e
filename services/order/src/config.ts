import { baseEnvSchema, loadConfig } from "@retail/platform/config";
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
