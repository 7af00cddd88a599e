// Channel webhooks, authenticated by the channel's own signature rather than an API key, each acting
// as the configured client it names (its scopes, rate limit and channel binding apply as to any call).
// A topic or event type the mesh does not take is answered 202 and ignored, so the channel does not
// retry it for days.
//   POST /webhooks/shopify  orders/create -> SubmitOrder; the request id is derived from the shop and
//                           the Shopify order id, so redeliveries and manual resends are one order.
//                           orders/paid -> the capture, orders/cancelled -> CancelOrder, refunds/create
//                           -> cancellation of unfulfilled lines, a return of restocked ones and the
//                           refund payment: each keyed by the shop and Shopify's order or refund id, so
//                           a repeat (same or new X-Shopify-Webhook-Id) changes nothing. A notice about
//                           an order the mesh does not have yet, or a refund before the payment, is
//                           refused (404, or 400 with the rule) and Shopify delivers it again later
//                           (19 tries over 48 hours): it waits, nothing is applied in part.
//   POST /webhooks/stripe   payment_intent.succeeded -> a capture, refund.created/updated (and an older
//                           API version's charge.refunded with its refunds) -> a refund, each
//                           RecordPaymentEvent keyed by the Stripe id (event or refund), applied once;
//                           charge.dispute.created -> a chargeback of the order whose payment is the
//                           disputed charge (LookupOrder by payment reference), keyed by the dispute.
import type { IncomingMessage, ServerResponse } from "node:http";
import { toJson } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import { type Order, OrderSchema } from "@retail/contracts/retail/order/v1/order_pb";
import { OrderService } from "@retail/contracts/retail/order/v1/order_service_pb";
import { errorWithInfo, RequestInvalid } from "@retail/platform/rpc";
import { requireScope } from "../access/authenticate.js";
import type { ClientsSnapshot, ShopifyShopConfig } from "../access/clients.js";
import { callerFor, invokeForClient, orderOf } from "../access/order-visibility.js";
import { parseLosslessJson } from "../channel-formats/lossless-json.js";
import { shopifyOrderToSubmit, verifyShopifyHmac } from "../channel-formats/shopify.js";
import {
  shopifyOrderIdOf,
  shopifyPaidToCapture,
  shopifyRefundOrderIdOf,
  shopifyRefundToChanges,
} from "../channel-formats/shopify-order-updates.js";
import {
  stripeDisputeToChargeback,
  stripeEventToPaymentEvents,
  verifyStripeSignature,
} from "../channel-formats/stripe.js";
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
  const handle = shopifyTopics[topic];
  if (!handle) return ignore(response, `topic "${topic}"`);
  const call = callerFor(client, deps.invoke, signal);
  const order = await handle(jsonObject(raw), {
    shop,
    call,
    requestId: `${client.id}:shopify:${shop.shopDomain}`,
  });
  send(response, 200, JSON.stringify({ order: toJson(OrderSchema, order, { alwaysEmitImplicit: true }) }));
};

interface ShopifyTopicContext {
  readonly shop: ShopifyShopConfig;
  /** Calls an order method as the shop's client. */
  readonly call: ReturnType<typeof callerFor>;
  /** The prefix of the request ids this shop's changes are keyed by. */
  readonly requestId: string;
}

/** The mesh's order a Shopify order webhook is about (404 until orders/create has made it). */
async function shopifyOrder(context: ShopifyTopicContext, shopifyOrderId: string): Promise<Order> {
  return orderOf(
    await context.call(OrderService.method.lookupOrder, {
      channel: Channel.WEB,
      channelId: context.shop.channelId,
      channelOrderId: shopifyOrderId,
    }),
  );
}

/** What the mesh does with each Shopify topic it takes; the order as it stands after. */
const shopifyTopics: Readonly<
  Record<string, (body: Record<string, unknown>, context: ShopifyTopicContext) => Promise<Order>>
> = {
  "orders/create": async (body, context) => {
    const submit = shopifyOrderToSubmit(body, context.shop);
    submit.requestId = `${context.requestId}:order:${submit.channelOrderId}`;
    return orderOf(await context.call(OrderService.method.submitOrder, submit));
  },
  "orders/paid": async (body, context) => {
    const paymentEvent = shopifyPaidToCapture(body, { shopDomain: context.shop.shopDomain });
    const order = await shopifyOrder(context, shopifyOrderIdOf(body));
    return orderOf(
      await context.call(OrderService.method.recordPaymentEvent, { orderId: order.orderId, paymentEvent }),
    );
  },
  "orders/cancelled": async (body, context) => {
    const shopifyOrderId = shopifyOrderIdOf(body);
    const order = await shopifyOrder(context, shopifyOrderId);
    return orderOf(
      await context.call(OrderService.method.cancelOrder, {
        requestId: `${context.requestId}:order:${shopifyOrderId}:cancelled`,
        orderId: order.orderId,
        reason: String(body.cancel_reason ?? ""),
      }),
    );
  },
  "refunds/create": async (body, context) => {
    let order = await shopifyOrder(context, shopifyRefundOrderIdOf(body));
    const refund = shopifyRefundToChanges(body, {
      shopDomain: context.shop.shopDomain,
      currencyCode: order.grandTotal?.currencyCode ?? "",
      locations: context.shop.locations,
    });
    const key = `${context.requestId}:refund:${refund.refundId}`;
    if (refund.cancel.length > 0)
      order = orderOf(
        await context.call(OrderService.method.cancelOrder, {
          requestId: `${key}:cancel`,
          orderId: order.orderId,
          lines: refund.cancel,
          reason: "refunded before fulfilment",
        }),
      );
    if (refund.returned)
      order = orderOf(
        await context.call(OrderService.method.recordReturn, {
          requestId: `${key}:return`,
          orderId: order.orderId,
          return: {
            returnId: `shopify-refund-${refund.refundId}`,
            locationId: refund.returned.locationId,
            lines: refund.returned.lines,
          },
        }),
      );
    if (refund.payment)
      order = orderOf(
        await context.call(OrderService.method.recordPaymentEvent, {
          orderId: order.orderId,
          paymentEvent: refund.payment,
        }),
      );
    return order;
  },
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
  const dispute = stripeDisputeToChargeback(event);
  if (dispute) {
    const call = callerFor(client, deps.invoke, signal);
    const { order } = await call(OrderService.method.lookupOrder, { paymentReference: dispute.chargeId });
    await call(OrderService.method.recordPaymentEvent, {
      orderId: order?.orderId ?? "",
      paymentEvent: dispute.paymentEvent,
    });
    return send(response, 200, JSON.stringify({ recorded: [dispute.paymentEvent.paymentEventId] }));
  }
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
