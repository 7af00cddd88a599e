import { baseEnvSchema, jsonEnv, loadConfig } from "@retail/platform/config";
import { z } from "zod";

const ppm = z.number().int().min(0).max(1_000_000);

/** Sales tax and VAT of a few jurisdictions, in parts per million; replace with TAX_RATES. */
export const defaultTaxRates = {
  "US-NY": { standard: 88_750, exempt: 0 },
  "US-CA": { standard: 72_500, exempt: 0 },
  "US-TX": { standard: 62_500, exempt: 0 },
  "US-WA": { standard: 65_000, exempt: 0 },
  "US-KY": { standard: 60_000, exempt: 0 },
  "US-OH": { standard: 57_500, exempt: 0 },
  "US-OR": { standard: 0, exempt: 0 },
  GB: { standard: 200_000, reduced: 50_000, zero: 0 },
  DE: { standard: 190_000, reduced: 70_000 },
};

/** The order service's environment: the platform's variables, its peers, tax tables and sweeps. */
export const orderEnvSchema = baseEnvSchema.extend({
  CUSTOMER_IDENTITY_URL: z.url(),
  INVENTORY_URL: z.url(),
  /** Deadline of each call to a peer service. */
  PEER_TIMEOUT_MS: z.coerce.number().int().positive().default(5_000),
  /** JSON {jurisdiction: {taxCode: ppm}}. */
  TAX_RATES: jsonEnv(z.record(z.string(), z.record(z.string(), ppm)), defaultTaxRates),
  /** JSON {locationId: jurisdiction}: where pickup lines are taxed. */
  LOCATION_JURISDICTIONS: jsonEnv(z.record(z.string(), z.string()), {}),
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
