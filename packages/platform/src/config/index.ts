import { z } from "zod";
import { parseServiceKeys } from "../rpc/peer-auth.js";

/** Raised at start when the environment is incomplete or wrong; names every offending variable. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
  }
}

/** Environment variables every service reads. Services extend this with their own. */
export const baseEnvSchema = z.object({
  /** gRPC (HTTP/2, cleartext): what the other services, the gateway and probes call. */
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** Set: the same services in the Connect and gRPC-Web protocols too, on this port (browsers, curl). */
  WEB_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  MONGODB_URL: z.url({ protocol: /^mongodb(\+srv)?$/, error: "must be a mongodb:// or mongodb+srv:// URL" }),
  MONGODB_DATABASE: z.string().min(1).optional(),
  AMQP_URL: z.url({ protocol: /^amqps?$/, error: "must be an amqp:// or amqps:// URL" }),
  /** The topic exchange of domain events (tests give each file its own). */
  EVENTS_EXCHANGE: z.string().min(1).default("retail.events"),
  /** Put before every consumer queue's name (tests give each file its own queues, as exchanges). */
  QUEUE_PREFIX: z.string().default(""),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().positive().default(10_000),
  /**
   * The mesh's service keys ("kid:secret,kid:secret", base64url secrets of at least 32 bytes; the first
   * signs, all verify). Set, a service answers only peers with a token signed by one of them and signs
   * its own calls; unset, anyone who reaches its port may call it (development only).
   */
  MESH_SERVICE_KEYS: z
    .string()
    .optional()
    .transform((text, context) => {
      if (!text) return undefined;
      try {
        return parseServiceKeys(text);
      } catch (error) {
        context.addIssue({ code: "custom", message: error instanceof Error ? error.message : String(error) });
        return z.NEVER;
      }
    }),
});

/**
 * Parses the environment once against a schema and returns a typed config, or throws one ConfigError
 * listing every missing or bad variable with the rule it broke.
 */
export function loadConfig<Schema extends z.ZodType>(
  schema: Schema,
  env: Record<string, string | undefined> = process.env,
): z.output<Schema> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => {
      const name = issue.path.join(".") || "(environment)";
      const missing = issue.code === "invalid_type" && env[name] === undefined;
      return missing ? `${name} is required but not set` : `${name}: ${issue.message}`;
    }),
  );
}

/**
 * An environment variable holding JSON (rules, tables), parsed by a schema; unset, it is `fallback`
 * as given. A value that is not JSON is reported like any other bad variable.
 */
export function jsonEnv<T extends z.ZodType>(schema: T, fallback: z.output<T>) {
  return z
    .string()
    .optional()
    .transform((text, ctx) => {
      if (!text) return undefined;
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: "must be JSON" });
        return z.NEVER;
      }
    })
    .pipe(schema.optional())
    .transform((parsed) => (parsed ?? fallback) as z.output<T>);
}
