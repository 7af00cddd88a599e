// The inventory service with its database behind a fault proxy: reservations keep coming while every
// connection to the database is reset and refused for five seconds, and the service serves again
// once the database is back (the proving ground's storage-link-cut fault, on one service).
import type { Client } from "@connectrpc/connect";
import type { InventoryService } from "@retail/contracts/retail/inventory/v1/inventory_service_pb";
import { startTcpProxy, type TcpProxy, testMongoUrl } from "@retail/platform/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHarness, registerLocations, stockHelpers } from "./harness.js";

const harness = createHarness("storage_cut");
let client: Client<typeof InventoryService>;
let proxy: TcpProxy;

beforeAll(async () => {
  const target = new URL(testMongoUrl().replace(/^mongodb:/, "http:"));
  proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 27017) });
  const url = new URL(testMongoUrl());
  url.host = `127.0.0.1:${proxy.port}`;
  ({ client } = await harness.start({ MONGODB_URL: url.toString(), RESERVATION_SWEEP_MS: "1000" }));
  await registerLocations(client, ["DC-1"]);
}, 60_000);
afterAll(async () => {
  await harness.stopAll();
  await proxy?.close();
});

const { receive, stock } = stockHelpers(() => client);

it("serves again within seconds of its database coming back after a five-second cut under load", async () => {
  await receive("CUT-1", "DC-1", 10_000);
  let n = 0;
  const reserveOne = () =>
    client.reserveStock(
      {
        requestId: `cut-${++n}`,
        orderId: `cut-order-${n}`,
        lines: [{ lineId: "1", sku: "CUT-1", quantity: 1n, locationId: "DC-1" }],
      },
      { timeoutMs: 5_000 },
    );
  let loading = true;
  const load = Promise.all(
    Array.from({ length: 4 }, async () => {
      while (loading) await reserveOne().catch(() => undefined);
    }),
  );
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  await proxy.cut();
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  await proxy.restore();
  const restoredAt = Date.now();
  let served: number | undefined;
  while (served === undefined && Date.now() - restoredAt < 30_000) {
    try {
      await reserveOne();
      served = Date.now() - restoredAt;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  loading = false;
  await load;
  expect(served, "no reservation was placed within 30 s of the database coming back").toBeDefined();
  // The driver's monitor can hang on the check it began as the cut came; the platform's watchdog
  // reconnects once that check is overdue (15 s), so service resumes at most about that long after.
  expect(served).toBeLessThan(20_000);
  expect((await stock("CUT-1")).onHand).toBe(10_000);
}, 90_000);
