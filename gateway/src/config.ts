import { baseEnvSchema, loadConfig } from "@retail/platform/config";
import { z } from "zod";

const serviceUrl = z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" });

/** The gateway's environment: where the services are, who may call, and the limits of a request. */
export const gatewayEnvSchema = baseEnvSchema
  .pick({
    PORT: true,
    METRICS_PORT: true,
    MONGODB_URL: true,
    MONGODB_DATABASE: true,
    AMQP_URL: true,
    EVENTS_EXCHANGE: true,
    QUEUE_PREFIX: true,
    LOG_LEVEL: true,
    SHUTDOWN_GRACE_MS: true,
    MESH_SERVICE_KEYS: true,
  })
  .extend({
    CUSTOMER_IDENTITY_URL: serviceUrl,
    INVENTORY_URL: serviceUrl,
    ORDER_URL: serviceUrl,
    FINANCE_POSTING_URL: serviceUrl,
    DELIVERY_URL: serviceUrl,
    OPERATIONS_URL: serviceUrl,
    /** JSON file of channel clients, API key digests, JWT issuers and scope overrides; re-read on change. */
    GATEWAY_CLIENTS_FILE: z.string().min(1),
    /** Comma-separated origins allowed to call from a browser ("https://shop.example"); none by default. */
    CORS_ORIGINS: z
      .string()
      .default("")
      .transform((text) =>
        text
          .split(",")
          .map((o) => o.trim())
          .filter(Boolean),
      ),
    /**
     * Redis shared by every gateway replica for the per-client rate limits ("redis://host:6379"); when
     * unset each replica limits on its own.
     */
    RATE_LIMIT_REDIS_URL: z
      .url({ protocol: /^rediss?$/, error: "must be a redis:// or rediss:// URL" })
      .optional(),
    /** Largest request body accepted (413 beyond). */
    MAX_BODY_BYTES: z.coerce.number().int().positive().default(1_048_576),
    /** Largest file a streamed import takes (a settlement report), read as it comes, never whole. */
    IMPORT_MAX_BYTES: z.coerce.number().int().positive().default(268_435_456),
    /** Deadline of the service call importing a streamed file (the services allow 60 s at most). */
    IMPORT_TIMEOUT_MS: z.coerce.number().int().positive().max(60_000).default(60_000),
    /** Lines per call importing a settlement: a larger one goes to finance in parts (finance takes 25,000 at most). */
    IMPORT_PART_LINES: z.coerce.number().int().positive().max(25_000).default(25_000),
    /** Requests handled at once by this gateway; more are shed with 503 and Retry-After. */
    MAX_IN_FLIGHT: z.coerce.number().int().positive().default(256),
    /** Deadline of one REST call including the service call (504 beyond). */
    REQUEST_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
    /** How long a completed Idempotency-Key answer is kept for replay. */
    IDEMPOTENCY_RETENTION_MS: z.coerce.number().int().positive().default(86_400_000),
    /** How long the inbound journal keeps a channel message (webhooks, files) for operators and replay. */
    INBOUND_JOURNAL_RETENTION_DAYS: z.coerce.number().int().positive().default(30),
    /** An in-flight key older than this is taken over by a retry (its gateway is presumed gone). */
    IDEMPOTENCY_STALE_MS: z.coerce.number().int().positive().default(60_000),
  });

export type GatewayConfig = z.output<typeof gatewayEnvSchema>;

export function loadGatewayConfig(env: Record<string, string | undefined> = process.env): GatewayConfig {
  return loadConfig(gatewayEnvSchema, env);
}
