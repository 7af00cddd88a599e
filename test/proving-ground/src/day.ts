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

export type ChannelName = "web" | "app" | "pos" | "marketplace" | "b2b";

export interface Sku {
  readonly sku: string;
  readonly unitPrice: number;
  /** A promoted SKU with little stock: orders for it compete and some must be refused. */
  readonly hot: boolean;
  /**
   * A slow mover no order of the day buys: the warehouse's and the store's own movements (receipts,
   * transfers, cycle counts with shrinkage) are all that happens to it, so its truth is exact.
   */
  readonly slow: boolean;
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
  /**
   * A shipped line its location could not pick: the channel cancels it with re-sourcing, and the
   * mesh moves it to another location with the stock, or cancels it when none has it.
   */
  readonly repick?: string;
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
  /** A marketplace order's acknowledgment comes only after it shipped (late), not at acceptance. */
  readonly lateAck: boolean;
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
  readonly type:
    | "MOVEMENT_TYPE_GOODS_RECEIPT"
    | "MOVEMENT_TYPE_CYCLE_COUNT"
    | "MOVEMENT_TYPE_TRANSFER_OUT"
    | "MOVEMENT_TYPE_TRANSFER_IN";
  readonly sku: string;
  readonly locationId: string;
  readonly quantity: number;
  readonly counterpartLocationId?: string;
  readonly reason?: string;
  readonly sourceSystem?: string;
}

/** A batch of movements the warehouse or a store sends during the day (resent once when `resend`). */
export interface StockBatch {
  /** Sent with the order of this index (so at the same point of the day at any rate). */
  readonly withOrder: number;
  readonly batchId: string;
  readonly movements: readonly StockMovement[];
  readonly resend: boolean;
}

export interface Day {
  readonly options: DayOptions;
  readonly run: string;
  readonly skus: readonly Sku[];
  readonly people: readonly Person[];
  readonly receipts: readonly StockMovement[];
  readonly journeys: readonly Journey[];
  /** The warehouse's and stores' movements during the day. */
  readonly stockBatches: readonly StockBatch[];
  /** Units each SKU gains or loses by those movements in all (receipts in, shrinkage out). */
  readonly stockDelta: ReadonlyMap<string, number>;
}

const givenNames = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Tim"];
const familyNames = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson"];
export const hotStock = { "DC-1": 12, "ST-1": 3 } as const;
export const plainStock = { "DC-1": 10_000, "ST-1": 500 } as const;
export const slowStock = { "DC-1": 100, "ST-1": 20 } as const;
export const stockOf = (s: Sku) => (s.hot ? hotStock : s.slow ? slowStock : plainStock);

/** The day for `options`; `run` keeps its ids apart from other runs against the same databases. */
export function generateDay(options: DayOptions, run: string): Day {
  const random = seeded(options.seed);
  const hotCount = Math.max(1, Math.floor(options.skus / 10));
  const slowCount = Math.max(1, Math.floor(options.skus / 10));
  const skus = Array.from({ length: options.skus }, (_, i) => ({
    sku: `PG-${run}-${String(i).padStart(4, "0")}`,
    unitPrice: random.int(5, 120) * 100 - 1,
    hot: i < hotCount,
    slow: i >= options.skus - slowCount,
  }));
  const people = Array.from({ length: options.people }, (_, i) => person(random, run, i));
  const receipts = skus.flatMap((s) =>
    Object.entries(stockOf(s)).map(([locationId, quantity]) => ({
      movementId: `rcv-${s.sku}-${locationId}`,
      type: "MOVEMENT_TYPE_GOODS_RECEIPT" as const,
      sku: s.sku,
      locationId,
      quantity,
    })),
  );
  const spacing = 1_000 / 10; // offsets at 10 orders/s; the driver scales them to its rate
  const sold = skus.filter((s) => !s.slow);
  const journeys = Array.from({ length: options.orders }, (_, n) =>
    journey(random, run, n, Math.round(n * spacing), sold, people),
  );
  const { stockBatches, stockDelta } = warehouseDay(random, run, skus, options.orders);
  return { options, run, skus, people, receipts, journeys, stockBatches, stockDelta };
}

/**
 * The warehouse's and stores' day, spread over the order day: a replenishment receipt at the DC for
 * every SKU a third of the way in; at half way, a transfer of the slow movers from the DC to the
 * store (out, then in); at two thirds, the store's cycle count of them, short by 1-3 units each.
 */
function warehouseDay(
  random: Random,
  run: string,
  skus: readonly Sku[],
  length: number,
): {
  stockBatches: StockBatch[];
  stockDelta: Map<string, number>;
} {
  const slow = skus.filter((s) => s.slow);
  const delta = new Map<string, number>();
  const add = (sku: string, units: number) => delta.set(sku, (delta.get(sku) ?? 0) + units);
  const wms = { sourceSystem: "wms" };
  const receipts = skus
    .filter((s) => !s.hot)
    .map((s) => {
      add(s.sku, 50);
      return {
        ...wms,
        movementId: `rpl-${s.sku}`,
        type: "MOVEMENT_TYPE_GOODS_RECEIPT" as const,
        sku: s.sku,
        locationId: "DC-1",
        quantity: 50,
      };
    });
  const transfer = (type: "MOVEMENT_TYPE_TRANSFER_OUT" | "MOVEMENT_TYPE_TRANSFER_IN") =>
    slow.map((s) => ({
      ...wms,
      movementId: `${type === "MOVEMENT_TYPE_TRANSFER_OUT" ? "tro" : "tri"}-${s.sku}`,
      type,
      sku: s.sku,
      locationId: type === "MOVEMENT_TYPE_TRANSFER_OUT" ? "DC-1" : "ST-1",
      counterpartLocationId: type === "MOVEMENT_TYPE_TRANSFER_OUT" ? "ST-1" : "DC-1",
      quantity: 10,
    }));
  const counts = slow.map((s) => {
    const short = random.int(1, 3);
    add(s.sku, -short);
    return {
      sourceSystem: "store-ST-1",
      movementId: `cnt-${s.sku}`,
      type: "MOVEMENT_TYPE_CYCLE_COUNT" as const,
      sku: s.sku,
      locationId: "ST-1",
      quantity: slowStock["ST-1"] + 10 - short,
      reason: "cycle count: shrinkage",
    };
  });
  const batch = (at: number, name: string, movements: StockMovement[]) => ({
    withOrder: Math.floor(at),
    batchId: `${name}-${run}`,
    movements,
    resend: random.chance(0.5),
  });
  return {
    stockBatches: [
      batch(length / 3, "replenish", receipts),
      batch(length / 2, "transfer-out", transfer("MOVEMENT_TYPE_TRANSFER_OUT")),
      batch(length / 2 + length / 12, "transfer-in", transfer("MOVEMENT_TYPE_TRANSFER_IN")),
      batch((2 * length) / 3, "count", counts),
    ],
    stockDelta: delta,
  };
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
    case "b2b":
      // The trading partner's buyer, named in its purchase orders: a business, not this person.
      return { sourceSystem: "b2b-portal", sourceId: "BUYER-1", familyName: "PROVING GROUND STORES" };
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
  const channel = random.pick<ChannelName>(["web", "web", "web", "app", "app", "pos", "marketplace", "b2b"]);
  const p = random.pick(people);
  const lineCount = random.int(1, 3);
  const chosen = new Set<Sku>();
  while (chosen.size < lineCount)
    chosen.add(random.chance(0.1) ? random.pick(skus.filter((s) => s.hot)) : random.pick(skus));
  const lines = [...chosen].map((s, i) => ({
    lineId: String(i + 1),
    sku: s.sku,
    quantity: s.hot ? 1 : random.int(1, 3),
    unitPrice: s.unitPrice,
    pickup: (channel === "web" || channel === "app") && random.chance(0.15),
  }));
  const shipped = lines.filter((l) => !l.pickup);
  const cancelLine = lines.length >= 2 && random.chance(0.15) ? lines.at(-1)?.lineId : undefined;
  const kept = shipped.filter((l) => l.lineId !== cancelLine);
  const repick = kept.length > 0 && random.chance(0.1) ? random.pick(kept).lineId : undefined;
  const returnable = kept;
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
      ...(repick ? { repick } : {}),
      splitShipment: random.chance(0.5),
      ...(returned ? { returnOne: { lineId: returned.lineId, damaged: random.chance(0.3) } } : {}),
      ...(random.chance(0.1) ? { goodwill: random.int(1, 5) * 100 } : {}),
      viaShopify: channel === "web" && !lines.some((l) => l.pickup) && random.chance(0.5),
      redeliver: random.chance(0.2),
      lateAck: channel === "marketplace" && random.chance(0.3),
    },
  };
}
