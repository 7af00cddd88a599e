// Two inventory instances, one cut off from the broker while the other records movements: once the
// broker is back, both answer the same availability, because the cut-off one catches up from the ledger.
// And an operator's rebuild reaches both.
import type { Client } from "@connectrpc/connect";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ReadModelRebuildRequestedSchema } from "@retail/contracts/retail/admin/v1/admin_pb";
import { AdminService } from "@retail/contracts/retail/admin/v1/admin_service_pb";
import { MovementType } from "@retail/contracts/retail/inventory/v1/inventory_pb";
import type { InventoryService } from "@retail/contracts/retail/inventory/v1/inventory_service_pb";
import {
  eventually,
  rejection,
  startBrokerProxy,
  type TcpProxy,
  violatedFields,
} from "@retail/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningInventory } from "../src/compose.js";
import { createHarness, registerLocations } from "./harness.js";

const harness = createHarness("read_model");
let writer: Client<typeof InventoryService>;
let reader: Client<typeof InventoryService>;
let instances: RunningInventory[];
let proxy: TcpProxy;
let counter = 0;

/** How long after the broker is back both instances must agree (reconnect 1 s, then one catch-up). */
const agreementBoundMs = 5_000;

beforeAll(async () => {
  const first = await harness.start();
  writer = first.client;
  const broker = await startBrokerProxy();
  proxy = broker.proxy;
  // The periodic catch-up is out of the way: only the one after the reconnect can repair the reader.
  const second = await harness.start({ AMQP_URL: broker.url, READ_MODEL_CATCH_UP_MS: "600000" });
  reader = second.client;
  instances = [first.running, second.running];
  await registerLocations(writer, ["DC-1"]);
});
afterAll(async () => {
  await harness.stopAll();
  await proxy?.close();
});

async function receive(sku: string, quantity: number) {
  await writer.recordMovement({
    movement: {
      movementId: `rm-${++counter}`,
      type: MovementType.GOODS_RECEIPT,
      sku,
      locationId: "DC-1",
      quantity: BigInt(quantity),
    },
  });
}

async function available(client: Client<typeof InventoryService>, sku: string) {
  const { availability } = await client.getAvailability({ sku, locationId: "DC-1" });
  return Number(availability[0]?.available ?? -1);
}

describe("the availability read model", () => {
  it("catches up from the ledger after a broker cut, so every instance answers the same", async () => {
    await receive("RM-A", 10);
    await eventually(async () => (await available(reader, "RM-A")) === 10);

    await proxy.cut();
    // The reader's queue goes with its connection: what the writer records now never reaches it.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await receive("RM-A", 5);
    await receive("RM-B", 3);
    await writer.recordMovement({
      movement: {
        movementId: `rm-${++counter}`,
        type: MovementType.DAMAGE,
        sku: "RM-A",
        locationId: "DC-1",
        quantity: 2n,
      },
    });
    expect(await available(writer, "RM-A")).toBe(13);
    expect(await available(reader, "RM-A")).toBe(10);

    const restored = Date.now();
    await proxy.restore();
    await eventually(
      async () => (await available(reader, "RM-A")) === 13 && (await available(reader, "RM-B")) === 3,
      agreementBoundMs,
    );
    const agreedAfterMs = Date.now() - restored;
    expect(agreedAfterMs).toBeLessThan(agreementBoundMs);
    expect(await available(writer, "RM-B")).toBe(3);
  });

  it("is rebuilt from the ledger on every instance when an operator asks one of them, once per request", async () => {
    await receive("RM-C", 7);
    await eventually(async () => (await available(reader, "RM-C")) === 7);
    // A figure no event or catch-up corrects: ahead of the ledger's version, wrong on both instances.
    for (const instance of instances)
      instance.deps.readModel.apply({
        sku: "RM-C",
        locationId: "DC-1",
        onHand: 999,
        reserved: 0,
        inTransit: 0,
        damaged: 0,
        safetyStock: 0,
        version: 1_000_000,
      });
    expect([await available(writer, "RM-C"), await available(reader, "RM-C")]).toEqual([999, 999]);

    const admin = createClient(
      AdminService,
      createGrpcTransport({ baseUrl: `http://127.0.0.1:${instances[0]?.port}`, defaultTimeoutMs: 20_000 }),
    );
    const audits = await harness.capture(["admin.#"]);
    expect(
      violatedFields(
        await rejection(admin.rebuildReadModel({ requestId: "r", readModel: "stock", reason: "x" })),
      ),
    ).toEqual(["read_model"]);
    const request = {
      requestId: `rebuild-${Date.now()}`,
      readModel: "availability",
      reason: "figures ahead of the ledger",
    };
    expect(await admin.rebuildReadModel(request)).toMatchObject({ repeatedRequest: false });
    await eventually(
      async () => (await available(writer, "RM-C")) === 7 && (await available(reader, "RM-C")) === 7,
    );
    expect(await admin.rebuildReadModel(request)).toMatchObject({ repeatedRequest: true });
    await eventually(async () => audits.of(ReadModelRebuildRequestedSchema).length === 1);
    expect(audits.of(ReadModelRebuildRequestedSchema)).toEqual([
      expect.objectContaining({
        service: "inventory",
        readModel: "availability",
        requestId: request.requestId,
      }),
    ]);
  });
});
