// What the front door and the service layer add to a read, measured in the same run on the same data:
// an availability figure and an order read through the gateway (REST, API key, transcoding), from the
// service directly (the platform's client, as the services call each other), and from the database the
// service owns (a find by id: the floor under both). One read in flight at a time, so each figure is a
// latency, not a queue; the three ways take turns, so a noisy moment costs each of them alike.
import { InventoryService } from "@retail/contracts/retail/inventory/v1/inventory_service_pb";
import { OrderService } from "@retail/contracts/retail/order/v1/order_service_pb";
import { createServiceClient, parseServiceKeys } from "@retail/platform/rpc";
import * as hdr from "hdr-histogram-js";
import { MongoClient } from "mongodb";
import { stockStreamId } from "../../../services/inventory/src/adapters/mongo/stock-ledger.ts";
import type { Outcome } from "./drive.js";
import type { Rest } from "./rest.js";

/** Latency of one way to read, in milliseconds (microsecond resolution). */
export interface ReadLatency {
  readonly p50: number;
  readonly p99: number;
}

export interface ReadComparison {
  readonly samples: number;
  readonly availability: { gateway: ReadLatency; directRpc: ReadLatency; database: ReadLatency };
  readonly order: { gateway: ReadLatency; directRpc: ReadLatency; database: ReadLatency };
}

export interface ReadTargets {
  readonly rest: Rest;
  readonly inventoryUrl: string;
  readonly orderUrl: string;
  readonly mongodbUrl: string;
  /** The mesh's service keys: direct calls are signed like a service's. */
  readonly serviceKeys: string;
  /** The databases the inventory and order services own in this run. */
  readonly inventoryDatabase: string;
  readonly orderDatabase: string;
}

/** The i-th of a list, round and round. */
function turn<T>(list: readonly T[], i: number): T {
  const item = list[i % list.length];
  if (item === undefined) throw new Error("nothing to read");
  return item;
}

const quantiles = (h: hdr.Histogram): ReadLatency => ({
  p50: h.getValueAtPercentile(50) / 1_000,
  p99: h.getValueAtPercentile(99) / 1_000,
});

/** Reads `samples` times each way (after a warm-up of each), taking turns. */
export async function compareReads(
  targets: ReadTargets,
  outcomes: readonly Outcome[],
  samples = 300,
): Promise<ReadComparison> {
  const accepted = outcomes.filter((o) => o.orderId && o.lines.size > 0);
  if (accepted.length === 0) throw new Error("no accepted order to read");
  // Every SKU-location an accepted line was sourced from (a line never sourced has no location).
  const places = accepted.flatMap((o) =>
    o.journey.lines.flatMap((l) => {
      const locationId = o.lines.get(l.lineId)?.location;
      return locationId ? [{ sku: l.sku, locationId }] : [];
    }),
  );
  const place = (i: number) => turn(places, i);
  const orderId = (i: number) => turn(accepted, i).orderId;
  const direct = {
    caller: "proving",
    peerAuth: { keys: parseServiceKeys(targets.serviceKeys), service: "proving" },
  };
  const inventory = createServiceClient(InventoryService, { baseUrl: targets.inventoryUrl, ...direct });
  const orders = createServiceClient(OrderService, { baseUrl: targets.orderUrl, ...direct });
  const client = await MongoClient.connect(targets.mongodbUrl, { maxPoolSize: 1 });
  const positions = client.db(targets.inventoryDatabase).collection<{ _id: string }>("positions");
  const orderDocs = client.db(targets.orderDatabase).collection<{ _id: string }>("orders");
  const ways = {
    availability: {
      gateway: async (i: number) => {
        const { sku, locationId } = place(i);
        await targets.rest.ok("GET", `/v1/locations/${locationId}/skus/${sku}/availability`);
      },
      directRpc: async (i: number) => {
        const { sku, locationId } = place(i);
        await inventory.getAvailability({ sku, locationId });
      },
      database: async (i: number) => {
        const { sku, locationId } = place(i);
        // The position's snapshot, by the stream id the inventory service keys it with.
        if (!(await positions.findOne({ _id: stockStreamId(sku, locationId) })))
          throw new Error("no position");
      },
    },
    order: {
      gateway: async (i: number) => {
        await targets.rest.ok("GET", `/v1/orders/${orderId(i)}`);
      },
      directRpc: async (i: number) => {
        await orders.getOrder({ orderId: orderId(i) });
      },
      database: async (i: number) => {
        if (!(await orderDocs.findOne({ _id: orderId(i) }))) throw new Error("no order document");
      },
    },
  };
  try {
    const measured = async (
      group: Record<"gateway" | "directRpc" | "database", (i: number) => Promise<void>>,
    ) => {
      const names = ["gateway", "directRpc", "database"] as const;
      const histograms = Object.fromEntries(
        names.map((name) => [
          name,
          hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000 }),
        ]),
      ) as Record<(typeof names)[number], hdr.Histogram>;
      for (const name of names) for (let i = 0; i < 20; i++) await group[name](i); // warm: connections, caches
      for (let i = 0; i < samples; i++)
        for (const name of names) {
          const started = performance.now();
          await group[name](i);
          histograms[name].recordValue(Math.round((performance.now() - started) * 1_000));
        }
      return {
        gateway: quantiles(histograms.gateway),
        directRpc: quantiles(histograms.directRpc),
        database: quantiles(histograms.database),
      };
    };
    return {
      samples,
      availability: await measured(ways.availability),
      order: await measured(ways.order),
    };
  } finally {
    await client.close();
  }
}
