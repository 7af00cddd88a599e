// POST /webhooks/shopify: Shopify's webhooks, authenticated by their HMAC signature rather than an API
// key. orders/create becomes SubmitOrder for the shop's configured client (its scopes, rate limit and
// channel binding apply as to any call); other topics are acknowledged and ignored, so Shopify does not
// retry what the mesh does not take. The request id is derived from the shop and the Shopify order id:
// a redelivery, or a manual resend with a new webhook id, is the same order, applied once.
import type { IncomingMessage, ServerResponse } from "node:http";
import { toJson } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { OrderService, SubmitOrderResponseSchema } from "@retail/contracts/retail/order/v1/order_service_pb";
import { errorWithInfo, RequestInvalid } from "@retail/platform/rpc";
import { parseLosslessJson } from "../channel-formats/lossless-json.js";
import { shopifyOrderToSubmit, verifyShopifyHmac } from "../channel-formats/shopify.js";
import { requireScope } from "../channels/authenticate.js";
import { invokeForClient } from "../channels/order-visibility.js";
import { HttpRefusal, readBody } from "./body.js";
import { send } from "./respond.js";
import type { RestDependencies, RestOutcome } from "./rest-handler.js";

export const shopifyWebhookPath = "/webhooks/shopify";

export async function handleShopifyWebhook(
  deps: RestDependencies,
  request: IncomingMessage,
  response: ServerResponse,
  outcome: RestOutcome,
  signal: AbortSignal,
): Promise<void> {
  const header = (name: string) => {
    const value = request.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const clients = deps.clients.current();
  const raw = await readBody(request, deps.maxBodyBytes);
  const shop = clients.file.shopifyShops.find((s) => s.shopDomain === header("x-shopify-shop-domain"));
  if (!shop || !verifyShopifyHmac(raw, header("x-shopify-hmac-sha256"), shop.webhookSecret))
    throw errorWithInfo(
      Code.Unauthenticated,
      "WEBHOOK_SIGNATURE_INVALID",
      "the webhook signature does not verify for this shop",
    );
  const client = clients.byId(shop.clientId);
  if (!client)
    throw errorWithInfo(
      Code.PermissionDenied,
      "CLIENT_NOT_CONFIGURED",
      `the shop's client ${shop.clientId} is not configured`,
    );
  const principal = { client, scopes: client.scopes, method: "webhook-signature" as const };
  outcome.principal = principal;
  const decision = deps.limiter.take(client.id, client.rateLimit);
  if (!decision.allowed)
    throw new HttpRefusal(429, errorWithInfo(Code.ResourceExhausted, "RATE_LIMITED", "rate limit exceeded"), {
      "retry-after": String(decision.retryAfterSeconds),
    });
  const topic = header("x-shopify-topic") ?? "";
  if (topic !== "orders/create") {
    send(response, 202, JSON.stringify({ ignored: `topic "${topic}" is not handled` }));
    return;
  }
  const method = OrderService.method.submitOrder;
  requireScope(principal, "order:write");
  let order: unknown;
  try {
    order = parseLosslessJson(raw.toString("utf8"));
  } catch (error) {
    throw new RequestInvalid([
      { field: "(body)", description: `is not valid JSON: ${(error as Error).message}` },
    ]);
  }
  if (order === null || typeof order !== "object" || Array.isArray(order))
    throw new RequestInvalid([{ field: "(body)", description: "must be a JSON object" }]);
  const submit = shopifyOrderToSubmit(order as Record<string, unknown>, shop);
  submit.requestId = `${client.id}:shopify:${shop.shopDomain}:order:${submit.channelOrderId}`;
  const result = await invokeForClient(client, method, submit, (m, r) => deps.invoke(m, r, signal));
  send(
    response,
    200,
    JSON.stringify(toJson(SubmitOrderResponseSchema, result as never, { alwaysEmitImplicit: true })),
  );
}
