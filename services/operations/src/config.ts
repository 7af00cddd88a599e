import { baseEnvSchema, loadConfig } from "@retail/platform/config";
import { z } from "zod";

/** Operations' environment: the platform's variables plus its thresholds and retention. */
export const operationsEnvSchema = baseEnvSchema.extend({
  /** A stock movement recorded this long after it happened at its source is a late update. */
  LATE_STOCK_UPDATE_MS: z.coerce.number().int().positive().default(300_000),
  /** How often erasures handled elsewhere are learned, and the last week's applied again. */
  ERASURE_REFRESH_MS: z.coerce.number().int().positive().default(10_000),
  /** How often the open-exception gauges are read from the store. */
  EXCEPTION_GAUGES_MS: z.coerce.number().int().positive().default(30_000),
  /**
   * The services whose admin RPCs (parked messages) operations gathers, by their address variables;
   * each one set is asked ("http://inventory:8080").
   */
  CUSTOMER_IDENTITY_URL: z.string().url().optional(),
  INVENTORY_URL: z.string().url().optional(),
  ORDER_URL: z.string().url().optional(),
  FINANCE_POSTING_URL: z.string().url().optional(),
  DELIVERY_URL: z.string().url().optional(),
  /** Deadline of a call to another service's admin RPCs. */
  PEER_TIMEOUT_MS: z.coerce.number().int().positive().default(20_000),
  /** How long a channel may show an order in another state than the mesh's before it is a drift. */
  DRIFT_GRACE_MS: z.coerce.number().int().nonnegative().default(600_000),
  /** How often channels' views are compared with the orders that changed. */
  DRIFT_SWEEP_MS: z.coerce.number().int().positive().default(30_000),
  /** How often the mesh's status is sampled for the last hour's charts (the console's, `mesh status`). */
  STATUS_SAMPLE_MS: z.coerce.number().int().positive().default(60_000),
  /** How long the events of a trace are kept. */
  TRACE_RETENTION_DAYS: z.coerce.number().int().positive().default(30),
});

export type OperationsConfig = z.output<typeof operationsEnvSchema>;

export function loadOperationsConfig(
  env: Record<string, string | undefined> = process.env,
): OperationsConfig {
  return loadConfig(operationsEnvSchema, env);
}
