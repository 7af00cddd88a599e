import type { Posting, PostingLine } from "../domain/posting.js";
import type { PostingKind } from "../domain/rules.js";
import type { FinanceDeps } from "./ports.js";
import { entryIdOf, recordPosting } from "./record-posting.js";

/** What an order event says, in finance's terms (adapters/amqp decodes the order service's events). */
export type OrderEvent =
  | {
      kind: "accepted";
      orderId: string;
      channel: string;
      storeId: string;
      currency: string;
      shipping: bigint;
    }
  | ({ kind: "captured" | "chargeback"; fee: bigint } & Movement)
  | ({ kind: "chargeback_reversed" } & Movement)
  | ({
      kind: "refunded";
      tax: bigint;
      /** As the order classified it when it issued the refund; unset in events from before it did. */
      basis: "delivered" | "undelivered" | undefined;
      /** The order lines the refund names, its amount shared between them (none: a refund of the order). */
      lines: PostingLine[];
    } & Movement)
  | ({
      kind: "delivered";
      storeId: string;
      lines: PostingLine[];
    } & EventSource);

/** What every order event finance posts from says of where it comes from. */
interface EventSource {
  eventId: string;
  eventType: string;
  orderId: string;
  channel: string;
  currency: string;
  date: string;
}

interface Movement extends EventSource {
  amount: bigint;
  paymentMethod: string;
  provider: string;
  providerReference: string;
}

function posting(
  kind: PostingKind,
  key: string,
  base: Partial<Posting> & Pick<Posting, "eventId" | "eventType" | "orderId" | "currency" | "postingDate">,
): Posting {
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
  await recordPosting(deps, posting("shipping_delivered", key, { ...base, amount: terms.shipping }));
}

/**
 * Clears refunds that waited in suspense for their order's first capture, once that capture is
 * posted. Both the capture and the refund call it after posting their own entry, so whichever of the
 * two is posted last (on any instance) sees the other: suspense never outlives the capture.
 */
async function clearSuspense(
  deps: FinanceDeps,
  orderId: string,
  base: ReturnType<typeof movementBase>,
  after: "capture" | "refund",
) {
  // After a capture the order has one; refunds in suspense are journal entries (never summarised).
  const entries =
    after === "capture" ? await deps.journal.forOrder(orderId) : (await postedFor(deps, orderId)).entries;
  if (after === "refund" && !entries.some((e) => e.fact === "capture")) return;
  for (const unmatched of entries.filter((e) => e.fact === "refund_unmatched")) {
    const refundEvent = "entry" in unmatched ? (unmatched.entry.source?.eventId ?? "") : "";
    const key = `${refundEvent}:suspense_cleared`;
    if (await deps.journal.get(entryIdOf(key))) continue;
    await recordPosting(
      deps,
      posting("suspense_cleared", key, { ...base, eventId: refundEvent, amount: unmatched.amount }),
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
export async function postOrderEvent(deps: FinanceDeps, event: OrderEvent): Promise<void> {
  switch (event.kind) {
    case "accepted": {
      await deps.terms.save(event);
      const { delivered } = await postedFor(deps, event.orderId);
      if (delivered > 0n)
        await postShipping(
          deps,
          event.orderId,
          deps.clock.now().toISOString().slice(0, 10),
          `${event.orderId}:accepted`,
        );
      return;
    }
    case "delivered": {
      const terms = await deps.terms.get(event.orderId);
      const base = sourceBase(event, event.storeId || terms?.storeId || "");
      await recordPosting(
        deps,
        posting("delivery", `${event.eventId}:delivery`, { ...base, lines: event.lines }),
      );
      await postShipping(deps, event.orderId, event.date, event.eventId);
      return;
    }
    case "captured": {
      const terms = await deps.terms.get(event.orderId);
      const base = movementBase(event, terms?.storeId ?? "");
      await recordPosting(deps, posting("capture", `${event.eventId}:capture`, base));
      // Refunds that came before this capture leave suspense now.
      await clearSuspense(deps, event.orderId, base, "capture");
      return;
    }
    case "refunded": {
      const terms = await deps.terms.get(event.orderId);
      const base = movementBase(event, terms?.storeId ?? "");
      const kind = event.basis ? refundKinds[event.basis] : await legacyRefundKind(deps, event);
      await recordPosting(
        deps,
        posting(kind, `${event.eventId}:refund`, { ...base, tax: event.tax, lines: refundLines(event) }),
      );
      if (kind === "refund_unmatched") await clearSuspense(deps, event.orderId, base, "refund");
      return;
    }
    case "chargeback": {
      const base = movementBase(event, "");
      await recordPosting(deps, posting("chargeback", `${event.eventId}:chargeback`, base));
      if (event.fee > 0n)
        await recordPosting(
          deps,
          posting("chargeback_fee", `${event.eventId}:chargeback_fee`, { ...base, amount: event.fee }),
        );
      return;
    }
    case "chargeback_reversed":
      // The chargeback's mirror: the disputed funds back from the loss account.
      await recordPosting(
        deps,
        posting("chargeback_reversal", `${event.eventId}:chargeback_reversal`, movementBase(event, "")),
      );
      return;
  }
}

/**
 * A refund of named lines posts line by line (each journal line with its SKU and tax code) when the
 * lines account for the whole refund, as the order shares it out; otherwise, and for a refund of the
 * order, it posts once.
 */
function refundLines(event: Extract<OrderEvent, { kind: "refunded" }>): PostingLine[] {
  const total = event.lines.reduce((sum, l) => sum + l.net + l.tax, 0n);
  return total === event.amount ? event.lines : [];
}

const refundKinds: Record<"delivered" | "undelivered", PostingKind> = {
  delivered: "refund_of_delivered",
  undelivered: "refund_of_undelivered",
};

/**
 * A refund event from before the order classified its refunds: classified by what this ledger holds
 * now, in suspense when no capture of its order is posted yet.
 */
async function legacyRefundKind(deps: FinanceDeps, event: Movement): Promise<PostingKind> {
  const { captured, delivered, refunded } = await postedFor(deps, event.orderId);
  if (captured === 0n) return "refund_unmatched";
  return delivered >= refunded + event.amount ? "refund_of_delivered" : "refund_of_undelivered";
}

/** What every posting of an event carries: its source, order, currency, date, channel and store. */
function sourceBase(event: EventSource, storeId: string) {
  return {
    eventId: event.eventId,
    eventType: event.eventType,
    orderId: event.orderId,
    currency: event.currency,
    postingDate: event.date,
    channel: event.channel,
    storeId,
  };
}

function movementBase(event: Movement, storeId: string) {
  return {
    ...sourceBase(event, storeId),
    provider: event.provider,
    providerReference: event.providerReference,
    paymentMethod: event.paymentMethod,
    amount: event.amount,
  };
}
