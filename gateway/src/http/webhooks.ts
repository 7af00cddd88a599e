// Channel webhooks, authenticated by the channel's own signature rather than an API key, each acting
// as the configured client it names (its scopes, rate limit and channel binding apply as to any call).
// A topic or event type the mesh does not take is answered 202 and ignored, so the channel does not
// retry it for days.
//   POST /webhooks/shopify  orders/create -> SubmitOrder; the request id is derived from the shop and
//                           the Shopify order id, so redeliveries and manual resends are one order.
//                           orders/paid -> the capture, orders/cancelled -> CancelOrder, refunds/create
//                           -> cancellation of unfulfilled lines, a return of restocked ones and the
//                           refund payment: each keyed by the shop and Shopify's order or refund id, so
//                           a repeat (same or new X-Shopify-Webhook-Id) changes nothing. customers/create
//                           and customers/update -> UpsertFromSource and UpdateConsent, once per update;
//                           orders/fulfilled -> RecordShipment per successful fulfillment, once each;
//                           every orders/* notice (orders/updated only for this) -> what the
//                           storefront shows of the order, to operations (RecordChannelOrderView);
//                           inventory_levels/update -> ReportChannelStock (a drift signal), its item's
//                           SKU linked by inventory_items/* and products/* notices. A notice about
//                           an order the mesh does not have yet, or a refund before the payment, is
//                           refused (404, or 400 with the rule) and Shopify delivers it again later
//                           (19 tries over 48 hours): it waits, nothing is applied in part.
//   POST /webhooks/stripe   payment_intent.succeeded -> a capture, refund.created/updated (and an older
//                           API version's charge.refunded with its refunds) -> a refund, each
//                           RecordPaymentEvent keyed by the Stripe id (event or refund), applied once;
//                           charge.dispute.created -> a chargeback of the order whose payment is the
//                           disputed charge (LookupOrder by payment reference), keyed by the dispute;
//                           charge.dispute.closed (won) and charge.dispute.funds_reinstated -> its
//                           reversal, once; payout.paid -> RecordPayout (needs finance:write), once
//                           per payout.
import { toJson } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import { type Customer, CustomerSchema } from "@retail/contracts/retail/customer/v1/customer_pb";
import { CustomerIdentityService } from "@retail/contracts/retail/customer/v1/customer_service_pb";
import {
  FinancePostingService,
  type RecordPayoutResponse,
} from "@retail/contracts/retail/finance/v1/finance_service_pb";
import { ChannelStockViewSchema } from "@retail/contracts/retail/inventory/v1/inventory_pb";
import { InventoryService } from "@retail/contracts/retail/inventory/v1/inventory_service_pb";
import { OperationsService } from "@retail/contracts/retail/operations/v1/operations_service_pb";
import { type Order, OrderSchema } from "@retail/contracts/retail/order/v1/order_pb";
import { OrderService } from "@retail/contracts/retail/order/v1/order_service_pb";
import { errorWithInfo, RequestInvalid } from "@retail/platform/rpc";
import { type Principal, requireScope } from "../access/authenticate.js";
import type { ClientsSnapshot, ShopifyShopConfig } from "../access/clients.js";
import { callerFor, invokeForClient, orderOf } from "../access/order-visibility.js";
import { parseLosslessJson } from "../channel-formats/lossless-json.js";
import { shopifyOrderToSubmit, verifyShopifyHmac } from "../channel-formats/shopify.js";
import { shopifyCustomerToSource } from "../channel-formats/shopify-customers.js";
import { shopifyInventoryLevel, shopifyItemSkus } from "../channel-formats/shopify-inventory.js";
import {
  shopifyFulfillmentsToShipments,
  shopifyOrderIdOf,
  shopifyOrderView,
  shopifyPaidToCapture,
  shopifyRefundOrderIdOf,
  shopifyRefundToChanges,
} from "../channel-formats/shopify-order-updates.js";
import {
  stripeDisputeToPaymentEvent,
  stripeEventToPaymentEvents,
  stripePayoutToRecord,
  verifyStripeSignature,
} from "../channel-formats/stripe.js";
import { parseJson, requestHeader } from "./body.js";
import type { Answer, ChannelEndpoint, InboundMessage } from "./inbound.js";
import type { RestDependencies } from "./rest-handler.js";

const signatureInvalid = () =>
  errorWithInfo(Code.Unauthenticated, "WEBHOOK_SIGNATURE_INVALID", "the webhook signature does not verify");

/** The client a verified webhook acts as (its scopes, rate limit and channel binding apply). */
function webhookPrincipal(clients: ClientsSnapshot, clientId: string): Principal {
  const client = clients.byId(clientId);
  if (!client)
    throw errorWithInfo(
      Code.PermissionDenied,
      "CLIENT_NOT_CONFIGURED",
      `the webhook's client ${clientId} is not configured`,
    );
  return { client, scopes: client.scopes, method: "webhook-signature" };
}

/** The body as a JSON object, 64-bit integers kept exact. */
function jsonObject(raw: Buffer): Record<string, unknown> {
  const parsed = parseJson(raw, parseLosslessJson);
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
    throw new RequestInvalid([{ field: "(body)", description: "must be a JSON object" }]);
  return parsed;
}

const ignored = (what: string): Answer => ({
  status: 202,
  body: JSON.stringify({ ignored: `${what} is not handled` }),
});

/** The configured shop a Shopify message names (X-Shopify-Shop-Domain). */
const shopOf = (clients: ClientsSnapshot, message: InboundMessage) =>
  clients.file.shopifyShops.find((s) => s.shopDomain === requestHeader(message, "x-shopify-shop-domain"));

const shopify: ChannelEndpoint = {
  channel: "shopify",
  channelMessageId: (message) => requestHeader(message, "x-shopify-webhook-id") ?? "",
  async authenticate(deps, message) {
    const clients = deps.clients.current();
    const shop = shopOf(clients, message);
    if (
      !shop ||
      !verifyShopifyHmac(message.raw, requestHeader(message, "x-shopify-hmac-sha256"), shop.webhookSecret)
    )
      throw signatureInvalid();
    return webhookPrincipal(clients, shop.clientId);
  },
  async handle(deps, message, principal, signal) {
    const shop = shopOf(deps.clients.current(), message);
    if (!shop) throw signatureInvalid();
    const topic = requestHeader(message, "x-shopify-topic") ?? "";
    const context = {
      shop,
      call: callerFor(principal.client, deps.invoke, signal),
      requestId: `${principal.client.id}:shopify:${shop.shopDomain}`,
    };
    const orderTopic = shopifyTopics[topic];
    if (orderTopic) {
      requireScope(principal, "order:write");
      const body = jsonObject(message.raw);
      const order = await orderTopic(body, context);
      // What the storefront shows of the order now, for operations to compare with the mesh's (a
      // failure here is the notice's: Shopify sends it again, and what it changed applies once).
      const shown = topic.startsWith("orders/") ? shopifyOrderView(body) : undefined;
      if (shown)
        await context.call(OperationsService.method.recordChannelOrderView, {
          view: {
            channelId: shop.channelId,
            orderId: order.orderId,
            sourceSystem: shop.sourceSystem,
            channelOrderId: order.channelOrderId,
            status: shown.status,
            observeTime: shown.observed,
          },
        });
      return {
        status: 200,
        body: JSON.stringify({ order: toJson(OrderSchema, order, { alwaysEmitImplicit: true }) }),
      };
    }
    if (itemTopics.has(topic)) {
      requireScope(principal, "inventory:write");
      const { items, observed } = shopifyItemSkus(topic, jsonObject(message.raw));
      await deps.shopifyItems.remember(shop.shopDomain, items, observed);
      return { status: 200, body: JSON.stringify({ linked: items }) };
    }
    if (topic === "inventory_levels/update") {
      requireScope(principal, "inventory:write");
      return shopifyLevel(deps, jsonObject(message.raw), context);
    }
    if (topic === "customers/create" || topic === "customers/update") {
      requireScope(principal, "customer:write");
      const customer = await shopifyCustomer(jsonObject(message.raw), context);
      return {
        status: 200,
        body: JSON.stringify({ customer: toJson(CustomerSchema, customer, { alwaysEmitImplicit: true }) }),
      };
    }
    return ignored(`topic "${topic}"`);
  },
};

/**
 * A Shopify customer as identity's source record of the shop (keyed by the shop and the customer's
 * `updated_at`, so a redelivery applies once), then its marketing consents, each keyed the same way.
 */
async function shopifyCustomer(
  body: Record<string, unknown>,
  context: ShopifyTopicContext,
): Promise<Customer> {
  const mapped = shopifyCustomerToSource(body, { sourceSystem: context.shop.sourceSystem });
  const key = `${context.requestId}:customer:${mapped.customerId}:${mapped.observed}`;
  const { call } = context;
  let { customer } = await call(CustomerIdentityService.method.upsertFromSource, {
    requestId: key,
    sourceRecord: mapped.record,
  });
  for (const consent of mapped.consents) {
    if (!customer) break;
    ({ customer } = await call(CustomerIdentityService.method.updateConsent, {
      requestId: `${key}:consent:${consent.purpose}`,
      customerId: customer.customerId,
      consent,
    }));
  }
  if (!customer) throw new Error("customer-identity answered without the customer");
  return customer;
}

/** Notices that link a shop's inventory items to SKUs. */
const itemTopics = new Set([
  "inventory_items/create",
  "inventory_items/update",
  "products/create",
  "products/update",
]);

/**
 * An inventory level as the storefront's stock at the mesh location its Shopify location is, reported
 * to inventory beside the mesh's figure (ReportChannelStock, keyed by the shop, item, location and
 * update time): a drift signal, never a movement. A level of an item whose SKU no notice has named yet
 * is answered 404 (Shopify sends it again; it can be replayed from the journal once the link is there);
 * one at a Shopify location the shop does not map, or of an item not tracked there (`available`
 * null), is acknowledged and left.
 */
async function shopifyLevel(
  deps: RestDependencies,
  body: Record<string, unknown>,
  context: ShopifyTopicContext,
): Promise<Answer> {
  const level = shopifyInventoryLevel(body);
  const locationId = context.shop.locations[level.shopifyLocationId];
  if (!locationId)
    return ignored(`Shopify location ${level.shopifyLocationId} (not mapped to a mesh location)`);
  if (level.available === undefined) return ignored(`an untracked item's level (available is null)`);
  const sku = await deps.shopifyItems.skuOf(context.shop.shopDomain, level.inventoryItemId);
  if (!sku)
    throw errorWithInfo(
      Code.NotFound,
      "INVENTORY_ITEM_UNKNOWN",
      `inventory item ${level.inventoryItemId} has no SKU yet: its inventory_items or products notice links it`,
      { inventory_item_id: level.inventoryItemId },
    );
  const { view, recorded } = await context.call(InventoryService.method.reportChannelStock, {
    requestId: `${context.requestId}:level:${level.inventoryItemId}:${level.shopifyLocationId}:${level.observed.seconds}`,
    channelId: context.shop.channelId,
    locationId,
    sku,
    channelAvailable: level.available,
    observeTime: level.observed,
    sourceSystem: context.shop.sourceSystem,
  });
  return {
    status: 200,
    body: JSON.stringify({
      recorded,
      view: view ? toJson(ChannelStockViewSchema, view, { alwaysEmitImplicit: true }) : null,
    }),
  };
}

interface ShopifyTopicContext {
  readonly shop: ShopifyShopConfig;
  /** Calls a service's method as the shop's client (its channel binding applies to order methods). */
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
  // Changes nothing in the mesh: the notice is what the storefront shows (reported below).
  "orders/updated": (body, context) => shopifyOrder(context, shopifyOrderIdOf(body)),
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
  "orders/fulfilled": async (body, context) => {
    const shipments = shopifyFulfillmentsToShipments(body, { locations: context.shop.locations });
    let order = await shopifyOrder(context, shopifyOrderIdOf(body));
    for (const { fulfillmentId, shipment } of shipments) {
      // A fulfillment the order has already (a redelivery, or the mesh's own shipment echoed back).
      if (order.shipments.some((s) => s.shipmentId === shipment.shipmentId)) continue;
      order = orderOf(
        await context.call(OrderService.method.recordShipment, {
          requestId: `${context.requestId}:fulfillment:${fulfillmentId}`,
          orderId: order.orderId,
          shipment,
        }),
      );
    }
    return order;
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

/** The Stripe event's id, for the journal ("" when the body is not an event). */
function stripeEventId(message: InboundMessage): string {
  try {
    const event = JSON.parse(message.raw.toString("utf8")) as { id?: unknown };
    return typeof event.id === "string" ? event.id : "";
  } catch {
    return "";
  }
}

const stripe: ChannelEndpoint = {
  channel: "stripe",
  channelMessageId: stripeEventId,
  async authenticate(deps, message) {
    const clients = deps.clients.current();
    const signature = requestHeader(message, "stripe-signature");
    const nowSeconds = Math.floor(Date.now() / 1000);
    const endpoint = clients.file.stripeEndpoints.find((e) =>
      verifyStripeSignature(message.raw, signature, e.webhookSecret, {
        toleranceSeconds: e.toleranceSeconds,
        nowSeconds,
      }),
    );
    if (!endpoint) throw signatureInvalid();
    return webhookPrincipal(clients, endpoint.clientId);
  },
  async handle(deps, message, principal, signal) {
    const client = principal.client;
    const event = jsonObject(message.raw);
    const payout = stripePayoutToRecord(event, (payoutId) => `${client.id}:stripe:${payoutId}`);
    if (payout) {
      requireScope(principal, "finance:write");
      const recorded = (await deps.invoke(
        FinancePostingService.method.recordPayout,
        payout,
        signal,
      )) as RecordPayoutResponse;
      return {
        status: 200,
        body: JSON.stringify({
          recorded: [payout.payoutId],
          posted: recorded.posted,
          journalEntryId: recorded.journalEntryId,
        }),
      };
    }
    requireScope(principal, "order:write");
    const dispute = stripeDisputeToPaymentEvent(event);
    if (dispute && "unchanged" in dispute)
      return { status: 200, body: JSON.stringify({ recorded: [], unchanged: dispute.unchanged }) };
    if (dispute) {
      const call = callerFor(client, deps.invoke, signal);
      const { order } = await call(OrderService.method.lookupOrder, { paymentReference: dispute.chargeId });
      await call(OrderService.method.recordPaymentEvent, {
        orderId: order?.orderId ?? "",
        paymentEvent: dispute.paymentEvent,
      });
      return { status: 200, body: JSON.stringify({ recorded: [dispute.paymentEvent.paymentEventId] }) };
    }
    const payments = stripeEventToPaymentEvents(event);
    if (payments.length === 0) return ignored(`event type "${String(event.type)}"`);
    for (const payment of payments)
      await invokeForClient(client, OrderService.method.recordPaymentEvent, payment, deps.invoke, signal);
    return {
      status: 200,
      body: JSON.stringify({ recorded: payments.map((p) => p.paymentEvent?.paymentEventId) }),
    };
  },
};

/** The webhook handlers by path. */
export const webhooks: ReadonlyMap<string, ChannelEndpoint> = new Map([
  ["/webhooks/shopify", shopify],
  ["/webhooks/stripe", stripe],
]);
