// The operations backend on real MongoDB-compatible storage and RabbitMQ: domain events published as
// the services publish them are kept for tracing and turned into exception lists, opened and cleared
// by later events in whatever order they come.
import { create } from "@bufbuild/protobuf";
import { durationFromMs, timestampFromDate, timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { AdminService } from "@retail/contracts/retail/admin/v1/admin_service_pb";
import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import { CustomerErasedSchema } from "@retail/contracts/retail/customer/v1/customer_events_pb";
import {
  JournalEntryPostedSchema,
  ReconciliationExceptionRaisedSchema,
  ReconciliationExceptionResolvedSchema,
} from "@retail/contracts/retail/finance/v1/finance_events_pb";
import { ReconciliationStatus } from "@retail/contracts/retail/finance/v1/finance_pb";
import {
  ChannelStockReportedSchema,
  ReservationExpiredSchema,
  StockMovementRecordedSchema,
  StockReservedSchema,
} from "@retail/contracts/retail/inventory/v1/inventory_events_pb";
import { MovementType } from "@retail/contracts/retail/inventory/v1/inventory_pb";
import { ExceptionKind } from "@retail/contracts/retail/operations/v1/operations_pb";
import {
  OrderAcceptedSchema,
  OrderReceivedSchema,
  PaymentCapturedSchema,
} from "@retail/contracts/retail/order/v1/order_events_pb";
import { OrderStatus, PaymentEventType } from "@retail/contracts/retail/order/v1/order_pb";
import { rejection, uniqueName, until, violatedFields } from "@retail/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOperations } from "./harness.js";

let ops: Awaited<ReturnType<typeof startOperations>>;
beforeAll(async () => {
  ops = await startOperations("ops", { EXCEPTION_GAUGES_MS: "200", STATUS_SAMPLE_MS: "200" });
}, 60_000);
afterAll(() => ops?.stop());

const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000);
const usd = (minorUnits: bigint) => ({ currencyCode: "USD", minorUnits });
const captured = (orderId: string, channel: Channel, at: Date) =>
  create(PaymentCapturedSchema, {
    orderId,
    channel,
    paymentEvent: {
      paymentEventId: uniqueName("pay"),
      type: PaymentEventType.CAPTURE,
      amount: usd(2_500n),
      provider: "stripe",
      occurTime: timestampFromDate(at),
    },
  });
const posted = (sourceEventId: string, orderId: string) =>
  create(JournalEntryPostedSchema, {
    entry: { entryId: uniqueName("je"), source: { eventId: sourceEventId, orderId } },
  });
const open = async (kind: ExceptionKind, extra: { olderThanMs?: number; sourceSystem?: string } = {}) =>
  (
    await ops.client.listOperationalExceptions({
      kind,
      ...(extra.olderThanMs && { olderThan: durationFromMs(extra.olderThanMs) }),
      sourceSystem: extra.sourceSystem ?? "",
      pageSize: 200,
    })
  ).exceptions;

describe("the platform's admin RPCs", () => {
  it("are served beside the service's own, over its consumer queue", async () => {
    const admin = createClient(
      AdminService,
      createGrpcTransport({ baseUrl: `http://127.0.0.1:${ops.running.port}`, defaultTimeoutMs: 20_000 }),
    );
    const { parked } = await admin.listParkedMessages({});
    expect(Object.keys(parked)).toEqual([expect.stringMatching(/\.operations\.domain-events$/)]);
    expect(Object.values(parked)).toEqual([0]);
  });

  it("lists and replays operations' own parked messages through its operator API, like any service's", async () => {
    const orderId = uniqueName("o");
    const eventId = await ops.emitter.emit(
      `order:${orderId}`,
      OrderAcceptedSchema,
      create(OrderAcceptedSchema),
      1,
      {
        body: new Uint8Array([0xff, 0xff, 0xff]),
      },
    );
    const parked = await until(async () => {
      const answer = await ops.client.listParkedMessages({ service: "operations" });
      const ours = answer.messages.filter((m) => m.message?.eventId === eventId);
      expect(ours).toHaveLength(1);
      return { ours, services: answer.services };
    });
    expect(parked.services).toEqual([expect.objectContaining({ service: "operations", error: "" })]);
    const queue = parked.ours[0]?.message?.queue ?? "";
    expect(queue).toMatch(/\.operations\.domain-events$/);
    const replayed = await ops.client.replayParkedMessages({
      requestId: uniqueName("r"),
      service: "operations",
      queue,
      eventIds: [eventId],
      reason: "checking the reader",
    });
    expect(replayed).toMatchObject({ replayed: 1, repeatedRequest: false });
    // Still poison: the consumer's second look parks it again (a failure later than the first).
    const firstFailed = timestampMs(parked.ours[0]?.message?.failedTime ?? timestampFromMs(0));
    await until(async () => {
      const again = (await ops.client.listParkedMessages({ service: "operations" })).messages.filter(
        (m) => m.message?.eventId === eventId,
      );
      expect(again).toHaveLength(1);
      expect(timestampMs(again[0]?.message?.failedTime ?? timestampFromMs(0))).toBeGreaterThan(firstFailed);
    });
  });
});

describe("traces", () => {
  it("keeps every event by correlation id, order and customer, in the order they happened, personal fields emptied", async () => {
    const [orderId, customerId, correlationId] = [uniqueName("o"), uniqueName("c"), uniqueName("corr")];
    const accepted = create(OrderAcceptedSchema, {
      order: {
        orderId,
        customerId,
        channel: Channel.WEB,
        shipTo: { recipient: "Jane Doe", lines: ["1 Main St"], locality: "Springfield", regionCode: "US" },
      },
    });
    const first = await ops.emitter.emit(`order:${orderId}`, OrderAcceptedSchema, accepted, undefined, {
      correlationId,
      occurredAt: minutesAgo(3),
    });
    await ops.emitter.emit(
      `order:${orderId}`,
      PaymentCapturedSchema,
      captured(orderId, Channel.WEB, minutesAgo(2)),
      undefined,
      {
        correlationId,
        occurredAt: minutesAgo(2),
      },
    );
    await ops.emitter.emit(
      `reservation:${orderId}`,
      StockReservedSchema,
      create(StockReservedSchema, { reservation: { reservationId: `r-${orderId}`, orderId } }),
      undefined,
      { correlationId, occurredAt: minutesAgo(1) },
    );
    // The first event delivered again: kept once.
    await ops.emitter.emit(`order:${orderId}`, OrderAcceptedSchema, accepted, 1, {
      correlationId,
      occurredAt: minutesAgo(3),
      eventId: first,
    });
    const trace = await until(async () => {
      const { events } = await ops.client.getTrace({ correlationId });
      expect(events).toHaveLength(3);
      return events;
    });
    expect(trace.map((e) => [e.routingKey, e.aggregateId, Number(e.sequence)])).toEqual([
      ["order.order_accepted", `order:${orderId}`, 1],
      ["order.payment_captured", `order:${orderId}`, 2],
      ["inventory.stock_reserved", `reservation:${orderId}`, 1],
    ]);
    expect((await ops.client.getTrace({ orderId })).events.map((e) => e.eventId)).toEqual(
      trace.map((e) => e.eventId),
    );
    expect((await ops.client.getTrace({ customerId })).events.map((e) => e.eventId)).toEqual([first]);
    // What an operator reads: the order's ids and shape, not who it goes to.
    const data = trace[0]?.dataJson ?? "";
    expect(data).toContain(orderId);
    expect(data).not.toContain("1 Main St");
    expect(data).not.toContain("Jane Doe");
    expect(violatedFields(await rejection(ops.client.getTrace({})))).toEqual(["correlation_id"]);
    expect(violatedFields(await rejection(ops.client.getTrace({ orderId, customerId })))).toEqual([
      "correlation_id",
    ]);
  });
});

describe("the mesh's status", () => {
  it("answers each service it reaches with its queues and outbox, the exception counts, and samples of events and queues", async () => {
    const orderId = uniqueName("o");
    await ops.emitter.emit(
      `order:${orderId}`,
      OrderReceivedSchema,
      create(OrderReceivedSchema, { order: { orderId } }),
    );
    const status = await until(async () => {
      const answer = await ops.client.getMeshStatus({});
      expect(answer.samples.some((s) => s.events > 0)).toBe(true);
      return answer;
    });
    // This operations reaches only itself: its consumer queue, consumed, nothing waiting or parked.
    expect(status.services).toEqual([expect.objectContaining({ service: "operations", error: "" })]);
    const own = status.services[0]?.status;
    expect(own).toMatchObject({ service: "operations", instance: expect.stringMatching(/:\d+$/) });
    expect(own?.queues).toEqual([
      expect.objectContaining({ queue: expect.stringMatching(/\.operations\.domain-events$/), consumers: 1 }),
    ]);
    expect(own?.outboxBacklog).toBeGreaterThanOrEqual(0n);
    expect(status.exceptions.map((e) => e.kind)).toContain(ExceptionKind.CHANNEL_ORDER_DRIFT);
    const busy = status.samples.find((s) => s.events > 0);
    // The longest wait is from the event's own time (this file also sends events dated minutes back).
    expect(busy?.maxLagSeconds).toBeGreaterThanOrEqual(0);
    // Oldest first, at most an hour of them.
    const times = status.samples.map((s) => Number(s.time?.seconds ?? 0n));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(status.samples.length).toBeLessThanOrEqual(3_600_000 / 200);
  });
});

describe("channels' views of orders", () => {
  it("refuses a view without its channel, order, status or time, naming each field, and keeps one it cannot compare yet", async () => {
    expect(violatedFields(await rejection(ops.client.recordChannelOrderView({})))).toEqual(["view"]);
    expect(
      violatedFields(
        await rejection(
          ops.client.recordChannelOrderView({
            view: {
              status: 99 as OrderStatus,
              observeTime: timestampFromDate(new Date(Date.now() + 3_600_000)),
            },
          }),
        ),
      ),
    ).toEqual(["view.channel_id", "view.order_id", "view.status", "view.observe_time"]);
    // This operations has no order service to ask: the view is kept, uncompared, and shown as such.
    const orderId = uniqueName("o");
    const observeTime = timestampFromDate(minutesAgo(1));
    const { view } = await ops.client.recordChannelOrderView({
      view: { channelId: "web", orderId, status: OrderStatus.ACCEPTED, observeTime },
    });
    expect(view).toMatchObject({ channelId: "web", orderId, status: OrderStatus.ACCEPTED, meshStatus: 0 });
    expect(view?.compareTime).toBeUndefined();
    expect((await ops.client.listChannelOrderViews({ orderId })).views.map((v) => v.orderId)).toEqual([
      orderId,
    ]);
  });
});

describe("erasure", () => {
  it("empties the bodies of an erased customer's events and of their orders', also of one coming after", async () => {
    const [orderId, customerId] = [uniqueName("o"), uniqueName("c")];
    const marker = uniqueName("zqmark").toLowerCase();
    // The order as received names the shopper's account before it is resolved to a customer.
    await ops.emitter.emit(
      `order:${orderId}`,
      OrderReceivedSchema,
      create(OrderReceivedSchema, {
        order: { orderId, channelOrderId: `co-${marker}`, channel: Channel.WEB },
      }),
    );
    await ops.emitter.emit(
      `order:${orderId}`,
      OrderAcceptedSchema,
      create(OrderAcceptedSchema, { order: { orderId, customerId, channelOrderId: `co-${marker}` } }),
    );
    await until(async () => expect((await ops.client.getTrace({ orderId })).events).toHaveLength(2));
    await ops.emitter.emit(
      `customer:${customerId}`,
      CustomerErasedSchema,
      create(CustomerErasedSchema, { customerId, reason: "GDPR art. 17 request" }),
    );
    await until(async () => {
      const { events } = await ops.client.getTrace({ orderId });
      expect(events.map((e) => e.dataJson)).toEqual(["", ""]);
    });
    // A late event of the erased customer keeps its envelope only.
    await ops.emitter.emit(
      `order:${orderId}`,
      PaymentCapturedSchema,
      create(PaymentCapturedSchema, {
        orderId,
        channel: Channel.WEB,
        paymentEvent: { paymentEventId: `pay-${marker}` },
      }),
    );
    const after = await until(async () => {
      const { events } = await ops.client.getTrace({ customerId });
      expect(events.map((e) => e.routingKey)).toEqual(["order.order_accepted", "customer.customer_erased"]);
      return events;
    });
    expect(after.map((e) => e.dataJson)).toEqual(["", ""]);
    const trace = await until(async () => {
      const { events } = await ops.client.getTrace({ orderId });
      expect(events).toHaveLength(3);
      return events;
    });
    expect(trace.map((e) => e.dataJson)).toEqual(["", "", ""]);
  });
});

describe("exception lists", () => {
  it("lists a capture finance has not posted, by age, and clears it when the posting comes, in either order", async () => {
    const [late, recent, pos, early] = [uniqueName("o"), uniqueName("o"), uniqueName("o"), uniqueName("o")];
    const lateEvent = await ops.emitter.emit(
      `order:${late}`,
      PaymentCapturedSchema,
      captured(late, Channel.WEB, minutesAgo(20)),
    );
    await ops.emitter.emit(
      `order:${recent}`,
      PaymentCapturedSchema,
      captured(recent, Channel.WEB, minutesAgo(1)),
    );
    // POS captures post in the store's daily summary: never listed.
    await ops.emitter.emit(`order:${pos}`, PaymentCapturedSchema, captured(pos, Channel.POS, minutesAgo(30)));
    // A posting that comes before its capture: the capture never shows as missing.
    const earlyId = uniqueName("evt");
    await ops.emitter.emit(
      `entry:${earlyId}`,
      JournalEntryPostedSchema,
      posted(earlyId, early),
      undefined,
      {},
    );
    await until(async () => expect((await ops.client.getTrace({ orderId: early })).events).toHaveLength(1));
    await ops.emitter.emit(
      `order:${early}`,
      PaymentCapturedSchema,
      captured(early, Channel.WEB, minutesAgo(25)),
      undefined,
      {
        eventId: earlyId,
      },
    );
    await until(async () => expect((await ops.client.getTrace({ orderId: early })).events).toHaveLength(2));
    const overdue = await until(async () => {
      const items = await open(ExceptionKind.NOT_IN_LEDGER, { olderThanMs: 10 * 60_000 });
      const ours = items.filter((i) => [late, recent, pos, early].includes(i.subject));
      expect(ours.map((i) => i.subject)).toEqual([late]);
      return ours[0];
    });
    expect(overdue).toMatchObject({
      exceptionId: `not-in-ledger:${lateEvent}`,
      orderId: late,
      sourceSystem: "stripe",
      eventId: lateEvent,
    });
    expect(overdue?.reason).toMatch(/^capture pay_\S+ of 2500 USD minor units not posted by finance$/);
    // Without an age every open one is there, the recent capture too.
    expect((await open(ExceptionKind.NOT_IN_LEDGER)).map((i) => i.subject)).toEqual(
      expect.arrayContaining([late, recent]),
    );
    await ops.emitter.emit(`entry:${lateEvent}`, JournalEntryPostedSchema, posted(lateEvent, late));
    await until(async () =>
      expect((await open(ExceptionKind.NOT_IN_LEDGER)).map((i) => i.subject)).not.toContain(late),
    );
    const resolved = (
      await ops.client.listOperationalExceptions({
        kind: ExceptionKind.NOT_IN_LEDGER,
        includeResolved: true,
        pageSize: 200,
      })
    ).exceptions.find((i) => i.subject === late);
    expect(resolved?.resolveTime).toBeDefined();
  });

  it("lists late stock updates by source, channel drift in its reports' order, and lapsed reservations", async () => {
    const sku = uniqueName("SKU");
    const movement = (id: string, happenedMinutesAgo: number, sourceSystem: string) =>
      create(StockMovementRecordedSchema, {
        movement: {
          movementId: id,
          type: MovementType.GOODS_RECEIPT,
          sku,
          locationId: "DC-1",
          quantity: 5n,
          sourceSystem,
          occurTime: timestampFromDate(minutesAgo(happenedMinutesAgo)),
          recordTime: timestampFromDate(new Date()),
        },
      });
    await ops.emitter.emit(
      `stock:${sku}:DC-1`,
      StockMovementRecordedSchema,
      movement(uniqueName("m"), 12, "wms-east"),
    );
    await ops.emitter.emit(
      `stock:${sku}:DC-1`,
      StockMovementRecordedSchema,
      movement(uniqueName("m"), 1, "wms-east"),
    );
    await ops.emitter.emit(
      `stock:${sku}:DC-1`,
      StockMovementRecordedSchema,
      movement(uniqueName("m"), 9, "store-7"),
    );
    const late = await until(async () => {
      const items = (await open(ExceptionKind.LATE_STOCK_UPDATE, { sourceSystem: "wms-east" })).filter(
        (i) => i.subject === `${sku}@DC-1`,
      );
      expect(items).toHaveLength(1);
      return items[0];
    });
    expect(late?.reason).toMatch(/recorded 12 min after it happened at wms-east$/);
    // The alerting rules' gauges: open items and the oldest one's age, per kind.
    await until(async () => {
      const metrics = await (await fetch(`http://127.0.0.1:${ops.running.metricsPort}/metrics`)).text();
      const open = /^operations_open_exceptions\{kind="LATE_STOCK_UPDATE"[^}]*\} (\d+)/m.exec(metrics)?.[1];
      const age = /^operations_oldest_open_exception_seconds\{kind="LATE_STOCK_UPDATE"[^}]*\} ([\d.]+)/m.exec(
        metrics,
      )?.[1];
      expect(Number(open)).toBeGreaterThanOrEqual(2);
      expect(Number(age)).toBeGreaterThan(9 * 60);
    });

    const view = `web/DC-1/${sku}`;
    const report = (observedMinutesAgo: number, channelAvailable: bigint, drifted: boolean) =>
      create(ChannelStockReportedSchema, {
        view: {
          channelId: "web",
          locationId: "DC-1",
          sku,
          channelAvailable,
          meshAvailable: 7n,
          drifted,
          observeTime: timestampFromDate(minutesAgo(observedMinutesAgo)),
          sourceSystem: "shopify-web",
        },
      });
    const stream = `channel-stock:${view}`;
    const drift = async () =>
      (
        await ops.client.listOperationalExceptions({
          kind: ExceptionKind.CHANNEL_STOCK_DRIFT,
          includeResolved: true,
          pageSize: 200,
        })
      ).exceptions.find((i) => i.subject === view);
    await ops.emitter.emit(stream, ChannelStockReportedSchema, report(30, 5n, true));
    const opened = await until(async () => {
      const item = await drift();
      expect(item?.reason).toBe("channel web shows 5 available at DC-1, the mesh 7");
      return item;
    });
    // Still drifted later: still the same item, since the first drifted report.
    await ops.emitter.emit(stream, ChannelStockReportedSchema, report(20, 4n, true));
    await until(async () =>
      expect((await drift())?.reason).toBe("channel web shows 4 available at DC-1, the mesh 7"),
    );
    expect((await drift())?.since).toEqual(opened?.since);
    await ops.emitter.emit(stream, ChannelStockReportedSchema, report(10, 7n, false));
    await until(async () => expect((await drift())?.resolveTime).toBeDefined());
    // A drifted report observed before the clearing one, coming late, changes nothing.
    await ops.emitter.emit(stream, ChannelStockReportedSchema, report(15, 2n, true), 2);
    await ops.emitter.emit(
      `reservation:r-${sku}`,
      ReservationExpiredSchema,
      create(ReservationExpiredSchema, { reservationId: `r-${sku}`, orderId: `o-${sku}` }),
    );
    const lapsed = await until(async () => {
      const items = (await open(ExceptionKind.RESERVATION_LAPSED)).filter((i) => i.subject === `r-${sku}`);
      expect(items).toHaveLength(1);
      return items[0];
    });
    expect(lapsed?.orderId).toBe(`o-${sku}`);
    const afterLate = await drift();
    expect([afterLate?.resolveTime !== undefined, afterLate?.reason]).toEqual([
      true,
      "channel web shows 4 available at DC-1, the mesh 7",
    ]);
    expect((await open(ExceptionKind.CHANNEL_STOCK_DRIFT)).map((i) => i.subject)).not.toContain(view);
  });

  it("lists finance's reconciliation exceptions (a refund no settlement covered) until finance resolves them", async () => {
    const exceptionId = uniqueName("ex-unsettled-je");
    const reference = uniqueName("ch");
    await ops.emitter.emit(
      `exception:${exceptionId}`,
      ReconciliationExceptionRaisedSchema,
      create(ReconciliationExceptionRaisedSchema, {
        exceptionId,
        item: {
          providerReference: reference,
          status: ReconciliationStatus.MISSING_IN_SETTLEMENT,
          reason: "refund of delivered of order o-9 posted 2026-11-01, in no settlement after 14 days",
        },
      }),
    );
    const item = await until(async () => {
      const items = (await open(ExceptionKind.SETTLEMENT)).filter((i) => i.subject === reference);
      expect(items).toHaveLength(1);
      return items[0];
    });
    expect(item?.reason).toBe(
      "missing in settlement: refund of delivered of order o-9 posted 2026-11-01, in no settlement after 14 days",
    );
    await ops.emitter.emit(
      `exception:${exceptionId}`,
      ReconciliationExceptionResolvedSchema,
      create(ReconciliationExceptionResolvedSchema, {
        exceptionId,
        resolution: "settled late by st-9",
        resolvedBy: "settlement:st-9",
      }),
    );
    await until(async () =>
      expect((await open(ExceptionKind.SETTLEMENT)).map((i) => i.subject)).not.toContain(reference),
    );
  });
});
