import { baseEnvSchema, loadConfig } from "@retail/platform/config";
import { z } from "zod";

/** Operations' environment: the platform's variables plus its thresholds and retention. */
export const operationsEnvSchema = baseEnvSchema.extend({
  /** A stock movement recorded this long after it happened at its source is a late update. */
  LATE_STOCK_UPDATE_MS: z.coerce.number().int().positive().default(300_000),
  /** How often the open-exception gauges are read from the store. */
  EXCEPTION_GAUGES_MS: z.coerce.number().int().positive().default(30_000),
  /** How long the events of a trace are kept. */
  TRACE_RETENTION_DAYS: z.coerce.number().int().positive().default(30),
});

export type OperationsConfig = z.output<typeof operationsEnvSchema>;

export function loadOperationsConfig(
  env: Record<string, string | undefined> = process.env,
): OperationsConfig {
  return loadConfig(operationsEnvSchema, env);
}
