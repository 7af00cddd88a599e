// Drives a day through the gateway: the business set up, stock received, then each order's journey
// (submit, cancel, capture, ship or pick up, return, refund) started at its intended time, open loop:
// a slow answer never delays the next order, and latency counts from the intended send time.
import * as hdr from "hdr-histogram-js";
import {
  type ChannelSecrets,
  shopifyHeaders,
  shopifyOrder,
  stripeEvent,
  stripeHeaders,
  x12PurchaseOrder,
} from "./channels.js";
import type { Day, Journey, Line, Person, StockBatch } from "./day.js";
import type { Rest } from "./rest.js";

const channelOf = {
  web: { channel: "CHANNEL_WEB", channelId: "web" },
  app: { channel: "CHANNEL_APP", channelId: "app" },
  pos: { channel: "CHANNEL_POS", channelId: "pos" },
  marketplace: { channel: "CHANNEL_MARKETPLACE", channelId: "amazon-us" },
  b2b: { channel: "CHANNEL_B2B", channelId: "b2b" },
} as const;

/** What a journey did, as the channel saw it: the truth its order is judged against. */
export interface Outcome {
  readonly journey: Journey;
  orderId: string;
  status: string;
  customerId: string;
  /** Accepted units per line id, and what the journey later did to each. */
  readonly lines: Map<
    string,
    { quantity: number; shipped: number; cancelled: number; returned: number; location: string }
  >;
  captured: number;
  refunded: number;
  /** When each refund was sent, by its payment event id (refund-to-ledger time starts there). */
  readonly refundsSent: Map<string, number>;
  /** Each refund's amount, by its payment event id. */
  readonly refundAmounts: Map<string, number>;
  readonly captureIds: string[];
  /** When the order's submission was answered, and how long after its intended send time. */
  answeredAt?: number;
  latencyMs?: number;
  /** The marketplace was told the order is accepted. */
  acknowledged?: boolean;
  /** What re-sourcing a line that could not be picked did. */
  repicked?: "moved" | "cancelled";
  error?: string;
}

export interface Driven {
  readonly outcomes: Outcome[];
  /** Order acceptance latency in ms, from the intended send time to the answer. */
  readonly acceptance: hdr.Histogram;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly rate: number;
  readonly sent: Record<string, number>;
  /** Movements the warehouse or a store sent that the mesh refused, with its reason. */
  readonly stockErrors: string[];
}

const usd = (minorUnits: number) => ({ currencyCode: "USD", minorUnits: String(minorUnits) });

/** Locations, channel rules and the day's stock receipts, through the gateway. */
export async function setUp(rest: Rest, day: Day): Promise<void> {
  for (const [locationId, type] of [
    ["DC-1", "LOCATION_TYPE_DISTRIBUTION_CENTER"],
    ["ST-1", "LOCATION_TYPE_STORE"],
  ] as const) {
    const address = { regionCode: "US", administrativeArea: "NY" };
    await rest.ok(
      "PUT",
      `/v1/locations/${locationId}`,
      { type, regionCode: "US", address },
      `loc-${day.run}-${locationId}`,
    );
  }
  const rules = [
    ["web", "CHANNEL_WEB", ["DC-1", "ST-1"], ["SHIP_FROM_DC", "PICKUP_IN_STORE"]],
    ["app", "CHANNEL_APP", ["DC-1", "ST-1"], ["SHIP_FROM_DC", "PICKUP_IN_STORE"]],
    ["pos", "CHANNEL_POS", ["DC-1", "ST-1"], ["SHIP_FROM_DC"]],
    ["amazon-us", "CHANNEL_MARKETPLACE", ["DC-1"], ["SHIP_FROM_DC"]],
    ["b2b", "CHANNEL_B2B", ["DC-1"], ["SHIP_FROM_DC"]],
  ] as const;
  for (const [channelId, channel, locationIds, promises] of rules) {
    await rest.ok(
      "PUT",
      `/v1/channelRules/${channelId}`,
      { channel, locationIds, promises: promises.map((p) => `FULFILLMENT_PROMISE_${p}`) },
      `rule-${day.run}-${channelId}`,
    );
  }
  for (let i = 0; i < day.receipts.length; i += 200) {
    const movements = day.receipts.slice(i, i + 200).map((m) => ({ ...m, quantity: String(m.quantity) }));
    await rest.ok("POST", "/v1/movements:batchRecord", { movements }, `rcv-${day.run}-${i}`);
  }
}

/** Runs every journey of the day, order sends spread at `rate` per second; resolves when all ended. */
export async function drive(
  rest: Rest,
  day: Day,
  rate: number,
  secrets: ChannelSecrets,
  progress: (line: string) => void = () => {},
  /** Kept up to date while the day runs: orders sent and ended so far (for a fault run's "in flight"). */
  live: { sent: number; ended: number } = { sent: 0, ended: 0 },
): Promise<Driven> {
  const people = new Map(day.people.map((p) => [p.id, p]));
  const sent: Record<string, number> = {};
  const stockErrors: string[] = [];
  let warehouse = Promise.resolve();
  const acceptance = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 600_000,
    numberOfSignificantValueDigits: 3,
  });
  const startedAt = Date.now();
  const outcomes: Outcome[] = [];
  const running: Array<Promise<void>> = [];
  let done = 0;
  const ticker = setInterval(() => {
    const elapsed = (Date.now() - startedAt) / 1_000;
    progress(
      `${elapsed.toFixed(0)} s: ${outcomes.length}/${day.journeys.length} sent, ${done} ended, ` +
        `${outcomes.filter((o) => o.status === "ORDER_STATUS_ACCEPTED" || o.captured > 0).length} accepted, ` +
        `p99 ${acceptance.totalCount ? acceptance.getValueAtPercentile(99) : 0} ms, ${rest.retries()} retries`,
    );
  }, 1_000);
  for (const journey of day.journeys) {
    const intended = startedAt + (journey.n * 1_000) / rate;
    const wait = intended - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    // The warehouse sends its files in order, each after the one before was taken.
    for (const batch of day.stockBatches.filter((b) => b.withOrder === journey.n)) {
      warehouse = warehouse.then(() => sendStock(rest, batch, stockErrors, sent));
    }
    const outcome: Outcome = {
      journey,
      orderId: "",
      status: "",
      customerId: "",
      lines: new Map(),
      captured: 0,
      refunded: 0,
      refundsSent: new Map(),
      refundAmounts: new Map(),
      captureIds: [],
    };
    outcomes.push(outcome);
    live.sent = outcomes.length;
    running.push(
      travel(
        { rest, sent, secrets, run: day.run, person: people.get(journey.person) },
        outcome,
        intended,
        acceptance,
      )
        .catch((error: unknown) => {
          outcome.error = error instanceof Error ? error.message : String(error);
        })
        .finally(() => {
          done++;
          live.ended = done;
        }),
    );
  }
  await Promise.all(running);
  await warehouse;
  clearInterval(ticker);
  return { outcomes, acceptance, startedAt, endedAt: Date.now(), rate, sent, stockErrors };
}

type OrderJson = {
  orderId: string;
  status: string;
  customerId: string;
  grandTotal?: { minorUnits: string };
  lines: Array<{
    lineId: string;
    cancelledQuantity?: string;
    fulfillmentLocationId: string;
    lineTotal?: { minorUnits: string };
    quantity: string;
  }>;
};

/** What a journey needs besides its own outcome: the gateway, the channels' secrets, the shopper. */
interface Trip {
  readonly rest: Rest;
  /** Deliveries by channel format (REST orders, Shopify and Stripe webhooks, redeliveries). */
  readonly sent: Record<string, number>;
  readonly secrets: ChannelSecrets;
  readonly run: string;
  readonly person: Person | undefined;
}

/** A webhook delivered once, or twice when the journey's channel repeats itself. */
async function webhook(
  trip: Trip,
  journey: Journey,
  path: string,
  body: string,
  headers: () => Record<string, string>,
) {
  const answer = await trip.rest.deliver(path, body, headers);
  count(trip.sent, path);
  if (journey.plan.redeliver) {
    await trip.rest.deliver(path, body, headers);
    count(trip.sent, `${path} (again)`);
  }
  return answer;
}

/** Counts a delivery by its format in a day's tally. */
const count = (sent: Record<string, number>, what: string) => {
  sent[what] = (sent[what] ?? 0) + 1;
};

async function travel(trip: Trip, outcome: Outcome, intended: number, acceptance: hdr.Histogram) {
  const { rest } = trip;
  const { journey } = outcome;
  const key = (step: string) => `${journey.channelOrderId}:${step}`;
  const submitted =
    journey.channel === "b2b"
      ? await purchaseOrder(trip, journey)
      : journey.plan.viaShopify && trip.person
        ? await shopifyWebhook(trip, journey, trip.person)
        : await rest.ok(
            "POST",
            "/v1/orders",
            {
              ...channelOf[journey.channel],
              channelOrderId: journey.channelOrderId,
              currencyCode: "USD",
              customer: journey.customer,
              shipTo: {
                lines: ["1 Main St"],
                locality: "New York",
                administrativeArea: "NY",
                postalCode: "10001",
                regionCode: "US",
              },
              lines: journey.lines.map(submitLine),
            },
            key("submit"),
          );
  outcome.answeredAt = Date.now();
  outcome.latencyMs = Math.max(1, outcome.answeredAt - intended);
  acceptance.recordValue(outcome.latencyMs);
  if (!journey.plan.viaShopify && journey.channel !== "b2b") count(trip.sent, "POST /v1/orders");
  let order = (submitted.order ?? submitted) as OrderJson;
  outcome.orderId = order.orderId;
  outcome.status = order.status;
  outcome.customerId = order.customerId;
  if (order.status !== "ORDER_STATUS_ACCEPTED") return;
  for (const line of order.lines) {
    outcome.lines.set(line.lineId, {
      quantity: Number(line.quantity),
      shipped: 0,
      cancelled: 0,
      returned: 0,
      location: line.fulfillmentLocationId,
    });
  }
  const path = `/v1/orders/${order.orderId}`;
  const { plan } = journey;
  /** Cancels a whole line (with re-sourcing: moves it where the stock is, when any location has it). */
  const cancel = async (
    lineId: string,
    quantity: number,
    reason: string,
    resource: boolean,
    step: string,
  ) => {
    const body = { lines: [{ lineId, quantity: String(quantity) }], reason, resource };
    return (await rest.ok("POST", `${path}:cancel`, body, key(step))).order as OrderJson;
  };
  if (plan.cancelLine) {
    const line = outcome.lines.get(plan.cancelLine);
    if (line) {
      order = await cancel(plan.cancelLine, line.quantity, "customer changed their mind", false, "cancel");
      line.cancelled = line.quantity;
    }
  }
  if (plan.repick) {
    const line = outcome.lines.get(plan.repick);
    if (line) {
      order = await cancel(plan.repick, line.quantity, "could not be picked", true, "repick");
      // Moved to another location (it ships from there), or cancelled when none had it.
      const after = order.lines.find((l) => l.lineId === plan.repick);
      line.cancelled = Number(after?.cancelledQuantity ?? 0);
      outcome.repicked = line.cancelled === 0 ? "moved" : "cancelled";
    }
  }
  if (journey.channel === "marketplace" && !plan.lateAck) await acknowledge(trip, outcome);
  const captureId = key("capture");
  const total = Number(order.grandTotal?.minorUnits ?? 0);
  await pay(trip, outcome, captureId, "capture", total);
  outcome.captured = total;
  outcome.captureIds.push(captureId);

  const open = journey.lines.filter((l) => (outcome.lines.get(l.lineId)?.cancelled ?? 0) === 0);
  const shipped = open.filter((l) => !l.pickup);
  const groups =
    plan.splitShipment && shipped.length > 1 ? [shipped.slice(0, 1), shipped.slice(1)] : [shipped];
  for (const [i, group] of groups.entries()) {
    if (group.length === 0) continue;
    // A shipped line's location is where inventory held it; the order names it only for pickups.
    const from = outcome.lines.get(group[0]?.lineId ?? "")?.location ?? "";
    await rest.ok(
      "POST",
      `${path}/shipments`,
      {
        shipmentId: key(`ship-${i}`),
        ...(from ? { fromLocationId: from } : {}),
        carrier: "UPS",
        trackingNumber: `1Z${outcome.journey.n}${i}`,
        lines: group.map((l) => ({ lineId: l.lineId, quantity: String(l.quantity) })),
      },
      key(`ship-${i}`),
    );
    for (const l of group) {
      const held = outcome.lines.get(l.lineId);
      if (held) held.shipped = l.quantity;
    }
  }
  const pickups = open.filter((l) => l.pickup).map((l) => l.lineId);
  if (pickups.length > 0) {
    await rest.ok("POST", `${path}:markReadyForPickup`, { lineIds: pickups }, key("ready"));
    await rest.ok("POST", `${path}:recordPickup`, { lineIds: pickups }, key("collected"));
    for (const id of pickups) {
      const held = outcome.lines.get(id);
      if (held) held.shipped = held.quantity;
    }
  }
  if (journey.channel === "marketplace" && plan.lateAck) await acknowledge(trip, outcome);
  if (plan.returnOne) {
    const line = order.lines.find((l) => l.lineId === plan.returnOne?.lineId);
    const held = outcome.lines.get(plan.returnOne.lineId);
    if (line && held && held.shipped > 0) {
      const condition = plan.returnOne.damaged ? "RETURN_CONDITION_DAMAGED" : "RETURN_CONDITION_RESTOCK";
      await rest.ok(
        "POST",
        `${path}/returns`,
        {
          returnId: key("return"),
          locationId: held.location || "DC-1",
          lines: [{ lineId: line.lineId, quantity: "1", condition }],
        },
        key("return"),
      );
      held.returned = 1;
      const unitRefund = Math.floor(Number(line.lineTotal?.minorUnits ?? 0) / Number(line.quantity));
      await refund(trip, outcome, key("refund-return"), unitRefund);
    }
  }
  if (plan.goodwill)
    await refund(trip, outcome, key("refund-goodwill"), Math.min(plan.goodwill, total - outcome.refunded));
}

/**
 * A warehouse or store file of movements. When the file is resent (as a WMS does after a timeout),
 * it comes under a new Idempotency-Key: only the movement ids keep it from counting twice.
 */
async function sendStock(rest: Rest, batch: StockBatch, errors: string[], sent: Record<string, number>) {
  const movements = batch.movements.map((m) => ({ ...m, quantity: String(m.quantity) }));
  for (const key of batch.resend ? [batch.batchId, `${batch.batchId}:resent`] : [batch.batchId]) {
    const answer: Record<string, unknown> = await rest
      .ok("POST", "/v1/movements:batchRecord", { movements }, key)
      .catch((error: unknown) => ({ error: String(error) }));
    count(sent, "POST /v1/movements:batchRecord");
    if (answer.error) errors.push(`${key}: ${String(answer.error)}`);
    const results = (answer.results ?? []) as Array<{
      movementId: string;
      errorReason?: string;
      errorMessage?: string;
    }>;
    for (const r of results)
      if (r.errorReason) errors.push(`${key} ${r.movementId}: ${r.errorReason} ${r.errorMessage ?? ""}`);
  }
}

function submitLine(line: Line) {
  return {
    lineId: line.lineId,
    sku: line.sku,
    quantity: String(line.quantity),
    unitPrice: usd(line.unitPrice),
    fulfillmentType: line.pickup ? "FULFILLMENT_TYPE_PICKUP_IN_STORE" : "FULFILLMENT_TYPE_SHIP",
    ...(line.pickup ? { fulfillmentLocationId: "ST-1" } : {}),
  };
}

/**
 * The marketplace is told the order is accepted; its adapter repeats itself under a new key when the
 * journey's channel redelivers (the mesh must record one acknowledgment).
 */
async function acknowledge(trip: Trip, outcome: Outcome) {
  const path = `/v1/orders/${outcome.orderId}:acknowledge`;
  const key = `${outcome.journey.channelOrderId}:ack`;
  await trip.rest.ok("POST", path, {}, key);
  if (outcome.journey.plan.redeliver) await trip.rest.ok("POST", path, {}, `${key}:again`);
  outcome.acknowledged = true;
}

/**
 * A B2B order: the partner's EDI system posts its X12 850 (the same file again when the journey's
 * channel repeats itself); the import answers with the order's id, which is then read in full.
 */
async function purchaseOrder(trip: Trip, journey: Journey) {
  const body = x12PurchaseOrder(journey, trip.secrets.x12SenderId);
  const headers = () => ({ "x-api-key": trip.secrets.x12ApiKey, "content-type": "application/edi-x12" });
  const imported = await webhook(trip, journey, "/imports/x12", body, headers);
  const orderId = (imported.orders as Array<{ orderId?: string }> | undefined)?.[0]?.orderId ?? "";
  return trip.rest.ok("GET", `/v1/orders/${orderId}`);
}

function shopifyWebhook(trip: Trip, journey: Journey, person: Person) {
  const body = shopifyOrder(journey, person, trip.run);
  const id = `${journey.channelOrderId}:webhook`;
  return webhook(trip, journey, "/webhooks/shopify", body, () => shopifyHeaders(body, trip.secrets, id));
}

/**
 * A payment as its provider reports it: Stripe events (signed) for web and app orders, the POS and the
 * marketplace through the REST API.
 */
async function pay(trip: Trip, outcome: Outcome, id: string, kind: "capture" | "refund", amount: number) {
  const { journey } = outcome;
  if (journey.channel === "web" || journey.channel === "app") {
    const body = stripeEvent(kind, id, outcome.orderId, amount);
    await webhook(trip, journey, "/webhooks/stripe", body, () => stripeHeaders(body, trip.secrets));
    return;
  }
  const type = kind === "capture" ? "PAYMENT_EVENT_TYPE_CAPTURE" : "PAYMENT_EVENT_TYPE_REFUND";
  await trip.rest.ok(
    "POST",
    `/v1/orders/${outcome.orderId}/paymentEvents`,
    {
      paymentEventId: id,
      type,
      outcome: "PAYMENT_OUTCOME_APPROVED",
      amount: usd(amount),
      provider:
        journey.channel === "marketplace" ? "amazon" : journey.channel === "b2b" ? "invoice" : "adyen",
      providerReference: id,
    },
    id,
  );
  count(trip.sent, "POST /v1/orders/{id}/paymentEvents");
}

async function refund(trip: Trip, outcome: Outcome, id: string, amount: number) {
  if (amount <= 0) return;
  outcome.refundsSent.set(id, Date.now());
  outcome.refundAmounts.set(id, amount);
  await pay(trip, outcome, id, "refund", amount);
  outcome.refunded += amount;
}
