// The document's examples hold up: every operation has a request and an answer; each transcoded
// request is decoded by the gateway's own decoder into its method's request (path, query, body and
// Idempotency-Key as the gateway reads them); each example in the served document satisfies its
// schema; and the channel endpoints' examples are what their formats read: signatures that verify
// with the development secrets, and answers that name what the adapters make of the sample files.
import { readFileSync } from "node:fs";
import { Ajv2020 } from "ajv/dist/2020.js";
import formats from "ajv-formats";
import { describe, expect, it } from "vitest";
import { amazonOrderToSubmit } from "../channel-formats/amazon-orders.js";
import { amazonSettlementToCanonical } from "../channel-formats/amazon-settlement.js";
import { posBatchToTransactions } from "../channel-formats/pos-batch.js";
import { verifyShopifyHmac } from "../channel-formats/shopify.js";
import { stripeEventToPaymentEvents, verifyStripeSignature } from "../channel-formats/stripe.js";
import { parseInterchange } from "../channel-formats/x12-purchase-order.js";
import { gatewayServices, openapiDocument } from "../compose.js";
import { requestIdField } from "../transcoding/http-rule.js";
import { decodeRequest } from "../transcoding/request-decoder.js";
import { createRouteTable } from "../transcoding/route-table.js";
import {
  bindingsByOperationId,
  examplePathValues,
  type OperationExampleEntry,
  readExampleFile,
} from "./examples.js";

type Json = Record<string, unknown>;
const doc = JSON.parse(readFileSync(openapiDocument, "utf8")) as {
  paths: Record<string, Record<string, Json>>;
};
const file = readExampleFile();
const bindings = bindingsByOperationId(gatewayServices);
const routes = createRouteTable(gatewayServices);
const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
  Object.entries(item).map(([verb, op]) => ({ path, verb, op, id: op.operationId as string })),
);
const repository = new URL("../../../", import.meta.url);
const devClients = JSON.parse(
  readFileSync(new URL("gateway/config/clients.dev.json", repository), "utf8"),
) as { shopifyShops: Array<{ webhookSecret: string }>; stripeEndpoints: Array<{ webhookSecret: string }> };

describe("the OpenAPI document's examples", () => {
  it("give every operation a request and an answer, and name no operation the document lacks", () => {
    const documented = operations.map((o) => o.id).sort();
    expect(Object.keys(file).sort()).toEqual(documented);
    for (const { id, op } of operations) {
      const answers = (op.responses as Record<string, { content?: Record<string, Json> }>)["200"]?.content;
      expect(answers?.["application/json"]?.examples, id).toBeDefined();
      const body = (op.requestBody as { content: Record<string, Json> } | undefined)?.content;
      if (body)
        expect(
          Object.values(body).some((media) => media.example !== undefined),
          id,
        ).toBe(true);
    }
  });

  it.each(Object.entries(file).filter(([id]) => bindings.has(id)))(
    "%s: the request decodes as the gateway decodes it, under the operation's own route",
    (id, entry) => {
      const binding = bindings.get(id);
      if (!binding) throw new Error(id);
      const { request } = entry as OperationExampleEntry;
      // The path reaches this operation, not a more specific one.
      const match = routes.match(binding.verb, request.path);
      const reached = match.kind === "found" ? match.route.binding : undefined;
      expect(`${reached?.method.name} ${reached?.template.source}`).toBe(
        `${binding.method.name} ${binding.template.source}`,
      );
      const query = new URLSearchParams();
      for (const [name, value] of Object.entries(request.query ?? {}))
        for (const one of Array.isArray(value) ? value : [value]) query.append(name, String(one));
      const idField = requestIdField(binding.method.input);
      if (idField) expect(request.idempotencyKey, `${id} takes a required Idempotency-Key`).toBeTruthy();
      const message = decodeRequest(binding, {
        pathValues: examplePathValues(binding, request.path),
        query,
        body: request.body as never,
        requestId: idField ? request.idempotencyKey : undefined,
      });
      expect(message.$typeName).toBe(binding.method.input.typeName);
    },
  );

  it("each parameter, body and answer example in the served document satisfies its schema", () => {
    const ajv = new Ajv2020({ strict: false });
    formats.default(ajv); // a CommonJS module: its function is the default export
    ajv.addSchema(doc, "openapi.json");
    const pointer = (...parts: string[]) =>
      `openapi.json#/${parts.map((p) => p.replaceAll("~", "~0").replaceAll("/", "~1")).join("/")}`;
    const answered = new Set<string>();
    const conforms = (ref: string, value: unknown, what: string) => {
      const validate = ajv.compile({ $ref: ref });
      expect(validate(value), `${what}: ${JSON.stringify(validate.errors)}`).toBe(true);
    };
    for (const { path, verb, op, id } of operations) {
      ((op.parameters as Json[] | undefined) ?? []).forEach((parameter, index) => {
        if (parameter.example !== undefined)
          conforms(
            pointer("paths", path, verb, "parameters", String(index), "schema"),
            parameter.example,
            `${id} ${parameter.name}`,
          );
      });
      const body = (op.requestBody as { content: Record<string, Json> } | undefined)?.content ?? {};
      for (const [type, media] of Object.entries(body))
        if (media.example !== undefined && type === "application/json")
          conforms(pointer("paths", path, verb, "requestBody", "content", type, "schema"), media.example, id);
      for (const [status, answer] of Object.entries(op.responses as Record<string, { content?: Json }>)) {
        const examples = (answer.content?.["application/json"] as Json | undefined)?.examples as
          | Record<string, { value: unknown }>
          | undefined;
        for (const [name, { value }] of Object.entries(examples ?? {})) {
          if (status === "200") answered.add(id);
          conforms(
            pointer("paths", path, verb, "responses", status, "content", "application/json", "schema"),
            value,
            `${id} ${status} ${name}`,
          );
        }
      }
    }
    expect([...answered].sort()).toEqual(operations.map((o) => o.id).sort());
  });

  it("answers are written out as the gateway writes them: every implicit field present", () => {
    const get = doc.paths["/v1/orders/{order_id}"]?.get as Json;
    const answer = (get.responses as Json)["200"] as { content: { "application/json": { examples: Json } } };
    const order = (answer.content["application/json"].examples.ok as { value: { order: Json } }).value.order;
    // Not in examples.yaml, present in what a client receives.
    expect(order).toMatchObject({ marketplaceAcknowledged: false, taxHoldReason: "", rejectionReasons: [] });
  });
});

describe("the channel endpoints' examples", () => {
  const entry = (id: string) => file[id] as OperationExampleEntry;
  const raw = (id: string) => readFileSync(new URL(entry(id).request.file ?? "", repository));
  // An inline JSON body goes out as its compact JSON text: what a signature is made over.
  const sent = (id: string) => Buffer.from(JSON.stringify(entry(id).request.body));

  it("are signed as the channels sign, with the development secrets", () => {
    const shopify = entry("Webhooks_Shopify").request.headers ?? {};
    expect(
      devClients.shopifyShops.some(({ webhookSecret }) =>
        verifyShopifyHmac(raw("Webhooks_Shopify"), shopify["X-Shopify-Hmac-Sha256"], webhookSecret),
      ),
    ).toBe(true);
    const stripe = entry("Webhooks_Stripe").request.headers?.["Stripe-Signature"] ?? "";
    const nowSeconds = Number(/t=(\d+)/.exec(stripe)?.[1]);
    expect(
      devClients.stripeEndpoints.some(({ webhookSecret }) =>
        verifyStripeSignature(sent("Webhooks_Stripe"), stripe, webhookSecret, {
          toleranceSeconds: 300,
          nowSeconds,
        }),
      ),
    ).toBe(true);
  });

  it("answer with what the channel formats make of the sample files", () => {
    const stripeEvent = entry("Webhooks_Stripe").request.body as Json;
    const recorded = stripeEventToPaymentEvents(stripeEvent).map((e) => e.paymentEvent?.paymentEventId);
    expect(entry("Webhooks_Stripe").response).toEqual({ recorded });

    const settlement = amazonSettlementToCanonical(raw("Imports_AmazonSettlementReport").toString("utf8"));
    expect(settlement.rejected).toEqual([]);
    const [item] = (entry("Imports_AmazonSettlementReport").response as { items: [Json] }).items;
    const line = settlement.settlement.lines.find((l) => l.lineId === item.settlementLineId);
    expect([line?.providerReference, String(line?.amount?.minorUnits)]).toEqual([
      item.providerReference,
      (item.actual as Json).minorUnits,
    ]);

    const x12 = parseInterchange(raw("Imports_X12").toString("utf8"));
    const ack = (entry("Imports_X12").response as { acknowledgment: string }).acknowledgment;
    for (const set of x12.transactions) expect(ack).toContain(`AK2*${set.type}*${set.control}~`);

    const pulled = entry("Imports_AmazonOrders").request.body as { order: Json; orderItems: Json };
    const submit = amazonOrderToSubmit(pulled.order, pulled.orderItems, {
      channelId: "amazon-us",
      sourceSystem: "amazon",
    });
    expect((entry("Imports_AmazonOrders").response as { order: Json }).order.channelOrderId).toBe(
      submit.channelOrderId,
    );

    const pos = posBatchToTransactions(entry("Imports_PosTransactions").request.body as Json, [
      { storeId: "S12", locationId: "S12", channelId: "pos", sourceSystem: "pos" },
    ]);
    if ("violations" in pos) throw new Error(JSON.stringify(pos.violations));
    const outcomes = (entry("Imports_PosTransactions").response as { transactions: Json[] }).transactions;
    expect(pos.entries.map((e) => e.ok)).toEqual(outcomes.map((o) => o.outcome === "recorded"));
    const refused = pos.entries.find((e) => !e.ok);
    expect(refused && !refused.ok && refused.violations.map((v) => v.field)).toEqual(
      ((outcomes.find((o) => o.outcome === "refused")?.violations ?? []) as Json[]).map((v) => v.field),
    );
  });
});
