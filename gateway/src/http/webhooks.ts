// Channel webhooks, authenticated by the channel's own signature rather than an API key, each acting
// as the configured client it names (its scopes, rate limit and channel binding apply as to any call).
// A topic or event type the mesh does not take is answered 202 and ignored, so the channel does not
// retry it for days.
//   POST /webhooks/shopify  orders/create -> SubmitOrder; the request id is derived from the shop and
//                           the Shopify order id, so redeliveries and manual resends are one order.
//   POST /webhooks/stripe   payment_intent.succeeded -> a capture, refund.created/updated (and an older
//                           API version's charge.refunded with its refunds) -> a refund, each
//                           RecordPaymentEvent keyed by the Stripe id (event or refund), applied once.
import type { IncomingMessage, ServerResponse } from "node:http";
import { toJson } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { OrderService, SubmitOrderResponseSchema } from "@retail/contracts/retail/order/v1/order_service_pb";
import { errorWithInfo, RequestInvalid } from "@retail/platform/rpc";
import { requireScope } from "../access/authenticate.js";
import type { ClientsSnapshot } from "../access/clients.js";
import { invokeForClient } from "../access/order-visibility.js";
import { parseLosslessJson } from "../channel-formats/lossless-json.js";
import { shopifyOrderToSubmit, verifyShopifyHmac } from "../channel-formats/shopify.js";
import { stripeEventToPaymentEvents, verifyStripeSignature } from "../channel-formats/stripe.js";
import { parseJson, readBody, requestHeader } from "./body.js";
import { send } from "./respond.js";
import { actingAs, type RestDependencies, type RestOutcome, spendRateLimit } from "./rest-handler.js";

/** A channel endpoint outside the transcoded routes (webhooks, file imports). */
export type ChannelEndpoint = (
  deps: RestDependencies,
  request: IncomingMessage,
  response: ServerResponse,
  outcome: RestOutcome,
  signal: AbortSignal,
) => Promise<void>;

const signatureInvalid = () =>
  errorWithInfo(Code.Unauthenticated, "WEBHOOK_SIGNATURE_INVALID", "the webhook signature does not verify");

/** The verified sender's client: sets the principal, applies its rate limit, checks order:write. */
async function actAs(
  deps: RestDependencies,
  clients: ClientsSnapshot,
  clientId: string,
  outcome: RestOutcome,
) {
  const client = clients.byId(clientId);
  if (!client)
    throw errorWithInfo(
      Code.PermissionDenied,
      "CLIENT_NOT_CONFIGURED",
      `the webhook's client ${clientId} is not configured`,
    );
  const principal = { client, scopes: client.scopes, method: "webhook-signature" as const };
  actingAs(principal, outcome);
  await spendRateLimit(deps, client);
  requireScope(principal, "order:write");
  return client;
}

/** The body as a JSON object, 64-bit integers kept exact. */
function jsonObject(raw: Buffer): Record<string, unknown> {
  const parsed = parseJson(raw, parseLosslessJson);
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
    throw new RequestInvalid([{ field: "(body)", description: "must be a JSON object" }]);
  return parsed;
}

const ignore = (response: ServerResponse, what: string) =>
  send(response, 202, JSON.stringify({ ignored: `${what} is not handled` }));

const shopify: ChannelEndpoint = async (deps, request, response, outcome, signal) => {
  const clients = deps.clients.current();
  const raw = await readBody(request, deps.maxBodyBytes);
  const shop = clients.file.shopifyShops.find(
    (s) => s.shopDomain === requestHeader(request, "x-shopify-shop-domain"),
  );
  if (!shop || !verifyShopifyHmac(raw, requestHeader(request, "x-shopify-hmac-sha256"), shop.webhookSecret))
    throw signatureInvalid();
  const client = await actAs(deps, clients, shop.clientId, outcome);
  const topic = requestHeader(request, "x-shopify-topic") ?? "";
  if (topic !== "orders/create") return ignore(response, `topic "${topic}"`);
  const submit = shopifyOrderToSubmit(jsonObject(raw), shop);
  submit.requestId = `${client.id}:shopify:${shop.shopDomain}:order:${submit.channelOrderId}`;
  const result = await invokeForClient(client, OrderService.method.submitOrder, submit, deps.invoke, signal);
  send(
    response,
    200,
    JSON.stringify(toJson(SubmitOrderResponseSchema, result as never, { alwaysEmitImplicit: true })),
  );
};

const stripe: ChannelEndpoint = async (deps, request, response, outcome, signal) => {
  const clients = deps.clients.current();
  const raw = await readBody(request, deps.maxBodyBytes);
  const signature = requestHeader(request, "stripe-signature");
  const nowSeconds = Math.floor(Date.now() / 1000);
  const endpoint = clients.file.stripeEndpoints.find((e) =>
    verifyStripeSignature(raw, signature, e.webhookSecret, {
      toleranceSeconds: e.toleranceSeconds,
      nowSeconds,
    }),
  );
  if (!endpoint) throw signatureInvalid();
  const client = await actAs(deps, clients, endpoint.clientId, outcome);
  const event = jsonObject(raw);
  const payments = stripeEventToPaymentEvents(event);
  if (payments.length === 0) return ignore(response, `event type "${String(event.type)}"`);
  for (const payment of payments)
    await invokeForClient(client, OrderService.method.recordPaymentEvent, payment, deps.invoke, signal);
  send(response, 200, JSON.stringify({ recorded: payments.map((p) => p.paymentEvent?.paymentEventId) }));
};

/** The webhook handlers by path. */
export const webhooks: ReadonlyMap<string, ChannelEndpoint> = new Map([
  ["/webhooks/shopify", shopify],
  ["/webhooks/stripe", stripe],
]);
