import { createHash } from "node:crypto";
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
// Channel files posted by the caller (API key or JWT, like any REST call) and imported through the
// services' contracts:
//   POST /imports/amazon/settlement-report  an Amazon settlement flat file V1 or V2 (tab-separated) ->
//     ImportSettlement (needs finance:write and an Idempotency-Key, which becomes the request id).
//   POST /imports/stripe/payout-reconciliation  Stripe's itemised payout reconciliation report (CSV) ->
//     ImportSettlement per automatic payout (needs finance:write and an Idempotency-Key).
//   POST /imports/amazon/orders  an Amazon order pulled from the Selling Partner API (getOrder and
//     getOrderItems answers) -> SubmitOrder on the marketplace's channel (needs order:write).
//   POST /imports/x12  an X12 interchange from a B2B partner: each 850 purchase order -> SubmitOrder
//     (needs order:write; the sender must be a partner of the calling client; every order is checked
//     before any is submitted; request ids come from the partner and PO number, so a resent file
//     submits nothing twice); from a warehouse (x12Warehouses), each 856 ship notice -> RecordShipment
//     of the orders it names by PO number, each 945 shipping advice -> RecordShipment of the order our
//     940 sent, each 846 inventory advice -> cycle counts at the warehouse (needs inventory:write).
import { create, toJson } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { ErrorInfoSchema } from "@retail/contracts/google/rpc/error_details_pb";
import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import { type Settlement, SettlementSchema } from "@retail/contracts/retail/finance/v1/finance_pb";
import {
  FinancePostingService,
  ImportSettlementRequestSchema,
  type ImportSettlementResponse,
  ImportSettlementResponseSchema,
} from "@retail/contracts/retail/finance/v1/finance_service_pb";
import { MovementType } from "@retail/contracts/retail/inventory/v1/inventory_pb";
import { InventoryService } from "@retail/contracts/retail/inventory/v1/inventory_service_pb";
import { type Order, OrderStatus, OrderStatusSchema } from "@retail/contracts/retail/order/v1/order_pb";
import {
  OrderService,
  type SubmitOrderResponse,
  SubmitOrderResponseSchema,
} from "@retail/contracts/retail/order/v1/order_service_pb";
import { errorWithInfo, RequestInvalid, toConnectError } from "@retail/platform/rpc";
import { fingerprint } from "@retail/platform/store";
import { parse as parseCsv } from "csv-parse";
import { authenticate, type Principal, requireScope } from "../access/authenticate.js";
import type { ClientConfig, ClientsFile } from "../access/clients.js";
import { callerFor, invokeForClient, orderOf } from "../access/order-visibility.js";
import { amazonOrderToSubmit } from "../channel-formats/amazon-orders.js";
import { createAmazonSettlementReader } from "../channel-formats/amazon-settlement.js";
import { object } from "../channel-formats/json-fields.js";
import { parseLosslessJson } from "../channel-formats/lossless-json.js";
import {
  type PosStore,
  type PosTransaction,
  posBatchToTransactions,
  posOrderId,
} from "../channel-formats/pos-batch.js";
import { createStripePayoutReader } from "../channel-formats/stripe-payout-reconciliation.js";
import { functionalAcknowledgment, type SetVerdict } from "../channel-formats/x12-acknowledgment.js";
import { inventoryAdviceToCounts } from "../channel-formats/x12-inventory-advice.js";
import {
  parseInterchange,
  purchaseOrderToSubmit,
  type X12Partner,
} from "../channel-formats/x12-purchase-order.js";
import { shipmentLines, shipNoticeToShipments } from "../channel-formats/x12-ship-notice.js";
import { shippingAdviceToShipment } from "../channel-formats/x12-shipping-advice.js";
import { httpStatusOf } from "../transcoding/status.js";
import { parseJson, requestHeader, requireMediaType } from "./body.js";
import type { Answer, ChannelEndpoint, InboundMessage } from "./inbound.js";
import { renderError } from "./respond.js";
import { onceByKey, type RestDependencies, scopedIdempotencyKey } from "./rest-handler.js";

/** A file's sender: the caller's API key or JWT, as for any REST call. */
function fileSender(deps: RestDependencies, message: InboundMessage): Promise<Principal> {
  return authenticate(
    { apiKey: requestHeader(message, "x-api-key"), authorization: requestHeader(message, "authorization") },
    deps.clients.current(),
  );
}

/** What every file endpoint checks first: the scope it needs and the file's media type. */
function checkFile(principal: Principal, message: InboundMessage, scope: string, mediaTypes: string[]) {
  requireScope(principal, scope);
  requireMediaType(message, mediaTypes);
}

/** A file endpoint: sent by an API caller, journaled under the file's Idempotency-Key when it has one. */
function fileEndpoint(
  channel: string,
  handle: (
    deps: RestDependencies,
    message: InboundMessage,
    principal: Principal,
    signal: AbortSignal,
  ) => Promise<Answer>,
  options: { streamed?: boolean } = {},
): ChannelEndpoint {
  return {
    channel,
    channelMessageId: (message) => requestHeader(message, "idempotency-key") ?? "",
    authenticate: fileSender,
    handle,
    ...(options.streamed && { streamed: true }),
  };
}

/** A file's lines as they come (a streamed body, or a journaled one being replayed). */
function linesOf(message: InboundMessage): AsyncIterable<string> {
  return createInterface({
    input: Readable.from(message.stream ?? [message.raw]),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
}

/**
 * An Amazon settlement report, streamed (a year's file runs to hundreds of megabytes): read line by
 * line, its rows summed into transactions as they come; rows that cannot be read are left out with
 * their transactions and listed (`rejectedRows`, each naming its row and column), the others imported.
 */
const amazonSettlementReport = fileEndpoint(
  "amazon-settlement",
  async (deps, message, principal, signal) => {
    checkFile(principal, message, "finance:write", ["text/tab-separated-values", "text/plain"]);
    const requestId = requiredRequestId(message, principal);
    const reader = createAmazonSettlementReader();
    let rows = 0;
    for await (const line of linesOf(message)) {
      reader.push(line);
      if (++rows % progressEveryRows === 0) message.progress?.({ rowsRead: rows });
    }
    const { settlement, rejected } = reader.finish();
    message.progress?.({ rowsRead: rows, rowsRejected: rejected.length });
    // The settlement as read, not the file's bytes: line endings or column order do not count.
    const answer = await onceByKey(
      deps.idempotency,
      requestId,
      fingerprint(SettlementSchema, settlement),
      async () => {
        const answer = await importInParts(deps, requestId, settlement, message, signal);
        return { status: 200, body: JSON.stringify({ ...answer, rejectedRows: rejected }) };
      },
    );
    return {
      status: answer.status,
      body: answer.body,
      headers: answer.replayed ? { "idempotent-replayed": "true" } : {},
    };
  },
  { streamed: true },
);

/** Rows between two progress reports of a file being read. */
const progressEveryRows = 10_000;
/**
 * Imports a settlement read from a file: in one call, or in parts of `importPartLines` lines (each
 * its own request id, the last completing it), reporting the parts as they go. The answer is every
 * call's items in order, as JSON.
 */
async function importInParts(
  deps: RestDependencies,
  requestId: string,
  settlement: Settlement,
  message: InboundMessage,
  signal: AbortSignal,
): Promise<{ items: unknown[]; complete: boolean }> {
  const size = deps.importPartLines;
  const total = Math.max(1, Math.ceil(settlement.lines.length / size));
  const items: unknown[] = [];
  let complete = false;
  for (let part = 1; part <= total; part++) {
    const lines = settlement.lines.slice((part - 1) * size, part * size);
    const request = create(ImportSettlementRequestSchema, {
      requestId: total === 1 ? requestId : `${requestId}:part:${part}`,
      settlement: total === 1 ? settlement : { ...settlement, lines },
      ...(total > 1 && { part, lastPart: part === total }),
    });
    const result = (await deps.invoke(
      FinancePostingService.method.importSettlement,
      request,
      signal,
      deps.importTimeoutMs,
    )) as ImportSettlementResponse;
    const answer = toJson(ImportSettlementResponseSchema, result, { alwaysEmitImplicit: true }) as {
      items: unknown[];
      complete: boolean;
    };
    items.push(...answer.items);
    complete = answer.complete;
    message.progress?.({ partsSent: part, partsTotal: total });
  }
  return { items, complete };
}

/** A settlement file's Idempotency-Key, scoped to its sender: the request id of what it imports. */
function requiredRequestId(message: InboundMessage, principal: Principal): string {
  const requestId = scopedIdempotencyKey(message, principal);
  if (!requestId)
    throw new RequestInvalid([
      {
        field: "Idempotency-Key",
        description: "is required: it becomes the request id, so a retry imports once",
      },
    ]);
  return requestId;
}

/**
 * Stripe's itemised payout reconciliation report (CSV), streamed: one settlement per automatic payout
 * in it, each imported under the file's Idempotency-Key and its payout id; rows that cannot be read are
 * left out and listed (`rejectedRows`), the others imported.
 */
const stripePayoutReport = fileEndpoint(
  "stripe-payout-reconciliation",
  async (deps, message, principal, signal) => {
    checkFile(principal, message, "finance:write", ["text/csv", "text/plain"]);
    const requestId = requiredRequestId(message, principal);
    const reader = createStripePayoutReader();
    const parser = Readable.from(message.stream ?? [message.raw]).pipe(
      parseCsv({ bom: true, relax_column_count: true, skip_empty_lines: true, info: true }),
    );
    try {
      for await (const { record, info } of parser as AsyncIterable<{
        record: string[];
        info: { lines: number };
      }>) {
        reader.push(record, info.lines);
        if (info.lines % progressEveryRows === 0) message.progress?.({ rowsRead: info.lines });
      }
    } catch (error) {
      // A quote never closed swallows the rest of the file: nothing of it can be trusted.
      throw new RequestInvalid([{ field: "(body)", description: `is not CSV: ${(error as Error).message}` }]);
    }
    const { settlements, rejected } = reader.finish();
    const answer = await onceByKey(
      deps.idempotency,
      requestId,
      // The settlements as read, not the file's bytes: line endings or column order do not count.
      createHash("sha256")
        .update(settlements.map((settlement) => fingerprint(SettlementSchema, settlement)).join("\n"))
        .digest("hex"),
      async () => {
        const imported = [];
        for (const settlement of settlements)
          imported.push({
            settlementId: settlement.settlementId,
            ...(await importInParts(
              deps,
              `${requestId}:${settlement.settlementId}`,
              settlement,
              message,
              signal,
            )),
          });
        return { status: 200, body: JSON.stringify({ settlements: imported, rejectedRows: rejected }) };
      },
    );
    return {
      status: answer.status,
      body: answer.body,
      headers: answer.replayed ? { "idempotent-replayed": "true" } : {},
    };
  },
  { streamed: true },
);

/** The transaction set controls a refusal's field violations name ("ST 0001 CTT01" -> "0001"). */
function setsNamedIn(error: unknown): Set<string> {
  const named = new Set<string>();
  if (error instanceof RequestInvalid)
    for (const v of error.violations) {
      const control = /^ST (\S+) /.exec(v.field)?.[1];
      if (control) named.add(control);
    }
  return named;
}

/**
 * Every interchange a partner or warehouse sends is answered with its 997 (`acknowledgment`, or the
 * whole body with `Accept: application/edi-x12`): when the file is taken, each set it handles is
 * accepted and any other rejected as not supported (AK5*R*1); when the file is refused (a set in
 * error; nothing of it is applied), every set is rejected, those in error with code 5. An interchange
 * that cannot be parsed, or from a sender the client may not send for, gets no 997.
 */
const x12Interchange = fileEndpoint("x12", async (deps, message, principal, signal) => {
  checkFile(principal, message, "order:write", ["application/edi-x12", "text/plain"]);
  const clients = deps.clients.current();
  const { senderId, transactions, envelope } = parseInterchange(message.raw.toString("utf8"));
  const warehouse = clients.file.x12Warehouses.find(
    (w) => w.senderId === senderId && w.clientId === principal.client.id,
  );
  const partner = clients.file.x12Partners.find(
    (p) => p.senderId === senderId && p.clientId === principal.client.id,
  );
  const handle = warehouse
    ? () => warehouseInterchange(deps, principal, warehouse, transactions, signal)
    : partner
      ? () => purchaseOrders(deps, principal.client, partner, senderId, transactions, signal)
      : undefined;
  if (!handle)
    throw errorWithInfo(
      Code.PermissionDenied,
      "PARTNER_NOT_ALLOWED",
      `this client may not send for ISA sender ${senderId}`,
      { sender_id: senderId },
    );
  const handled = warehouse ? warehouseSets : ["850"];
  const acknowledged = (
    status: number,
    json: Record<string, unknown>,
    verdict: (set: { type: string; control: string }) => SetVerdict,
    headers: Record<string, string> = {},
  ): Answer => {
    const acknowledgment = functionalAcknowledgment(envelope, verdict, new Date());
    return requestHeader(message, "accept")?.includes("application/edi-x12")
      ? { status, body: acknowledgment, headers: { ...headers, "content-type": "application/edi-x12" } }
      : { status, body: JSON.stringify({ ...json, acknowledgment }), headers };
  };
  try {
    const answer = await handle();
    return acknowledged(200, JSON.parse(answer.body) as Record<string, unknown>, (set) =>
      handled.includes(set.type) ? { accepted: true } : { accepted: false, code: "1" },
    );
  } catch (error) {
    const refused = renderError(error);
    // A refusal of the file (4xx but not the caller's access) is acknowledged; anything else is not
    // the file's fault (a service away: the partner sends it again), and gets no 997.
    if (refused.status < 400 || refused.status >= 500 || [401, 403, 429].includes(refused.status))
      throw error;
    const inError = setsNamedIn(error);
    return acknowledged(
      refused.status,
      JSON.parse(refused.body) as Record<string, unknown>,
      (set) => ({
        accepted: false,
        ...(inError.size === 0 || inError.has(set.control) ? { code: "5" as const } : {}),
      }),
      refused.headers,
    );
  }
});

/** A partner's 850 purchase orders, each submitted once (request id from partner and PO number). */
async function purchaseOrders(
  deps: RestDependencies,
  client: ClientConfig,
  partner: X12Partner,
  senderId: string,
  transactions: ReturnType<typeof parseInterchange>["transactions"],
  signal: AbortSignal,
): Promise<Answer> {
  // Every order is mapped (and refused on any error) before the first is submitted.
  const orders = transactions.filter((t) => t.type === "850").map((t) => purchaseOrderToSubmit(t, partner));
  const submitted = [];
  for (const order of orders) {
    order.request.requestId = `${client.id}:x12:${senderId}:850:${order.poNumber}`;
    const result = (await invokeForClient(
      client,
      OrderService.method.submitOrder,
      order.request,
      deps.invoke,
      signal,
    )) as SubmitOrderResponse;
    submitted.push({
      poNumber: order.poNumber,
      orderId: result.order?.orderId,
      status: OrderStatusSchema.value[result.order?.status ?? 0]?.name,
    });
  }
  const ignored = transactions
    .filter((t) => t.type !== "850")
    .map((t) => ({ control: t.control, type: t.type }));
  return { status: 200, body: JSON.stringify({ orders: submitted, ignored }) };
}

/** The inventory service's largest BatchRecordMovements. */
const movementsPerBatch = 1000;

/** The transaction sets a warehouse sends and the mesh takes. */
const warehouseSets = ["856", "945", "846"];

/**
 * A warehouse's interchange: each order of each 856 ship notice (found by its PO number) and each 945
 * shipping advice (found by our order id, which the 940 gave it) is recorded as a shipment from the
 * warehouse's location, its units spread over the order's open lines of each SKU; each 846 inventory
 * advice is a cycle count of every SKU it names at that location (needs inventory:write). Every set is
 * mapped and checked before anything is recorded; a shipment already recorded (the order has one of
 * that id) is reported as such, and a count's movement id comes from the sender, the advice's
 * reference and the SKU, so a resent file changes nothing.
 */
async function warehouseInterchange(
  deps: RestDependencies,
  principal: Principal,
  warehouse: ClientsFile["x12Warehouses"][number],
  transactions: ReturnType<typeof parseInterchange>["transactions"],
  signal: AbortSignal,
): Promise<Answer> {
  const { client } = principal;
  const shipped = transactions.flatMap((t) => {
    if (t.type === "856")
      return shipNoticeToShipments(t, warehouse).map((s) => ({
        control: t.control,
        set: "856",
        orderId: "",
        ...s,
      }));
    if (t.type === "945")
      return [{ control: t.control, set: "945", ...shippingAdviceToShipment(t, warehouse) }];
    return [];
  });
  const counts = transactions
    .filter((t) => t.type === "846")
    .map((t) => inventoryAdviceToCounts(t, warehouse));
  if (counts.length > 0) requireScope(principal, "inventory:write");
  const channel = Channel[warehouse.orderChannel.replace(/^CHANNEL_/, "") as keyof typeof Channel];
  const call = callerFor(client, deps.invoke, signal);
  // Every order found and every notice's units placed on its lines before anything is recorded.
  const planned = [];
  for (const notice of shipped) {
    const field = `ST ${notice.control} ${notice.set === "856" ? `PO ${notice.poNumber}` : `W0602 ${notice.orderId}`}`;
    const order = orderOf(
      notice.set === "856"
        ? await call(OrderService.method.lookupOrder, {
            channel,
            channelId: warehouse.orderChannelId,
            channelOrderId: notice.poNumber,
          })
        : await call(OrderService.method.getOrder, { orderId: notice.orderId }),
    );
    if (notice.set === "945" && notice.poNumber && notice.poNumber !== order.channelOrderId)
      throw new RequestInvalid([
        {
          field: `ST ${notice.control} W0606`,
          description: `PO ${notice.poNumber} is not order ${order.orderId}'s (${order.channelOrderId || "none"})`,
        },
      ]);
    const done = order.shipments.some((s) => s.shipmentId === notice.shipmentId);
    const lines = done
      ? []
      : shipmentLines(
          notice.items,
          order.lines.map((l) => ({
            lineId: l.lineId,
            sku: l.sku,
            open: l.quantity - l.shippedQuantity - l.cancelledQuantity,
          })),
          field,
        );
    planned.push({ notice, order, done, lines });
  }
  const recorded = [];
  for (const { notice, order, done, lines } of planned) {
    if (!done && lines.length > 0)
      await call(OrderService.method.recordShipment, {
        requestId: `${client.id}:x12:${warehouse.senderId}:${notice.set}:${notice.shipmentId}:${order.orderId}`,
        orderId: order.orderId,
        shipment: {
          shipmentId: notice.shipmentId,
          lines,
          carrier: notice.carrier,
          trackingNumber: notice.trackingNumber,
          fromLocationId: warehouse.locationId,
          ...(notice.shipDate && { shipTime: timestampFromDate(new Date(`${notice.shipDate}T00:00:00Z`)) }),
        },
      });
    recorded.push({
      poNumber: order.channelOrderId,
      orderId: order.orderId,
      shipmentId: notice.shipmentId,
      outcome: done ? "already recorded" : lines.length > 0 ? "recorded" : "nothing shipped",
    });
  }
  const counted = [];
  for (const advice of counts) {
    const movements = advice.items.map((item) => ({
      movementId: `${client.id}:x12:${warehouse.senderId}:846:${advice.reference}:${item.sku}`,
      type: MovementType.CYCLE_COUNT,
      sku: item.sku,
      locationId: warehouse.locationId,
      quantity: item.onHand,
      sourceSystem: `x12:${warehouse.senderId}`,
      occurTime: timestampFromDate(advice.countTime),
      reason: `846 inventory advice ${advice.reference}`,
    }));
    for (let i = 0; i < movements.length; i += movementsPerBatch) {
      const { results } = await call(InventoryService.method.batchRecordMovements, {
        movements: movements.slice(i, i + movementsPerBatch),
      });
      for (const [j, result] of results.entries())
        counted.push({
          reference: advice.reference,
          sku: advice.items[i + j]?.sku,
          outcome: result.errorReason
            ? `refused: ${result.errorMessage}`
            : result.applied
              ? "counted"
              : "already counted",
        });
    }
  }
  const ignored = transactions
    .filter((t) => !warehouseSets.includes(t.type))
    .map((t) => ({ control: t.control, type: t.type }));
  return { status: 200, body: JSON.stringify({ shipments: recorded, counts: counted, ignored }) };
}

/**
 * An Amazon order as the caller pulled it from the Selling Partner API: `{ "order": <getOrder answer>,
 * "orderItems": <getOrderItems answer> }` -> SubmitOrder on the marketplace channel the order's
 * MarketplaceId is configured as, for a client it is configured for. The request id follows from the
 * marketplace and Amazon's order id, so pulling an order again submits nothing twice.
 */
const amazonOrder = fileEndpoint("amazon-orders", async (deps, message, principal, signal) => {
  checkFile(principal, message, "order:write", ["application/json"]);
  const clients = deps.clients.current();
  const pulled = object(parseJson(message.raw, parseLosslessJson));
  const order = object(pulled.order);
  const marketplaceId = String(object(order.payload).MarketplaceId ?? "");
  const marketplace = clients.file.amazonMarketplaces.find(
    (m) => m.marketplaceId === marketplaceId && m.clientId === principal.client.id,
  );
  if (!marketplace)
    throw errorWithInfo(
      Code.PermissionDenied,
      "MARKETPLACE_NOT_ALLOWED",
      `this client may not submit orders of Amazon marketplace ${marketplaceId || "(none)"}`,
      { marketplace_id: marketplaceId },
    );
  const submit = amazonOrderToSubmit(order, object(pulled.orderItems), marketplace);
  submit.requestId = `${principal.client.id}:amazon:${marketplaceId}:order:${submit.channelOrderId}`;
  const result = await invokeForClient(
    principal.client,
    OrderService.method.submitOrder,
    submit,
    deps.invoke,
    signal,
  );
  return {
    status: 200,
    body: JSON.stringify(toJson(SubmitOrderResponseSchema, result as never, { alwaysEmitImplicit: true })),
  };
});

/**
 * A store's till transactions (`src/channel-formats/pos-batch.ts`): each sale an order on the POS
 * channel handed over at the till and paid by its tenders, each return a return at the store and its
 * refunds; keyed by the store and the transaction id, so a resent batch changes nothing. Every
 * transaction goes on its own: the answer lists each one's outcome (a refused one with its field
 * violations or its rule, and whether sending it again may succeed), and the good ones are kept.
 */
const posTransactions = fileEndpoint("pos", async (deps, message, principal, signal) => {
  checkFile(principal, message, "order:write", ["application/json"]);
  const stores = deps.clients.current().file.posStores.filter((s) => s.clientId === principal.client.id);
  const mapped = posBatchToTransactions(object(parseJson(message.raw, parseLosslessJson)), stores);
  if ("violations" in mapped) throw new RequestInvalid(mapped.violations);
  const call = callerFor(principal.client, deps.invoke, signal);
  const outcomes = [];
  for (const entry of mapped.entries) {
    if (!entry.ok) {
      outcomes.push({ transactionId: entry.transactionId, outcome: "refused", violations: entry.violations });
      continue;
    }
    const tx = entry.transaction;
    try {
      const order =
        tx.kind === "sale" ? await recordSale(call, tx) : await recordStoreReturn(call, mapped.store, tx);
      outcomes.push({
        transactionId: tx.transactionId,
        outcome: order.status === OrderStatus.REJECTED ? "refused" : "recorded",
        orderId: order.orderId,
        status: OrderStatusSchema.value[order.status]?.name,
      });
    } catch (error) {
      const refused = toConnectError(error);
      const status = httpStatusOf(refused.code);
      outcomes.push({
        transactionId: tx.transactionId,
        outcome: "refused",
        reason: refused.findDetails(ErrorInfoSchema)[0]?.reason ?? "",
        message: refused.rawMessage,
        retryable: status >= 500 || status === 429,
      });
    }
  }
  const recorded = outcomes.filter((o) => o.outcome === "recorded").length;
  return {
    status: 200,
    body: JSON.stringify({
      storeId: mapped.store.storeId,
      recorded,
      refused: outcomes.length - recorded,
      transactions: outcomes,
    }),
  };
});

type OrderCall = ReturnType<typeof callerFor>;

/** A sale: the order (accepted with its lines collected at the till), then each tender's capture. */
async function recordSale(call: OrderCall, sale: Extract<PosTransaction, { kind: "sale" }>): Promise<Order> {
  let order = orderOf(await call(OrderService.method.submitOrder, sale.order));
  if (order.status === OrderStatus.REJECTED) return order;
  for (const paymentEvent of sale.payments)
    order = orderOf(
      await call(OrderService.method.recordPaymentEvent, { orderId: order.orderId, paymentEvent }),
    );
  return order;
}

/** A return: the sale it returns to (by the store and its transaction id), the goods back, the refunds. */
async function recordStoreReturn(
  call: OrderCall,
  store: PosStore,
  ret: Extract<PosTransaction, { kind: "return" }>,
): Promise<Order> {
  let order = orderOf(
    await call(OrderService.method.lookupOrder, {
      channel: Channel.POS,
      channelId: store.channelId,
      channelOrderId: posOrderId(store.storeId, ret.originalTransactionId),
    }),
  );
  if (!order.returns.some((r) => r.returnId === ret.returnId))
    order = orderOf(
      await call(OrderService.method.recordReturn, {
        requestId: ret.returnId,
        orderId: order.orderId,
        return: { returnId: ret.returnId, locationId: store.locationId, lines: ret.lines },
      }),
    );
  for (const paymentEvent of ret.refunds)
    order = orderOf(
      await call(OrderService.method.recordPaymentEvent, { orderId: order.orderId, paymentEvent }),
    );
  return order;
}

/** The file imports by path. */
export const imports: ReadonlyMap<string, ChannelEndpoint> = new Map([
  ["/imports/amazon/orders", amazonOrder],
  ["/imports/amazon/settlement-report", amazonSettlementReport],
  ["/imports/stripe/payout-reconciliation", stripePayoutReport],
  ["/imports/x12", x12Interchange],
  ["/imports/pos/transactions", posTransactions],
]);
