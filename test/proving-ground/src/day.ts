// A retail day, generated from a seed: the same seed gives the same day. It holds what the channels
// will send (orders, payments, shipments, returns, stock movements) and the truth they are judged by:
// who each shopper really is, what stock was received and counted.
import { type Random, seeded } from "./random.js";

export interface DayOptions {
  readonly seed: number;
  readonly orders: number;
  readonly skus: number;
  readonly people: number;
}

export type ChannelName = "web" | "app" | "pos" | "marketplace";

export interface Sku {
  readonly sku: string;
  readonly unitPrice: number;
  /** A promoted SKU with little stock: orders for it compete and some must be refused. */
  readonly hot: boolean;
}

export interface Person {
  readonly id: string;
  readonly givenName: string;
  readonly familyName: string;
  readonly email: string;
  /** E.164; people of one household share it. */
  readonly phone: string;
}

export interface Line {
  readonly lineId: string;
  readonly sku: string;
  readonly quantity: number;
  readonly unitPrice: number;
  /** Picked up in store ST-1, else shipped. */
  readonly pickup: boolean;
}

/** What happens to an order after it is accepted, in this order. */
export interface Plan {
  /** A line cancelled before anything ships (a line of two or more). */
  readonly cancelLine?: string;
  /** Shipped lines go in two shipments when there are two or more. */
  readonly splitShipment: boolean;
  /** One unit of a shipped line comes back, and its price is refunded. */
  readonly returnOne?: { readonly lineId: string; readonly damaged: boolean };
  /** A goodwill refund of this many minor units, with no return. */
  readonly goodwill?: number;
  /** A web order of shipped lines that comes as Shopify's orders/create webhook instead of REST. */
  readonly viaShopify: boolean;
  /** The channel delivers its webhooks (order, payments) twice, as Shopify and Stripe sometimes do. */
  readonly redeliver: boolean;
}

export interface Journey {
  readonly n: number;
  /** Milliseconds after the day's start at which its order is sent. */
  readonly at: number;
  readonly channel: ChannelName;
  readonly channelOrderId: string;
  readonly person: string;
  /** The customer as this channel knows the person (spelling, format and ids of its own). */
  readonly customer: Record<string, string>;
  readonly lines: readonly Line[];
  readonly plan: Plan;
}

export interface StockMovement {
  readonly movementId: string;
  readonly type: "MOVEMENT_TYPE_GOODS_RECEIPT" | "MOVEMENT_TYPE_CYCLE_COUNT";
  readonly sku: string;
  readonly locationId: string;
  readonly quantity: number;
  readonly reason?: string;
}

export interface Day {
  readonly options: DayOptions;
  readonly run: string;
  readonly skus: readonly Sku[];
  readonly people: readonly Person[];
  readonly receipts: readonly StockMovement[];
  readonly journeys: readonly Journey[];
}

const givenNames = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Tim"];
const familyNames = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson"];
export const hotStock = { "DC-1": 6, "ST-1": 2 } as const;
export const plainStock = { "DC-1": 10_000, "ST-1": 500 } as const;

/** The day for `options`; `run` keeps its ids apart from other runs against the same databases. */
export function generateDay(options: DayOptions, run: string): Day {
  const random = seeded(options.seed);
  const skus = Array.from({ length: options.skus }, (_, i) => ({
    sku: `PG-${run}-${String(i).padStart(4, "0")}`,
    unitPrice: random.int(5, 120) * 100 - 1,
    hot: i < Math.max(1, Math.floor(options.skus / 10)),
  }));
  const people = Array.from({ length: options.people }, (_, i) => person(random, run, i));
  const receipts = skus.flatMap((s) =>
    Object.entries(s.hot ? hotStock : plainStock).map(([locationId, quantity]) => ({
      movementId: `rcv-${s.sku}-${locationId}`,
      type: "MOVEMENT_TYPE_GOODS_RECEIPT" as const,
      sku: s.sku,
      locationId,
      quantity,
    })),
  );
  const spacing = 1_000 / 10; // offsets at 10 orders/s; the driver scales them to its rate
  const journeys = Array.from({ length: options.orders }, (_, n) =>
    journey(random, run, n, Math.round(n * spacing), skus, people),
  );
  return { options, run, skus, people, receipts, journeys };
}

function person(random: Random, run: string, i: number): Person {
  const givenName = random.pick(givenNames);
  const familyName = random.pick(familyNames);
  // Every seventh person lives with the one before: same phone, same family name, another person.
  const household = i > 0 && i % 7 === 0;
  const phoneOwner = household ? i - 1 : i;
  return {
    id: `p${i}`,
    givenName,
    familyName,
    email: `${givenName}.${familyName}.${run}.${i}@example.com`.toLowerCase(),
    phone: `+1212${String(5_550_000 + phoneOwner).padStart(7, "0")}`,
  };
}

/** How a channel spells the person: its own source id, email case and phone format. */
function customerAs(channel: ChannelName, p: Person, random: Random): Record<string, string> {
  const national = `(${p.phone.slice(2, 5)}) ${p.phone.slice(5, 8)}-${p.phone.slice(8)}`;
  const base = { givenName: p.givenName, familyName: p.familyName };
  switch (channel) {
    case "web":
      return {
        ...base,
        sourceSystem: "shopify-web",
        sourceId: `web-${p.id}`,
        email: p.email,
        phone: p.phone,
      };
    case "app": {
      const shouted = random.chance(0.5) ? p.email.toUpperCase() : p.email;
      return {
        ...base,
        sourceSystem: "mobile-app",
        sourceId: `app-${p.id}`,
        email: shouted,
        phone: national,
      };
    }
    case "pos":
      return { ...base, sourceSystem: "pos", sourceId: `pos-${p.id}`, email: p.email, phone: national };
    case "marketplace":
      return {
        ...base,
        sourceSystem: "amazon",
        sourceId: `amz-${p.id}`,
        email: `${p.id}@marketplace.example`,
      };
  }
}

function journey(
  random: Random,
  run: string,
  n: number,
  at: number,
  skus: readonly Sku[],
  people: readonly Person[],
): Journey {
  const channel = random.pick<ChannelName>(["web", "web", "web", "app", "app", "pos", "marketplace"]);
  const p = random.pick(people);
  const lineCount = random.int(1, 3);
  const chosen = new Set<Sku>();
  while (chosen.size < lineCount)
    chosen.add(random.chance(0.2) ? random.pick(skus.filter((s) => s.hot)) : random.pick(skus));
  const lines = [...chosen].map((s, i) => ({
    lineId: String(i + 1),
    sku: s.sku,
    quantity: s.hot ? 1 : random.int(1, 3),
    unitPrice: s.unitPrice,
    pickup: (channel === "web" || channel === "app") && random.chance(0.15),
  }));
  const shipped = lines.filter((l) => !l.pickup);
  const cancelLine = lines.length >= 2 && random.chance(0.15) ? lines.at(-1)?.lineId : undefined;
  const returnable = shipped.filter((l) => l.lineId !== cancelLine);
  const returned = returnable.length > 0 && random.chance(0.15) ? random.pick(returnable) : undefined;
  return {
    n,
    at,
    channel,
    channelOrderId: `${channel}-${run}-${n}`,
    person: p.id,
    customer: customerAs(channel, p, random),
    lines,
    plan: {
      ...(cancelLine ? { cancelLine } : {}),
      splitShipment: random.chance(0.5),
      ...(returned ? { returnOne: { lineId: returned.lineId, damaged: random.chance(0.3) } } : {}),
      ...(random.chance(0.1) ? { goodwill: random.int(1, 5) * 100 } : {}),
      viaShopify: channel === "web" && !lines.some((l) => l.pickup) && random.chance(0.5),
      redeliver: random.chance(0.2),
    },
  };
}
