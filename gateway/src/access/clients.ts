// Who may call the gateway: the channel clients, their credentials, scopes, channel binding and rate
// limit, read from one JSON file (a Kubernetes Secret in a cluster) and re-read when it changes, so
// keys rotate and scopes change without a restart. API keys are stored only as SHA-256 digests; JWTs
// are verified against the issuers the file lists, and name a configured client in `sub`.
import { createHash } from "node:crypto";
import { readFileSync, unwatchFile, watchFile } from "node:fs";
import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import type { Logger } from "@retail/platform/log";
import { z } from "zod";

const channelNames = Object.keys(Channel).filter((k) => Number.isNaN(Number(k)) && k !== "UNSPECIFIED");

const clientSchema = z.object({
  /** Stable id: logs, metrics, idempotency and rate limits are kept per client. */
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "lower-case letters, digits and dashes"),
  /** SHA-256 (hex) of each API key the client may present in X-Api-Key; several while rotating. */
  apiKeySha256: z.array(z.string().regex(/^[0-9a-f]{64}$/, "64 hex digits")).default([]),
  /** Granted scopes: "order:read", "order:*", "*". */
  scopes: z.array(z.string().regex(/^(\*|[a-z]+:(\*|[a-z]+))$/, 'like "order:read", "order:*" or "*"')),
  /** Binds the client to one sales channel (and optionally one channel id): it sees only those orders. */
  channel: z.enum(channelNames.map((n) => `CHANNEL_${n}`) as [string, ...string[]]).optional(),
  channelId: z.string().min(1).optional(),
  rateLimit: z
    .object({ requestsPerSecond: z.number().positive(), burst: z.number().int().positive() })
    .default({ requestsPerSecond: 50, burst: 100 }),
});

const issuerSchema = z.object({
  issuer: z.string().min(1),
  audience: z.string().min(1),
  /** SPKI PEM of the issuer's public key (RS256/ES256/EdDSA), or a shared secret for HS256. */
  publicKeyPem: z.string().optional(),
  secret: z.string().min(32, "at least 32 characters").optional(),
  /** Signature algorithms accepted from this issuer ("none" is never one). */
  algorithms: z
    .array(
      z.enum(
        [
          "HS256",
          "HS384",
          "HS512",
          "RS256",
          "RS384",
          "RS512",
          "PS256",
          "PS384",
          "PS512",
          "ES256",
          "ES384",
          "ES512",
          "EdDSA",
        ],
        { error: "must be a signature algorithm (HS256, RS256, ES256, EdDSA, ...)" },
      ),
    )
    .min(1),
});

const shopifyShopSchema = z.object({
  /** X-Shopify-Shop-Domain of the shop ("acme.myshopify.com"). */
  shopDomain: z.string().min(1),
  /** The app's webhook signing secret (HMAC key: kept in clear, so this file is a Secret). */
  webhookSecret: z.string().min(16, "at least 16 characters"),
  /** The configured client the shop's webhooks act as (scopes, rate limit, channel binding). */
  clientId: z.string().min(1),
  /** The sales channel's id in the mesh ("web"): its inventory rule decides where orders ship from. */
  channelId: z.string().min(1),
  /** The customer source system of the shop's customers. */
  sourceSystem: z.string().min(1).default("shopify-web"),
  /**
   * Shopify location ids to the mesh's location ids ({"24826418": "ST-1"}): where a refund that
   * restocks returned goods books them.
   */
  locations: z.record(z.string().regex(/^\d+$/, "a Shopify location id"), z.string().min(1)).default({}),
});

const stripeEndpointSchema = z.object({
  /** The endpoint's signing secret ("whsec_…"). */
  webhookSecret: z.string().min(16, "at least 16 characters"),
  /** The configured client the endpoint's events act as. */
  clientId: z.string().min(1),
  /** How old a signature may be (Stripe's libraries default to 300 s). */
  toleranceSeconds: z.number().int().positive().default(300),
});

const x12PartnerSchema = z.object({
  /** The partner's interchange sender id (ISA06, without padding). */
  senderId: z.string().min(1),
  /** The configured client that may post the partner's files (its API key, scopes, channel binding). */
  clientId: z.string().min(1),
  channelId: z.string().min(1),
  sourceSystem: z.string().min(1).default("b2b-portal"),
  /** The PO1 product id qualifier that carries our SKU (VN: vendor's item number). */
  skuQualifier: z.string().min(2).max(2).default("VN"),
  /** Currency when the 850 has no CUR segment. */
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, "an ISO 4217 code")
    .default("USD"),
  /** Tax code of the partner's lines ("exempt" for resale). */
  taxCode: z.string().min(1).default("standard"),
});

const amazonMarketplaceSchema = z.object({
  /** Amazon's marketplace id ("ATVPDKIKX0DER": amazon.com). */
  marketplaceId: z.string().min(1),
  /** The configured client that may post the marketplace's orders. */
  clientId: z.string().min(1),
  /** The sales channel's id in the mesh ("amazon-us"). */
  channelId: z.string().min(1),
  sourceSystem: z.string().min(1).default("amazon"),
});

const x12WarehouseSchema = z.object({
  /** The warehouse's interchange sender id (ISA06, without padding). */
  senderId: z.string().min(1),
  /** The configured client that may post the warehouse's files. */
  clientId: z.string().min(1),
  /** The mesh location the warehouse is: its shipments leave from there. */
  locationId: z.string().min(1),
  /** The LIN product id qualifier that carries our SKU (VP: the vendor's part number). */
  skuQualifier: z.string().min(2).max(2).default("VP"),
  /** Whose purchase order numbers its notices name (PRF01): the channel and channel id of the orders. */
  orderChannel: z
    .string()
    .regex(/^CHANNEL_[A-Z_]+$/, "a Channel enum name")
    .default("CHANNEL_B2B"),
  orderChannelId: z.string().default(""),
});

const posStoreSchema = z.object({
  /** The store as its tills name it in a batch ("ST-1", "0042"). */
  storeId: z.string().min(1),
  /** The configured client that may post the store's batches. */
  clientId: z.string().min(1),
  /** The store's location in the mesh: where sold goods leave and returned ones come back. */
  locationId: z.string().min(1),
  /** The POS channel's id in the mesh ("pos"). */
  channelId: z.string().min(1).default("pos"),
  /** The customer source system of the store's loyalty numbers. */
  sourceSystem: z.string().min(1).default("pos"),
});

export const clientsFileSchema = z.object({
  clients: z.array(clientSchema),
  jwtIssuers: z.array(issuerSchema).default([]),
  /** Overrides of the derived scope of a route, by RPC full name ("retail.finance.v1.FinanceService.ClosePeriod"). */
  routeScopes: z.record(z.string(), z.string()).default({}),
  /** Shopify shops whose webhooks POST /webhooks/shopify accepts. */
  shopifyShops: z.array(shopifyShopSchema).default([]),
  /** Stripe webhook endpoints whose events POST /webhooks/stripe accepts. */
  stripeEndpoints: z.array(stripeEndpointSchema).default([]),
  /** Stores whose till batches POST /imports/pos/transactions accepts. */
  posStores: z.array(posStoreSchema).default([]),
  /** B2B trading partners whose X12 files POST /imports/x12 accepts. */
  x12Partners: z.array(x12PartnerSchema).default([]),
  /** Amazon marketplaces whose pulled orders POST /imports/amazon/orders accepts. */
  amazonMarketplaces: z.array(amazonMarketplaceSchema).default([]),
  /** Warehouses whose X12 856 ship notices POST /imports/x12 accepts. */
  x12Warehouses: z.array(x12WarehouseSchema).default([]),
});

export type ClientConfig = z.output<typeof clientSchema>;
export type IssuerConfig = z.output<typeof issuerSchema>;
export type ShopifyShopConfig = z.output<typeof shopifyShopSchema>;
export type ClientsFile = z.output<typeof clientsFileSchema>;

/** The current configuration, swapped whole when the file changes. */
export interface ClientDirectory {
  current(): ClientsSnapshot;
  close(): void;
}

export interface ClientsSnapshot {
  readonly file: ClientsFile;
  byApiKey(key: string): ClientConfig | undefined;
  byId(id: string): ClientConfig | undefined;
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

export function snapshotOf(file: ClientsFile): ClientsSnapshot {
  const byDigest = new Map<string, ClientConfig>();
  const byId = new Map<string, ClientConfig>();
  for (const client of file.clients) {
    byId.set(client.id, client);
    for (const digest of client.apiKeySha256) byDigest.set(digest, client);
  }
  return { file, byApiKey: (key) => byDigest.get(sha256Hex(key)), byId: (id) => byId.get(id) };
}

/** Parses the clients file, naming every bad entry. */
export function parseClientsFile(text: string, source: string): ClientsFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${source}: not JSON`);
  }
  const parsed = clientsFileSchema.safeParse(json);
  if (!parsed.success)
    throw new Error(
      `${source}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  return parsed.data;
}

/**
 * Loads the file and watches it: a valid new version replaces the old at once; an invalid one is
 * logged and ignored, so a bad edit never locks every channel out. `onReload` learns each outcome.
 */
export function watchClientsFile(
  path: string,
  logger: Logger,
  onReload: (outcome: "applied" | "ignored") => void = () => undefined,
  intervalMs = 500,
): ClientDirectory {
  let snapshot = snapshotOf(parseClientsFile(readFileSync(path, "utf8"), path));
  const reload = () => {
    try {
      snapshot = snapshotOf(parseClientsFile(readFileSync(path, "utf8"), path));
      logger.info({ clients: snapshot.file.clients.length }, "clients file reloaded");
      onReload("applied");
    } catch (error) {
      logger.error({ err: error }, "clients file change ignored");
      onReload("ignored");
    }
  };
  watchFile(path, { interval: intervalMs, persistent: false }, reload);
  return { current: () => snapshot, close: () => unwatchFile(path, reload) };
}
