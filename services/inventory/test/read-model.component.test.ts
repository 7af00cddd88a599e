// Two inventory instances, one cut off from the broker while the other records movements: once the
// broker is back, both answer the same availability, because the cut-off one catches up from the ledger.
import type { Client } from "@connectrpc/connect";
import { MovementType } from "@retail/contracts/retail/inventory/v1/inventory_pb";
import type { InventoryService } from "@retail/contracts/retail/inventory/v1/inventory_service_pb";
import { eventually, startBrokerProxy, type TcpProxy } from "@retail/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, registerLocations } from "./harness.js";

const harness = createHarness("read_model");
let writer: Client<typeof InventoryService>;
let reader: Client<typeof InventoryService>;
let proxy: TcpProxy;
let counter = 0;

/** How long after the broker is back both instances must agree (reconnect 1 s, then one catch-up). */
const agreementBoundMs = 5_000;

beforeAll(async () => {
  ({ client: writer } = await harness.start());
  const broker = await startBrokerProxy();
  proxy = broker.proxy;
  // The periodic catch-up is out of the way: only the one after the reconnect can repair the reader.
  ({ client: reader } = await harness.start({ AMQP_URL: broker.url, READ_MODEL_CATCH_UP_MS: "600000" }));
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
});
