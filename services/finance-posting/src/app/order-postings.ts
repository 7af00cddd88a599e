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
  | ({ kind: "refunded"; tax: bigint } & Movement)
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
 * Posts what one order event means for the ledger, once (every posting's key starts with the event
 * id). Money taken is deferred, delivery recognises revenue, a refund goes against revenue or against
 * the deferral depending on what was delivered, and a refund that arrives before any capture of its
 * order waits in suspense until the capture clears it. Events of one order are handled one at a time.
 */
export function recordOrderNews(deps: FinanceDeps, news: OrderNews): Promise<void> {
  return deps.lock(news.orderId, async () => {
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
        const { entries } = await postedFor(deps, news.orderId);
        for (const unmatched of entries.filter((e) => e.fact === "refund_unmatched")) {
          const refundEvent = "entry" in unmatched ? (unmatched.entry.source?.eventId ?? "") : "";
          const key = `${refundEvent}:suspense_cleared`;
          if (await deps.journal.get(entryIdOf(key))) continue;
          await postFact(
            deps,
            fact("suspense_cleared", key, { ...base, eventId: refundEvent, amount: unmatched.amount }),
          );
        }
        return;
      }
      case "refunded": {
        const terms = await deps.terms.get(news.orderId);
        const { captured, delivered, refunded } = await postedFor(deps, news.orderId);
        const kind: FactKind =
          captured === 0n
            ? "refund_unmatched"
            : delivered >= refunded + news.amount
              ? "refund_of_delivered"
              : "refund_of_undelivered";
        await postFact(
          deps,
          fact(kind, `${news.eventId}:refund`, {
            ...movementBase(news, terms?.storeId ?? ""),
            tax: news.tax,
          }),
        );
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
  });
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
