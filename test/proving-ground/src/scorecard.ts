// The business scorecard of a day: what the mesh holds at the end, read back through the gateway and
// judged against what the channels did (the journeys' outcomes) and the generator's truth.
import { everyPage } from "@retail/platform/store";
import { type Day, type Sku, stockOf } from "./day.js";
import type { Outcome } from "./drive.js";
import type { Rest } from "./rest.js";

export interface Scorecard {
  orders: {
    sent: number;
    /** Orders the mesh holds at the end, against the orders the channels' submissions created. */
    held: number;
    created: number;
    accepted: number;
    rejected: number;
    failed: number;
    accurate: number;
    accuracy: number;
    /** Lines a location could not pick: moved to another location, or cancelled. */
    repicksMoved: number;
    repicksCancelled: number;
  };
  /** Orders that are not what their channel did, with why (the first 20). */
  inaccurate: Array<{ orderId: string; channelOrderId: string; why: string }>;
  stock: {
    positions: number;
    oversoldUnits: number;
    reliable: number;
    reliability: number;
    mismatches: string[];
    /** Warehouse and store movements the mesh refused (none should be). */
    refusedMovements: string[];
  };
  identity: { people: number; duplicatesLeft: number; precision: number; recall: number };
  ledger: {
    entries: number;
    unbalancedEntries: number;
    capturesPosted: number;
    capturesExpected: number;
    refundsPosted: number;
    refundsExpected: number;
    refundToLedgerMs: { p50: number; p99: number };
    balancedPerCurrency: boolean;
    /** Orders whose captures or refunds were not posted exactly once (the first 20). */
    problems: string[];
    /** Orders with more capture or refund entries than their channel sent (posted twice). */
    postedTwice: number;
    /** POS orders are posted as their store's daily summary at close: how many have their store lines. */
    posOrdersWithStoreLines: number;
    posOrders: number;
  };
}

type Money = { currencyCode?: string; minorUnits?: string };
type OrderJson = {
  status: string;
  rejectionReasons?: string[];
  marketplaceAcknowledged?: boolean;
  capturedTotal?: Money;
  refundedTotal?: Money;
  lines: Array<{
    lineId: string;
    shippedQuantity: string;
    cancelledQuantity: string;
    returnedQuantity: string;
  }>;
};
type EntryJson = {
  source?: { eventType: string; orderId: string };
  lines: Array<{ side: string; amount?: Money }>;
  createTime?: string;
};

const minor = (m: Money | undefined) => Number(m?.minorUnits ?? 0);

async function inBatches<T, R>(
  items: readonly T[],
  size: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += size)
    results.push(...(await Promise.all(items.slice(i, i + size).map(work))));
  return results;
}

/** Every item a listing route answers (`field` of each page), page by page. */
function everyPageOf<T>(rest: Rest, path: string, field: string): Promise<T[]> {
  return everyPage(async (token) => {
    const page = await rest.ok(
      "GET",
      `${path}?pageSize=500${token ? `&pageToken=${encodeURIComponent(token)}` : ""}`,
    );
    return { items: (page[field] as T[]) ?? [], nextPageToken: String(page.nextPageToken ?? "") };
  });
}

/** Every journal entry. */
const journal = (rest: Rest) => everyPageOf<EntryJson>(rest, "/v1/journalEntries", "entries");

/** How many orders the mesh holds. */
const ordersHeld = async (rest: Rest) => (await everyPageOf<unknown>(rest, "/v1/orders", "orders")).length;

/** Waits until the ledger stops growing (every event has been consumed and posted), up to `timeoutMs`. */
export async function settled(rest: Rest, timeoutMs = 120_000): Promise<EntryJson[]> {
  const deadline = Date.now() + timeoutMs;
  let before = -1;
  for (;;) {
    const entries = await journal(rest);
    if (entries.length === before || Date.now() > deadline) return entries;
    before = entries.length;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
  }
}

export async function scorecard(
  rest: Rest,
  day: Day,
  outcomes: readonly Outcome[],
  refusedMovements: readonly string[] = [],
  closed = false,
): Promise<Scorecard> {
  // The caller waited for the ledger to settle before the close; the close's own entries are posted
  // when it answers, so one read is the ledger as it ends.
  const entries = await journal(rest);
  const inaccurate: Scorecard["inaccurate"] = [];
  const wrong = (o: Outcome, why: string) =>
    inaccurate.push({ orderId: o.orderId, channelOrderId: o.journey.channelOrderId, why });
  const hot = new Set(day.skus.filter((s) => s.hot).map((s) => s.sku));

  const finals = await inBatches(outcomes, 8, async (o) =>
    o.orderId ? ((await rest.ok("GET", `/v1/orders/${o.orderId}`)).order as OrderJson) : undefined,
  );
  let accurate = 0;
  outcomes.forEach((o, i) => {
    const order = finals[i];
    if (o.error || !order) {
      wrong(o, o.error ?? "no order");
      return;
    }
    if (o.status === "ORDER_STATUS_REJECTED") {
      if (!o.journey.lines.some((l) => hot.has(l.sku)))
        wrong(o, `rejected though every SKU had stock: ${(order.rejectionReasons ?? []).join("; ")}`);
      else if (order.status !== "ORDER_STATUS_REJECTED") wrong(o, `rejected, then ${order.status}`);
      else accurate++;
      return;
    }
    const problems: string[] = [];
    for (const line of order.lines) {
      const truth = o.lines.get(line.lineId);
      const said = [
        Number(line.shippedQuantity),
        Number(line.cancelledQuantity),
        Number(line.returnedQuantity),
      ];
      const did = [truth?.shipped, truth?.cancelled, truth?.returned];
      if (said.join() !== did.join())
        problems.push(`line ${line.lineId} shipped/cancelled/returned ${said} (sent ${did})`);
    }
    if (Boolean(order.marketplaceAcknowledged) !== Boolean(o.acknowledged))
      problems.push(
        `marketplace acknowledged ${Boolean(order.marketplaceAcknowledged)} (sent ${Boolean(o.acknowledged)})`,
      );
    if (minor(order.capturedTotal) !== o.captured)
      problems.push(`captured ${minor(order.capturedTotal)} (sent ${o.captured})`);
    if (minor(order.refundedTotal) !== o.refunded)
      problems.push(`refunded ${minor(order.refundedTotal)} (sent ${o.refunded})`);
    if (problems.length > 0) wrong(o, problems.join("; "));
    else accurate++;
  });

  const stock = {
    ...(await stockScore(rest, day, outcomes)),
    refusedMovements: refusedMovements.slice(0, 20),
  };
  const identity = await identityScore(rest, outcomes);
  const accepted = outcomes.filter((o) => o.lines.size > 0);
  // POS sales go to store lines, summarised per store and day at close, not to entries per order.
  const pos = accepted.filter((o) => o.journey.channel === "pos");
  const detailed = accepted.filter((o) => o.journey.channel !== "pos");
  // Before the close a POS order has store lines; after it, each of them is in a posted summary.
  const withStoreLines = await inBatches(pos, 8, async (o) => {
    const found = await rest.ok("GET", `/v1/subledgerLines?orderId=${o.orderId}`);
    const postings = (found.postings as Array<{ summaryEntryId?: string }> | undefined) ?? [];
    return postings.length > 0 && (!closed || postings.every((p) => p.summaryEntryId));
  });
  const byOrder = (type: string) => {
    const counts = new Map<string, number>();
    for (const e of entries)
      if (e.source?.eventType.endsWith(type))
        counts.set(e.source.orderId, (counts.get(e.source.orderId) ?? 0) + 1);
    return counts;
  };
  const captures = byOrder("PaymentCaptured");
  const refunds = byOrder("RefundIssued");
  const ledgerTimes = refundTimes(entries, outcomes);
  const ledgerProblems = detailed.flatMap((o) => {
    const c = captures.get(o.orderId) ?? 0;
    const r = refunds.get(o.orderId) ?? 0;
    return c !== (o.captured > 0 ? 1 : 0) || r !== o.refundsSent.size
      ? [
          `${o.orderId} (${o.journey.channelOrderId}, ${JSON.stringify(o.journey.plan)}, pickup ${o.journey.lines.some((l) => l.pickup)}): ${c} capture entries for ${o.captured > 0 ? 1 : 0}, ${r} refund entries for ${o.refundsSent.size}`,
        ]
      : [];
  });
  const postedTwice = detailed.filter(
    (o) =>
      (captures.get(o.orderId) ?? 0) > (o.captured > 0 ? 1 : 0) ||
      (refunds.get(o.orderId) ?? 0) > o.refundsSent.size,
  ).length;
  const sums = new Map<string, number>();
  let unbalanced = 0;
  for (const e of entries) {
    const perCurrency = new Map<string, number>();
    for (const l of e.lines) {
      const signed = (l.side === "ENTRY_SIDE_DEBIT" ? 1 : -1) * minor(l.amount);
      const currency = l.amount?.currencyCode ?? "";
      perCurrency.set(currency, (perCurrency.get(currency) ?? 0) + signed);
      sums.set(currency, (sums.get(currency) ?? 0) + signed);
    }
    if ([...perCurrency.values()].some((v) => v !== 0)) unbalanced++;
  }
  return {
    orders: {
      sent: outcomes.length,
      held: await ordersHeld(rest),
      created: new Set(outcomes.filter((o) => o.orderId).map((o) => o.orderId)).size,
      accepted: accepted.length,
      rejected: outcomes.filter((o) => o.status === "ORDER_STATUS_REJECTED").length,
      failed: outcomes.filter((o) => o.error).length,
      accurate,
      accuracy: outcomes.length ? accurate / outcomes.length : 1,
      repicksMoved: outcomes.filter((o) => o.repicked === "moved").length,
      repicksCancelled: outcomes.filter((o) => o.repicked === "cancelled").length,
    },
    inaccurate: inaccurate.slice(0, 20),
    stock,
    identity,
    ledger: {
      entries: entries.length,
      unbalancedEntries: unbalanced,
      capturesPosted: detailed.filter((o) => captures.get(o.orderId) === 1).length,
      capturesExpected: detailed.filter((o) => o.captured > 0).length,
      refundsPosted: detailed.reduce(
        (n, o) => n + Math.min(refunds.get(o.orderId) ?? 0, o.refundsSent.size),
        0,
      ),
      refundsExpected: detailed.reduce((n, o) => n + o.refundsSent.size, 0),
      posOrdersWithStoreLines: withStoreLines.filter(Boolean).length,
      posOrders: pos.length,
      refundToLedgerMs: { p50: quantile(ledgerTimes, 0.5), p99: quantile(ledgerTimes, 0.99) },
      balancedPerCurrency: [...sums.values()].every((v) => v === 0),
      problems: ledgerProblems.slice(0, 20),
      postedTwice,
    },
  };
}

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0) : 0;
}

/** Refund sent to its ledger entry recorded, pairing an order's refunds and entries in time order. */
function refundTimes(entries: readonly EntryJson[], outcomes: readonly Outcome[]): number[] {
  const posted = new Map<string, number[]>();
  for (const e of entries) {
    if (!e.source?.eventType.endsWith("RefundIssued") || !e.createTime) continue;
    posted.set(e.source.orderId, [...(posted.get(e.source.orderId) ?? []), Date.parse(e.createTime)].sort());
  }
  return outcomes.flatMap((o) => {
    const sent = [...o.refundsSent.values()].sort();
    const at = posted.get(o.orderId) ?? [];
    return sent.flatMap((s, i) => (at[i] !== undefined ? [Math.max(0, (at[i] ?? 0) - s)] : []));
  });
}

/**
 * Stock: nothing sold beyond what was received or returned to sellable stock; on hand of each SKU (over its locations) equal to
 * received less shipped plus returned; no hold left once every accepted line shipped or was
 * cancelled; and the read model (availability) equal to the ledger (position) at every SKU-location.
 * A SKU-location is reliable when all of that holds for it.
 */
async function stockScore(
  rest: Rest,
  day: Day,
  outcomes: readonly Outcome[],
): Promise<Omit<Scorecard["stock"], "refusedMovements">> {
  const expected = new Map<string, number>();
  const sold = new Map<string, number>();
  const restocked = new Map<string, number>();
  for (const s of day.skus) expected.set(s.sku, received(day, s));
  for (const o of outcomes) {
    for (const line of o.journey.lines) {
      const held = o.lines.get(line.lineId);
      if (!held) continue;
      expected.set(line.sku, (expected.get(line.sku) ?? 0) - held.shipped + held.returned);
      sold.set(line.sku, (sold.get(line.sku) ?? 0) + held.quantity - held.cancelled);
      // A unit returned to sellable stock may be sold again: it counts as received.
      if (held.returned > 0 && !o.journey.plan.returnOne?.damaged)
        restocked.set(line.sku, (restocked.get(line.sku) ?? 0) + held.returned);
    }
  }
  const oversoldUnits = day.skus.reduce(
    (n, s) => n + Math.max(0, (sold.get(s.sku) ?? 0) - received(day, s) - (restocked.get(s.sku) ?? 0)),
    0,
  );
  const locations = ["DC-1", "ST-1"];
  const mismatches: string[] = [];
  let reliable = 0;
  await inBatches(day.skus, 4, async ({ sku }) => {
    const found = await Promise.all(
      locations.map(async (loc) => {
        const position = (await rest.ok("GET", `/v1/locations/${loc}/skus/${sku}/position`))
          .position as Record<string, string>;
        const view = await rest.ok("GET", `/v1/locations/${loc}/skus/${sku}/availability`);
        const rows = (view.availability ?? []) as Array<{ locationId: string; available: string }>;
        const readModel = rows.find((r) => r.locationId === loc)?.available ?? "0";
        const problems = [
          Number(position.reserved ?? 0) !== 0 ? `reserved ${position.reserved} after every line ended` : "",
          readModel !== (position.available ?? "0")
            ? `read model ${readModel}, ledger ${position.available}`
            : "",
        ].filter(Boolean);
        return { loc, onHand: Number(position.onHand ?? 0), problems };
      }),
    );
    const onHand = found.reduce((n, f) => n + f.onHand, 0);
    const total =
      onHand === expected.get(sku)
        ? ""
        : `on hand ${onHand} over its locations (expected ${expected.get(sku)})`;
    for (const f of found) {
      const problems = [...f.problems, total].filter(Boolean);
      if (problems.length > 0) mismatches.push(`${sku}@${f.loc}: ${problems.join(", ")}`);
      else reliable++;
    }
  });
  const positions = day.skus.length * locations.length;
  return {
    positions,
    oversoldUnits,
    reliable,
    reliability: positions ? reliable / positions : 1,
    mismatches: mismatches.slice(0, 20),
  };
}

/** Units a SKU was given at the start of the day and by the warehouse's and stores' movements. */
const received = (day: Day, s: Sku) =>
  Object.values(stockOf(s)).reduce((a, b) => a + b, 0) + (day.stockDelta.get(s.sku) ?? 0);

/**
 * Identity: the customer each order names, resolved to its survivor now, per real person. Pairs of
 * orders are judged: same person and same customer (right), other people and same customer (a false
 * merge), same person and other customers (a duplicate left). Marketplace buyers come with masked
 * emails and no phone: nothing could link them, so they are left out, as are B2B orders (the buyer
 * is the partner's business).
 */
async function identityScore(rest: Rest, outcomes: readonly Outcome[]): Promise<Scorecard["identity"]> {
  const linkable = outcomes.filter(
    (o) => o.customerId && o.journey.channel !== "marketplace" && o.journey.channel !== "b2b",
  );
  const ids = [...new Set(linkable.map((o) => o.customerId))];
  const survivors = new Map<string, string>();
  await inBatches(ids, 8, async (id) => {
    const found = await rest.ok("GET", `/v1/customers/${id}`);
    survivors.set(id, String((found.customer as { customerId?: string } | undefined)?.customerId ?? id));
  });
  const resolved = linkable.map((o) => ({
    person: o.journey.person,
    customer: survivors.get(o.customerId) ?? o.customerId,
  }));
  let right = 0;
  let falseMerges = 0;
  let duplicates = 0;
  for (let i = 0; i < resolved.length; i++) {
    for (let j = i + 1; j < resolved.length; j++) {
      const a = resolved[i];
      const b = resolved[j];
      if (!a || !b) continue;
      const samePerson = a.person === b.person;
      const sameCustomer = a.customer === b.customer;
      if (samePerson && sameCustomer) right++;
      else if (sameCustomer) falseMerges++;
      else if (samePerson) duplicates++;
    }
  }
  const people = new Map<string, Set<string>>();
  for (const r of resolved) people.set(r.person, (people.get(r.person) ?? new Set()).add(r.customer));
  return {
    people: people.size,
    duplicatesLeft: [...people.values()].reduce((n, customers) => n + customers.size - 1, 0),
    precision: right + falseMerges ? right / (right + falseMerges) : 1,
    recall: right + duplicates ? right / (right + duplicates) : 1,
  };
}
