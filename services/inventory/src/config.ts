import { baseEnvSchema, loadConfig } from "@retail/platform/config";
import { z } from "zod";

/** Inventory's environment: the platform's variables plus its own timings. */
export const inventoryEnvSchema = baseEnvSchema.extend({
  /** How often each instance looks for expired reservations. */
  RESERVATION_SWEEP_MS: z.coerce.number().int().positive().default(1_000),
  /** A reservation still pending after this long was abandoned mid-placement and is released. */
  PENDING_RESERVATION_GRACE_MS: z.coerce.number().int().positive().default(60_000),
});

export type InventoryConfig = z.output<typeof inventoryEnvSchema>;

export function loadInventoryConfig(env: Record<string, string | undefined> = process.env): InventoryConfig {
  return loadConfig(inventoryEnvSchema, env);
}
