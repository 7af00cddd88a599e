import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import { baseEnvSchema, jsonEnv, loadConfig } from "@retail/platform/config";
import { z } from "zod";
import { defaultMergeRules } from "./domain/merge-rules.js";
import { defaultSourceSystems, goldenAttributes } from "./domain/source-systems.js";

const region = z.string().regex(/^[A-Z]{2}$/, "an ISO 3166-1 alpha-2 code such as US");
const channelNames = Object.keys(Channel).filter((k) => Number.isNaN(Number(k)) && k !== "UNSPECIFIED");

const sourceSystemSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "lowercase letters, digits and '-'"),
  channel: z
    .enum(channelNames as [string, ...string[]])
    .transform((name) => Channel[name as keyof typeof Channel]),
  trust: z.number().int().min(0).max(1000),
  attributeTrust: z.partialRecord(z.enum(goldenAttributes), z.number().int().min(0).max(1000)).optional(),
  masksEmails: z.boolean().optional(),
  defaultRegion: region,
});

export const localMatchKeySecret = "local-development-only-match-key-secret";

/** Customer identity's environment: the platform's variables plus its source systems and merge rules. */
export const customerEnvSchema = baseEnvSchema.extend({
  /** JSON array of {id, channel, trust, attributeTrust?, defaultRegion}; defaults in source-systems.ts. */
  SOURCE_SYSTEMS: jsonEnv(
    z.array(sourceSystemSchema).min(1),
    defaultSourceSystems.map((s) => ({ ...s })),
  ),
  /** JSON {autoMerge, strongKeys, requireSameFamilyName}; defaults in merge-rules.ts. */
  MERGE_RULES: jsonEnv(
    z.object({
      autoMerge: z.boolean(),
      strongKeys: z.array(z.enum(["email", "phone", "loyalty_number", "source"])),
      requireSameFamilyName: z.boolean(),
    }),
    { ...defaultMergeRules, strongKeys: [...defaultMergeRules.strongKeys] },
  ),
  /** A match-key claim whose customer was never written after this long was left by a crash. */
  CLAIM_GRACE_MS: z.coerce.number().int().positive().default(30_000),
  /**
   * Key of the HMAC under which match keys (emails, phones) are stored. Set it per environment from a
   * secret; changing it means rebuilding the index from the customer streams. The default is for
   * local runs only and is logged as such.
   */
  MATCH_KEY_SECRET: z.string().min(16).default(localMatchKeySecret),
  /** Region a lookup by a national phone number (no +country) is read in. */
  LOOKUP_REGION: region.default("US"),
});

export type CustomerConfig = z.output<typeof customerEnvSchema>;

export function loadCustomerConfig(env: Record<string, string | undefined> = process.env): CustomerConfig {
  return loadConfig(customerEnvSchema, env);
}
