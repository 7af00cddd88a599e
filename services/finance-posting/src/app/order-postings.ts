import type { Fact, FactLine } from "../domain/posting.js";
import type { FactKind } from "../domain/rules.js";
import type { FinanceDeps } from "./ports.js";
import { entryIdOf, postFact } from "./post-fact.js";

/** What an order event says, in finance's terms (adapters/amqp decodes the order service's events). */
export type OrderNews =
  | {
      kind: "accepted";
      orderId: string;
      channel: string;
      storeId: string;
      currency: string;
      shipping: bigint;
    }
  | ({ kind: "captured" | "chargeback"; fee: bigint } & Movement)
  | ({
      kind: "refunded";
      tax: bigint;
      /** As the order classified it when it issued the refund; unset in events from before it did. */
      basis: "delivered" | "undelivered" | undefined;
    } & Movement)
  | {
      kind: "delivered";
      eventId: string;
      eventType: string;
      orderId: string;
      channel: string;
      storeId: string;
      currency: string;
      date: string;
      lines: FactLine[];
    };

interface Movement {
  eventId: string;
  eventType: string;
  orderId: string;
  channel: string;
  currency: string;
  date: string;
  amount: bigint;
  paymentMethod: string;
  provider: string;
  providerReference: string;
}

function fact(
  kind: FactKind,
  key: string,
  base: Partial<Fact> & Pick<Fact, "eventId" | "eventType" | "orderId" | "currency" | "postingDate">,
): Fact {
  return {
    kind,
    key,
    channel: "",
    storeId: "",
    settlementId: "",
    provider: "",
    providerReference: "",
    paymentMethod: "",
    description: `${kind.replaceAll("_", " ")} for order ${base.orderId}`,
    amount: 0n,
    tax: 0n,
    lines: [],
    ...base,
  };
}

/** What an order has posted so far, from its entries and its store lines. */
async function postedFor(deps: FinanceDeps, orderId: string) {
  const sum = (items: ReadonlyArray<{ fact: string; amount: bigint }>, kinds: readonly string[]) =>
    items.filter((i) => kinds.includes(i.fact)).reduce((s, i) => s + i.amount, 0n);
  const items = [...(await deps.journal.forOrder(orderId)), ...(await deps.stores.forOrder(orderId))];
  return {
    captured: sum(items, ["capture"]),
    delivered: sum(items, ["delivery"]),
    refunded: sum(items, ["refund_of_delivered", "refund_of_undelivered", "refund_unmatched"]),
    entries: items,
  };
}

/** Shipping charged is revenue once the order's first goods are delivered. */
async function postShipping(
  deps: FinanceDeps,
  orderId: string,
  date: string,
  eventId: string,
): Promise<void> {
  const terms = await deps.terms.get(orderId);
  if (!terms || terms.shipping <= 0n) return;
  const key = `${orderId}:shipping`;
  if (await deps.journal.get(entryIdOf(key))) return;
  const base = {
    eventId,
    eventType: "shipping",
    orderId,
    currency: terms.currency,
    postingDate: date,
    channel: terms.channel,
    storeId: terms.storeId,
  };
  await postFact(deps, fact("shipping_delivered", key, { ...base, amount: terms.shipping }));
}

/**
 * Clears refunds that waited in suspense for their order's first capture, once that capture is
 * posted. Both the capture and the refund call it after posting their own entry, so whichever of the
 * two is posted last (on any instance) sees the other: suspense never outlives the capture.
 */
async function clearSuspense(deps: FinanceDeps, orderId: string, base: ReturnType<typeof movementBase>) {
  const { captured, entries } = await postedFor(deps, orderId);
  if (captured === 0n) return;
  for (const unmatched of entries.filter((e) => e.fact === "refund_unmatched")) {
    const refundEvent = "entry" in unmatched ? (unmatched.entry.source?.eventId ?? "") : "";
    const key = `${refundEvent}:suspense_cleared`;
    if (await deps.journal.get(entryIdOf(key))) continue;
    await postFact(
      deps,
      fact("suspense_cleared", key, { ...base, eventId: refundEvent, amount: unmatched.amount }),
    );
  }
}

/**
 * Posts what one order event means for the ledger, once (every posting's key starts with the event
 * id). Money taken is deferred, delivery recognises revenue, a refund goes against revenue or against
 * the deferral as the order classified it when it issued the refund. Nothing here depends on the order
 * events arrive in or on which instance handles them: each decision comes from the event itself, and
 * the two that join two events (shipping revenue on the first delivery of an accepted order, suspense
 * of a refund without its order's classification) are made after posting by both sides, so the later
 * one always sees the earlier. No lock is needed, in this process or across instances.
 */
export async function recordOrderNews(deps: FinanceDeps, news: OrderNews): Promise<void> {
  switch (news.kind) {
    case "accepted": {
      await deps.terms.save(news);
      const { delivered } = await postedFor(deps, news.orderId);
      if (delivered > 0n)
        await postShipping(
          deps,
          news.orderId,
          deps.clock.now().toISOString().slice(0, 10),
          `${news.orderId}:accepted`,
        );
      return;
    }
    case "delivered": {
      const terms = await deps.terms.get(news.orderId);
      const base = {
        eventId: news.eventId,
        eventType: news.eventType,
        orderId: news.orderId,
        currency: news.currency,
        postingDate: news.date,
        channel: news.channel,
        storeId: news.storeId || terms?.storeId || "",
      };
      await postFact(deps, fact("delivery", `${news.eventId}:delivery`, { ...base, lines: news.lines }));
      await postShipping(deps, news.orderId, news.date, news.eventId);
      return;
    }
    case "captured": {
      const terms = await deps.terms.get(news.orderId);
      const base = movementBase(news, terms?.storeId ?? "");
      await postFact(deps, fact("capture", `${news.eventId}:capture`, base));
      // Refunds that came before this capture leave suspense now.
      await clearSuspense(deps, news.orderId, base);
      return;
    }
    case "refunded": {
      const terms = await deps.terms.get(news.orderId);
      const base = movementBase(news, terms?.storeId ?? "");
      const kind = news.basis ? refundKinds[news.basis] : await legacyRefundKind(deps, news);
      await postFact(deps, fact(kind, `${news.eventId}:refund`, { ...base, tax: news.tax }));
      if (kind === "refund_unmatched") await clearSuspense(deps, news.orderId, base);
      return;
    }
    case "chargeback": {
      const base = movementBase(news, "");
      await postFact(deps, fact("chargeback", `${news.eventId}:chargeback`, base));
      if (news.fee > 0n)
        await postFact(
          deps,
          fact("chargeback_fee", `${news.eventId}:chargeback_fee`, { ...base, amount: news.fee }),
        );
      return;
    }
  }
}

const refundKinds: Record<"delivered" | "undelivered", FactKind> = {
  delivered: "refund_of_delivered",
  undelivered: "refund_of_undelivered",
};

/**
 * A refund event from before the order classified its refunds: classified by what this ledger holds
 * now, in suspense when no capture of its order is posted yet.
 */
async function legacyRefundKind(deps: FinanceDeps, news: Movement): Promise<FactKind> {
  const { captured, delivered, refunded } = await postedFor(deps, news.orderId);
  if (captured === 0n) return "refund_unmatched";
  return delivered >= refunded + news.amount ? "refund_of_delivered" : "refund_of_undelivered";
}

function movementBase(news: Movement, storeId: string) {
  return {
    eventId: news.eventId,
    eventType: news.eventType,
    orderId: news.orderId,
    currency: news.currency,
    postingDate: news.date,
    channel: news.channel,
    storeId,
    provider: news.provider,
    providerReference: news.providerReference,
    paymentMethod: news.paymentMethod,
    amount: news.amount,
  };
}
