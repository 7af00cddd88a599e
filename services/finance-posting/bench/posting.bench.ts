// Posts a day of orders from events and reconciles a settlement of the same size.
//
//   npm run bench -w @retail/service-finance-posting -- --orders 10000
//
// The finance service runs in this process (compose, real MongoDB-compatible server and RabbitMQ);
// the events go through RabbitMQ exactly as the order service's relay publishes them: for each order
// a capture and a shipment of one line. Reported: journal entries posted per second from the first
// event published to the last entry stored, and settlement lines reconciled per second.
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { create, type DescMessage, type MessageShape, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import { SettlementLineType, SettlementSchema } from "@retail/contracts/retail/finance/v1/finance_pb";
import {
  PaymentCapturedSchema,
  ShipmentDispatchedSchema,
} from "@retail/contracts/retail/order/v1/order_events_pb";
import { PaymentEventType, PaymentOutcome } from "@retail/contracts/retail/order/v1/order_pb";
import { connectAmqp, createEventPublisher } from "@retail/platform/amqp";
import { createLogger } from "@retail/platform/log";
import { commandsPerUnit, mongoCommandCounts, residentMemoryMiB } from "@retail/platform/processes";
import { routingKeyOf, type StoredEvent } from "@retail/platform/store";
import { deleteRunQueues } from "@retail/platform/testing";
import { MongoClient } from "mongodb";
import { up } from "../../../scripts/infra.ts";
import { importSettlement } from "../src/app/settlements.js";
import { composeFinance, consumerQueues } from "../src/compose.js";
import { loadFinanceConfig } from "../src/config.js";

const { values } = parseArgs({ options: { orders: { type: "string", default: "10000" } } });
const orders = Number(values.orders);
const run = Date.now();
const usd = (minorUnits: bigint) => ({ currencyCode: "USD", minorUnits });
const day = new Date("2026-11-25T12:00:00Z");

function stored<Desc extends DescMessage>(
  schema: Desc,
  message: MessageShape<Desc>,
  orderId: string,
  version: number,
): StoredEvent {
  return {
    eventId: randomUUID(),
    streamId: `order:${orderId}`,
    version,
    type: schema.typeName,
    routingKey: routingKeyOf(schema.typeName),
    data: toBinary(schema, message),
    occurredAt: day,
    correlationId: randomUUID(),
    causationId: "",
    traceparent: "",
  };
}

async function main(): Promise<void> {
  const infra = await up();
  const database = `bench_finance_${run}`;
  const exchange = `bench_finance_${run}`;
  const logger = createLogger({ service: "finance-posting", level: "warn" });
  const finance = await composeFinance(
    loadFinanceConfig({
      MONGODB_URL: infra.mongodbUrl,
      MONGODB_DATABASE: database,
      AMQP_URL: infra.amqpUrl,
      EVENTS_EXCHANGE: exchange,
      QUEUE_PREFIX: `${exchange}.`,
      PORT: "0",
      METRICS_PORT: "0",
      ERP_EXPORT_DIR: `/tmp/${database}`,
    }),
    logger,
  );
  const amqp = connectAmqp(infra.amqpUrl, { name: "bench-order-emitter", logger });
  const publisher = createEventPublisher(amqp, { source: "order", exchange });
  const mongo = await MongoClient.connect(infra.mongodbUrl);
  try {
    const events: StoredEvent[] = [];
    for (let i = 0; i < orders; i++) {
      const orderId = `bench-${run}-${i}`;
      events.push(
        stored(
          PaymentCapturedSchema,
          create(PaymentCapturedSchema, {
            orderId,
            channel: Channel.WEB,
            paymentEvent: {
              paymentEventId: `cap-${i}`,
              type: PaymentEventType.CAPTURE,
              outcome: PaymentOutcome.APPROVED,
              amount: usd(2_177n),
              paymentMethod: "card",
              provider: "stripe",
              providerReference: `ch_${run}_${i}`,
              occurTime: timestampFromDate(day),
            },
          }),
          orderId,
          1,
        ),
        stored(
          ShipmentDispatchedSchema,
          create(ShipmentDispatchedSchema, {
            orderId,
            channel: Channel.WEB,
            shipment: { shipmentId: `s-${i}`, lines: [{ lineId: "1", quantity: 1n }] },
            lines: [
              {
                lineId: "1",
                sku: `SKU-${i % 500}`,
                quantity: 1n,
                netAmount: usd(2_000n),
                discount: usd(0n),
                tax: usd(177n),
                taxCode: "standard",
              },
            ],
          }),
          orderId,
          2,
        ),
      );
    }
    console.log(
      `posting a day of ${orders} orders: ${events.length} events (a capture and a shipment each) through RabbitMQ ...`,
    );
    const commandsBefore = await mongoCommandCounts(finance.metricsPort);
    const started = performance.now();
    for (let i = 0; i < events.length; i += 500) await publisher.publish(events.slice(i, i + 500));
    const entries = mongo.db(database).collection("entries");
    let count = 0;
    while (count < events.length) {
      await new Promise((r) => setTimeout(r, 2_000));
      count = await entries.countDocuments({});
    }
    const postSeconds = (performance.now() - started) / 1000;
    console.log(
      `posted ${count} journal entries in ${postSeconds.toFixed(1)} s: ${(count / postSeconds).toFixed(1)} entries/s`,
    );
    console.log(`service resident memory: ${(await residentMemoryMiB(finance.metricsPort)).toFixed(0)} MiB`);
    console.log(
      commandsPerUnit(
        "per event posted",
        commandsBefore,
        await mongoCommandCounts(finance.metricsPort),
        events.length,
      ),
    );

    const settlement = create(SettlementSchema, {
      settlementId: `bench-${run}`,
      provider: "stripe",
      currencyCode: "USD",
      payoutDate: "2026-11-27",
      payoutAmount: usd(BigInt(orders) * (2_177n - 63n)),
      lines: [
        ...Array.from({ length: orders }, (_, i) => ({
          lineId: String(i + 1),
          type: SettlementLineType.CAPTURE,
          providerReference: `ch_${run}_${i}`,
          amount: usd(i % 1000 === 999 ? 2_100n : 2_177n),
          fee: usd(63n),
        })),
        { lineId: "payout", type: SettlementLineType.PAYOUT, amount: usd(-BigInt(orders) * (2_177n - 63n)) },
      ],
    });
    const reconcileCommands = await mongoCommandCounts(finance.metricsPort);
    const reconcileStarted = performance.now();
    const result = await importSettlement(finance.deps, settlement);
    const reconcileSeconds = (performance.now() - reconcileStarted) / 1000;
    const matched = result.items.filter((i) => i.status === 1).length;
    console.log(
      `reconciled a settlement of ${settlement.lines.length} lines in ${reconcileSeconds.toFixed(1)} s: ${(settlement.lines.length / reconcileSeconds).toFixed(1)} lines/s (${matched} matched, ${result.items.length - matched} exceptions: the planted mismatches and the payout check)`,
    );
    console.log(
      commandsPerUnit(
        "per settlement line",
        reconcileCommands,
        await mongoCommandCounts(finance.metricsPort),
        settlement.lines.length,
      ),
    );
  } finally {
    await publisher.close();
    await amqp.close();
    await finance.stop();
    // The run's queues (with their retry and parking queues) and exchange go with it.
    await deleteRunQueues(infra.amqpUrl, `${exchange}.`, consumerQueues, exchange);
    await mongo.db(database).dropDatabase();
    await mongo.close();
  }
}

await main();
