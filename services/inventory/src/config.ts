import { baseEnvSchema, loadConfig } from "@retail/platform/config";
import { z } from "zod";

/** Inventory's environment: the platform's variables plus its own timings. */
export const inventoryEnvSchema = baseEnvSchema.extend({
  /** How often each instance looks for expired reservations. */
  RESERVATION_SWEEP_MS: z.coerce.number().int().positive().default(1_000),
  /**
   * A reservation still pending after this long was abandoned mid-placement (a crash) and expires; the
   * order places it again. Its caller waits this long after an inventory crash, so it is short; a
   * placing merely slower than this (ReserveStock's slowest was about 4 s on a loaded 2-core machine)
   * finds its reservation swept, lets go of what it held and answers it released: placed again too.
   */
  PENDING_RESERVATION_GRACE_MS: z.coerce.number().int().positive().default(20_000),
  /**
   * How often each instance catches its read model up from the ledger (it also does after every
   * reconnect to the broker): the bound on how long a missed event can leave availability stale.
   */
  READ_MODEL_CATCH_UP_MS: z.coerce.number().int().positive().default(30_000),
  /** How far before its last catch-up each one looks again (other instances' clocks, slow writes). */
  READ_MODEL_CATCH_UP_OVERLAP_MS: z.coerce.number().int().nonnegative().default(10_000),
  /** A transfer still between its two ledger appends after this long was interrupted and is completed. */
  PENDING_TRANSFER_GRACE_MS: z.coerce.number().int().positive().default(30_000),
  /** Hold time of a reservation that names no ttl (a cart, a pending order), until it is confirmed. */
  RESERVATION_TTL_DEFAULT_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(15 * 60_000),
  /** The shortest and longest ttl a caller may ask for. Confirmed reservations have none. */
  RESERVATION_TTL_MIN_MS: z.coerce.number().int().positive().default(1_000),
  RESERVATION_TTL_MAX_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(24 * 3600_000),
});

export type InventoryConfig = z.output<typeof inventoryEnvSchema>;

export function loadInventoryConfig(env: Record<string, string | undefined> = process.env): InventoryConfig {
  return loadConfig(inventoryEnvSchema, env);
}
