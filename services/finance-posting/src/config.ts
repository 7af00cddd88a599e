import { baseEnvSchema, jsonEnv, loadConfig } from "@retail/platform/config";
import { z } from "zod";
import { defaultRuleSet, type RuleSet } from "./domain/rules.js";

const template = z.object({
  account: z.string().min(1),
  side: z.enum(["debit", "credit"]),
  amount: z.enum(["amount", "net", "tax", "discount", "gross", "total", "amount_less_tax"]),
});
const ruleSetSchema = z.object({
  version: z.string().min(1),
  accounts: z.record(z.string(), z.string()),
  granularity: z.record(z.string(), z.enum(["detail", "summary"])),
  providers: z.record(z.string(), z.string().min(1)),
  rules: z.array(
    z.object({
      fact: z.string(),
      channels: z.array(z.string()).optional(),
      paymentMethods: z.array(z.string()).optional(),
      taxCodes: z.array(z.string()).optional(),
      providers: z.array(z.string()).optional(),
      providerKinds: z.array(z.string()).optional(),
      lines: z.array(template).min(2),
    }),
  ),
});

/** Finance's environment: the platform's variables, its rule set, sweeps and the ERP file adapter. */
export const financeEnvSchema = baseEnvSchema.extend({
  /** JSON rule set (accounts, granularity per channel, rules); defaults in domain/rules.ts. */
  POSTING_RULES: jsonEnv(ruleSetSchema, defaultRuleSet as z.output<typeof ruleSetSchema>),
  /** How often store days are summarised. */
  SUMMARY_SWEEP_MS: z.coerce.number().int().positive().default(60_000),
  /**
   * A capture, refund or chargeback in no settlement this many days after it was posted becomes a
   * reconciliation exception (providers pay out within days; marketplaces within two weeks).
   */
  SETTLEMENT_GRACE_DAYS: z.coerce.number().int().nonnegative().default(14),
  /** How often posted items still waiting for a settlement are looked for. */
  UNSETTLED_SWEEP_MS: z.coerce.number().int().positive().default(3_600_000),
  /** Where the NetSuite journal CSV adapter writes its batches. */
  ERP_EXPORT_DIR: z.string().default(".mesh/erp-exports"),
  ERP_BATCH_MAX_ENTRIES: z.coerce.number().int().positive().default(1_000),
  ERP_BATCHES_PER_MINUTE: z.coerce.number().int().positive().default(6),
  /** A batch begun this long ago and never finished (its exporter died) is finished by the next export. */
  ERP_STRANDED_BATCH_MS: z.coerce.number().int().positive().default(60_000),
});

export type FinanceConfig = z.output<typeof financeEnvSchema> & { POSTING_RULES: RuleSet };

export function loadFinanceConfig(env: Record<string, string | undefined> = process.env): FinanceConfig {
  return loadConfig(financeEnvSchema, env) as FinanceConfig;
}
