// The channel endpoints' part of the OpenAPI document: webhooks signed by the channel and file imports,
// which no proto describes (http/channel-endpoints.ts serves them). A test keeps this list and the served
// one the same.
type Schema = Record<string, unknown>;

const status = { $ref: "#/components/schemas/google.rpc.Status" };
/** What an operation says of the scope it requires: the extension tools read and its security schemes. */
export const requiring = (scope: string): Schema => ({
  "x-required-scope": scope,
  security: [{ apiKey: [scope] }, { bearerJwt: [scope] }],
});
const errors = (extra: Record<string, string> = {}): Record<string, Schema> =>
  Object.fromEntries(
    Object.entries({
      "400":
        "The body breaks a rule: google.rpc.Status with field violations naming the field (or row) and the rule; nothing of it is applied.",
      "401": "Signature or credentials missing or invalid (WEBHOOK_SIGNATURE_INVALID, API_KEY_INVALID, ...).",
      "403": "The client lacks the scope, or sends for another channel (SCOPE_MISSING, CHANNEL_NOT_ALLOWED).",
      "413": "The body is larger than this endpoint takes (BODY_TOO_LARGE).",
      "415": "Another media type than the ones listed (UNSUPPORTED_MEDIA_TYPE).",
      "503": "A service behind the gateway is away: send it again later; nothing was applied in part.",
      ...extra,
    }).map(([code, description]) => [
      code,
      { description, content: { "application/json": { schema: status } } },
    ]),
  );
const json = (description: string): Schema => ({
  description,
  content: { "application/json": { schema: { type: "object" } } },
});
const header = (name: string, description: string, required = true): Schema => ({
  name,
  in: "header",
  required,
  description,
  schema: { type: "string" },
});
const idempotencyKey = header(
  "Idempotency-Key",
  "Required: the file's import is applied once per key (see Idempotency-Key in the API description); the same key with another file is refused 422.",
);
const contentKeyed = (what: string): Schema =>
  header(
    "Idempotency-Key",
    `Optional: what the file applies is keyed by ${what}, so sending it again applies nothing twice; a key given is journaled as the file's id.`,
    false,
  );
const fileBody = (types: readonly string[], description: string): Schema => ({
  required: true,
  description,
  content: Object.fromEntries(
    types.map((type) => [
      type,
      { schema: type === "application/json" ? { type: "object" } : { type: "string" } },
    ]),
  ),
});

/** Path items of the channel endpoints, by path. */
export const channelEndpointPaths: Record<string, Record<string, Schema>> = {
  "/webhooks/shopify": {
    post: {
      operationId: "Webhooks_Shopify",
      tags: ["Channel webhooks"],
      summary: "A Shopify shop's webhook notice",
      description:
        "Authenticated by Shopify's HMAC over the raw body (the shop's webhook secret), acting as the shop's configured client. Topics taken: orders/create (an order, once per Shopify order id), orders/updated (what the storefront shows, for order-state drift), orders/paid, orders/cancelled, orders/fulfilled, refunds/create, customers/create and customers/update, inventory_levels/update (channel stock, a drift signal) and the inventory_items/* and products/* notices that link items to SKUs. Every notice applies once however often Shopify sends it. Another topic is acknowledged 202 and ignored.",
      security: [],
      parameters: [
        header("X-Shopify-Hmac-Sha256", "Base64 HMAC-SHA256 of the raw body with the shop's webhook secret."),
        header("X-Shopify-Shop-Domain", "The shop (its configured shopDomain)."),
        header("X-Shopify-Topic", "The notice's topic (orders/create, ...)."),
        header("X-Shopify-Webhook-Id", "Shopify's delivery id (journaled).", false),
      ],
      requestBody: fileBody(["application/json"], "Shopify's payload for the topic, as Shopify sends it."),
      responses: {
        "200": json("Applied: the order (or customer, or stock view) as it stands after."),
        "202": json("A topic the mesh does not take: acknowledged and ignored."),
        ...errors({
          "404":
            "About an order the mesh does not have yet (orders/create not in): Shopify sends it again later.",
        }),
      },
    },
  },
  "/webhooks/stripe": {
    post: {
      operationId: "Webhooks_Stripe",
      tags: ["Channel webhooks"],
      summary: "A Stripe webhook event",
      description:
        "Authenticated by the Stripe-Signature header (t=...,v1=... over the raw body with the endpoint's signing secret, five minutes' tolerance; during a secret roll either secret verifies). Events taken: payment_intent.succeeded (a capture), refund.created and refund.updated (and charge.refunded of older API versions) (refunds), charge.dispute.created, charge.dispute.closed (won) and charge.dispute.funds_reinstated (chargebacks and reversals), payout.paid (a payout to the bank). Each applies once by Stripe's id. Another type is acknowledged 202 and ignored.",
      security: [],
      parameters: [
        header("Stripe-Signature", "Stripe's signature header: t=<timestamp>,v1=<hex HMAC-SHA256>."),
      ],
      requestBody: fileBody(["application/json"], "The Stripe Event object as Stripe sends it."),
      responses: {
        "200": json("Applied: the order's payment, refund or chargeback, or the payout's journal entry."),
        "202": json("An event type the mesh does not take: acknowledged and ignored."),
        ...errors({
          "404": "About an order or payment the mesh does not know yet: Stripe sends it again later.",
        }),
      },
    },
  },
  "/imports/amazon/settlement-report": {
    post: {
      operationId: "Imports_AmazonSettlementReport",
      tags: ["File imports"],
      summary: "An Amazon settlement flat file (V1 or V2), streamed",
      description:
        "Tab-separated, read line by line (a year's file runs to hundreds of megabytes; no body limit applies). Rows that cannot be read are left out with their transaction and listed in rejectedRows (row and column named); the rest is imported as one settlement, in parts of 25,000 lines, and reconciled against the ledger. Requires the scope `finance:write`.",
      ...requiring("finance:write"),
      parameters: [idempotencyKey],
      requestBody: fileBody(
        ["text/tab-separated-values", "text/plain"],
        "The settlement report as Amazon produces it.",
      ),
      responses: {
        "200": json("The settlement's reconciliation items and the rows left out (rejectedRows)."),
        ...errors({ "422": "The Idempotency-Key was used with another file (IDEMPOTENCY_KEY_REUSED)." }),
      },
    },
  },
  "/imports/stripe/payout-reconciliation": {
    post: {
      operationId: "Imports_StripePayoutReconciliation",
      tags: ["File imports"],
      summary: "Stripe's itemised payout reconciliation report (CSV)",
      description:
        "One settlement per automatic payout; each balance transaction a line (charges, refunds, disputes and their reversals, fees, adjustments); the payout line is matched against what payout.paid posted. Rows that cannot be read are listed in rejectedRows. Requires the scope `finance:write`.",
      ...requiring("finance:write"),
      parameters: [idempotencyKey],
      requestBody: fileBody(["text/csv", "text/plain"], "The report as downloaded from Stripe."),
      responses: {
        "200": json("Each payout's settlement with its reconciliation items, and rejectedRows."),
        ...errors({ "422": "The Idempotency-Key was used with another file (IDEMPOTENCY_KEY_REUSED)." }),
      },
    },
  },
  "/imports/x12": {
    post: {
      operationId: "Imports_X12",
      tags: ["File imports"],
      summary: "An X12 interchange from a trading partner or a warehouse",
      description:
        "From a partner (its ISA sender configured): 850 purchase orders, each submitted once. From a warehouse: 856 ship notices and 945 shipping advices (shipments of the orders named), 846 inventory advices (cycle counts, scope `inventory:write`). Acknowledged with a 997: in the JSON answer, or as the answer itself when Accept is application/edi-x12. Requires the scope `order:write`.",
      ...requiring("order:write"),
      parameters: [
        contentKeyed("the partner and each transaction set's control number"),
        header("Accept", "application/edi-x12 for the 997 as the answer.", false),
      ],
      requestBody: fileBody(["application/edi-x12", "text/plain"], "The interchange (ISA ... IEA)."),
      responses: {
        "200": {
          description: "What was submitted or recorded, and the 997 functional acknowledgment.",
          content: {
            "application/json": { schema: { type: "object" } },
            "application/edi-x12": { schema: { type: "string" } },
          },
        },
        ...errors({ "422": "The Idempotency-Key was used with another file (IDEMPOTENCY_KEY_REUSED)." }),
      },
    },
  },
  "/imports/pos/transactions": {
    post: {
      operationId: "Imports_PosTransactions",
      tags: ["File imports"],
      summary: "A store's till transactions",
      description:
        "Each sale an order on the POS channel handed over at the till and paid by its tenders; each return a return at the store and its refunds; keyed by the store and the transaction id, so a resent batch changes nothing. Every transaction goes on its own: the answer lists each one's outcome. Requires the scope `order:write`.",
      ...requiring("order:write"),
      parameters: [contentKeyed("the store and each transaction's id")],
      requestBody: fileBody(["application/json"], "The batch: the store and its transactions."),
      responses: {
        "200": json(
          "recorded and refused counts, and each transaction's outcome (a refusal with its reason).",
        ),
        ...errors(),
      },
    },
  },
  "/imports/amazon/orders": {
    post: {
      operationId: "Imports_AmazonOrders",
      tags: ["File imports"],
      summary: "An order pulled from Amazon's Selling Partner API",
      description:
        "`{ order: <getOrder answer>, orderItems: <getOrderItems answer> }`, submitted on the marketplace channel its MarketplaceId is configured as; pulling the same order again submits nothing twice. Requires the scope `order:write`.",
      ...requiring("order:write"),
      parameters: [contentKeyed("the marketplace and Amazon's order id")],
      requestBody: fileBody(["application/json"], "The Selling Partner API answers, as pulled."),
      responses: { "200": json("The order as submitted."), ...errors() },
    },
  },
};
