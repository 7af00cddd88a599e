// What the storefront and the payment provider send, in their own formats and signed as they sign:
// a Shopify orders/create webhook for a web order, Stripe payment_intent.succeeded and refund.created
// events for web and app payments. Built from the journey, so the truth stays the journey's.
import { createHmac } from "node:crypto";
import type { Journey, Person } from "./day.js";

export interface ChannelSecrets {
  readonly shopDomain: string;
  readonly shopifySecret: string;
  readonly stripeSecret: string;
  /** The B2B partner's interchange sender id and the API key its EDI system posts files with. */
  readonly x12SenderId: string;
  readonly x12ApiKey: string;
}

/** Secrets of the channels in a clients file of the run (and of `npm start`'s dev clients). */
export const devSecrets: ChannelSecrets = {
  shopDomain: "dev-shop.myshopify.com",
  shopifySecret: "dev-shopify-webhook-secret",
  stripeSecret: "whsec_dev_stripe_endpoint_secret",
  x12SenderId: "4405197800",
  x12ApiKey: "dev-b2b-key",
};

const decimal = (minorUnits: number) => (minorUnits / 100).toFixed(2);

/** Shopify's numeric order id for a journey (what becomes the mesh's channel order id). */
export const shopifyOrderId = (journey: Journey, run: string) =>
  String(5_000_000_000_000 + Number.parseInt(run.slice(-6), 36) * 10_000 + journey.n);

/** The orders/create body of a web journey, as Shopify would send it. */
export function shopifyOrder(journey: Journey, person: Person, run: string): string {
  const created = new Date().toISOString();
  return JSON.stringify({
    id: Number(shopifyOrderId(journey, run)),
    name: `#${journey.n}`,
    email: person.email,
    phone: person.phone,
    created_at: created,
    currency: "USD",
    total_discounts: "0.00",
    customer: {
      id: journey.customer.sourceId,
      email: person.email,
      phone: person.phone,
      first_name: person.givenName,
      last_name: person.familyName,
    },
    line_items: journey.lines.map((l) => ({
      id: Number(l.lineId),
      sku: l.sku,
      quantity: l.quantity,
      price: decimal(l.unitPrice),
      tax_lines: [],
      discount_allocations: [],
    })),
    shipping_address: {
      address1: "1 Main St",
      city: "New York",
      province_code: "NY",
      zip: "10001",
      country_code: "US",
      name: `${person.givenName} ${person.familyName}`,
    },
    shipping_lines: [],
  });
}

export function shopifyHeaders(
  body: string,
  secrets: ChannelSecrets,
  webhookId: string,
): Record<string, string> {
  return {
    "content-type": "application/json",
    "x-shopify-topic": "orders/create",
    "x-shopify-shop-domain": secrets.shopDomain,
    "x-shopify-webhook-id": webhookId,
    "x-shopify-hmac-sha256": createHmac("sha256", secrets.shopifySecret).update(body).digest("base64"),
  };
}

/** A Stripe event for an order's capture or refund, keyed by `id` (the event's, the refund's). */
export function stripeEvent(kind: "capture" | "refund", id: string, orderId: string, amount: number): string {
  const created = Math.floor(Date.now() / 1_000);
  const object =
    kind === "capture"
      ? {
          id: `pi_${id}`,
          object: "payment_intent",
          amount_received: amount,
          currency: "usd",
          latest_charge: `ch_${orderId}`,
          payment_method_types: ["card"],
          metadata: { order_id: orderId },
        }
      : {
          id: `re_${id}`,
          object: "refund",
          amount,
          currency: "usd",
          status: "succeeded",
          charge: `ch_${orderId}`,
          metadata: { order_id: orderId },
        };
  const type = kind === "capture" ? "payment_intent.succeeded" : "refund.created";
  return JSON.stringify({ id: `evt_${id}`, object: "event", type, created, data: { object } });
}

export function stripeHeaders(body: string, secrets: ChannelSecrets): Record<string, string> {
  const t = Math.floor(Date.now() / 1_000);
  const v1 = createHmac("sha256", secrets.stripeSecret).update(`${t}.${body}`).digest("hex");
  return { "content-type": "application/json", "stripe-signature": `t=${t},v1=${v1}` };
}

/** The B2B trading partner's interchange sender id (ISA06) in the run's clients file. */
export const partnerSenderId = "PROVINGB2B";

/**
 * A B2B journey's purchase order as its partner's EDI system sends it: one X12 850 in an interchange,
 * the PO number its channel order id, our SKU as the vendor's item number (VN), the control totals
 * (CTT line count, AMT*1 amount, SE segment count) made to agree.
 */
export function x12PurchaseOrder(journey: Journey, senderId: string): string {
  const pad = (text: string, width: number) => text.padEnd(width, " ").slice(0, width);
  const now = new Date();
  const yymmdd = now.toISOString().slice(2, 10).replaceAll("-", "");
  const ccyymmdd = now.toISOString().slice(0, 10).replaceAll("-", "");
  const hhmm = now.toISOString().slice(11, 16).replace(":", "");
  const control = String(journey.n + 1).padStart(9, "0");
  const body = [
    "ST*850*0001",
    `BEG*00*SA*${journey.channelOrderId}**${ccyymmdd}`,
    "N1*BY*PROVING GROUND STORES*92*BUYER-1",
    "N1*ST*PROVING GROUND STORE 12*92*STORE-12",
    "N3*1 MAIN ST",
    "N4*NEW YORK*NY*10001*US",
    ...journey.lines.map(
      (l) => `PO1*${l.lineId}*${l.quantity}*EA*${(l.unitPrice / 100).toFixed(2)}**VN*${l.sku}`,
    ),
    `CTT*${journey.lines.length}`,
    `AMT*1*${(journey.lines.reduce((sum, l) => sum + l.quantity * l.unitPrice, 0) / 100).toFixed(2)}`,
  ];
  const segments = [...body, `SE*${body.length + 1}*0001`];
  return [
    `ISA*00*${pad("", 10)}*00*${pad("", 10)}*ZZ*${pad(senderId, 15)}*ZZ*${pad("RETAILMESH", 15)}*${yymmdd}*${hhmm}*U*00401*${control}*0*P*>`,
    `GS*PO*${senderId}*RETAILMESH*${ccyymmdd}*${hhmm}*${journey.n + 1}*X*004010`,
    ...segments,
    `GE*1*${journey.n + 1}`,
    `IEA*1*${control}`,
  ].join("~\n");
}
