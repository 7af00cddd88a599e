// A transfer interrupted between its two ledger appends, on the real stream store: the sweep completes
// it, once.
import { MovementType } from "@retail/contracts/retail/inventory/v1/inventory_pb";
import { createLogger } from "@retail/platform/log";
import { createKeyedLock, createStreamStore } from "@retail/platform/store";
import { createTestDatabase } from "@retail/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AvailabilityReadModel } from "../adapters/memory/availability-read-model.js";
import { createCatalog } from "../adapters/memory/catalog.js";
import { createPendingTransfers } from "../adapters/mongo/pending-transfers.js";
import { createStockLedger } from "../adapters/mongo/stock-ledger.js";
import type { Movement } from "../domain/stock-position.js";
import type { MovementDeps } from "./apply-movement.js";
import { completePendingTransfers, recordMovement } from "./record-movement.js";

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let deps: MovementDeps;

beforeAll(async () => {
  database = await createTestDatabase("inventory_transfers");
  const store = createStreamStore(database.db);
  await store.ensureIndexes();
  deps = {
    ledger: createStockLedger(database.db, store),
    catalog: createCatalog(),
    readModel: new AvailabilityReadModel(),
    transfers: createPendingTransfers(database.db),
    clock: { now: () => new Date() },
    caller: () => "test",
    logger: createLogger({ service: "inventory", level: "silent" }),
    lock: createKeyedLock(),
  };
});
afterAll(() => database?.drop());

const movement = (movementId: string, type: MovementType, quantity: number, counterpart = ""): Movement => ({
  movementId,
  type,
  sku: "TR-1",
  locationId: "DC-1",
  quantity,
  counterpartLocationId: counterpart,
  reservationId: "",
  lineId: "",
  reason: "",
});

describe("transfers", () => {
  it("completes a transfer interrupted between its two appends, by itself and once", async () => {
    await recordMovement(deps, movement("tr-rcv", MovementType.GOODS_RECEIPT, 10));
    // The process dies after the sending side's append: the receiving side's never happens.
    const crashing: MovementDeps = {
      ...deps,
      ledger: {
        ...deps.ledger,
        append: (input) =>
          input.before.locationId === "ST-9"
            ? Promise.reject(new Error("process killed"))
            : deps.ledger.append(input),
      },
    };
    await expect(
      recordMovement(crashing, movement("tr-1", MovementType.TRANSFER_OUT, 4, "ST-9")),
    ).rejects.toThrow("process killed");
    expect((await deps.ledger.load("TR-1", "DC-1")).onHand).toBe(6);
    expect((await deps.ledger.load("TR-1", "ST-9")).inTransit).toBe(0);

    // Not yet due: the sweep leaves a transfer in flight alone.
    expect(await completePendingTransfers(deps, { graceMs: 60_000 })).toBe(0);
    expect(await completePendingTransfers(deps, { graceMs: 0 })).toBe(1);
    expect((await deps.ledger.load("TR-1", "ST-9")).inTransit).toBe(4);
    expect((await deps.ledger.load("TR-1", "DC-1")).onHand).toBe(6);
    // Done: nothing is left for the next sweep, and the ledger has one entry on each side.
    expect(await completePendingTransfers(deps, { graceMs: 0 })).toBe(0);
    expect((await deps.ledger.movements("TR-1", "ST-9", 0, 10)).map((m) => m.movement.movementId)).toEqual([
      "tr-1",
    ]);
  });

  it("leaves nothing pending after a transfer that completed", async () => {
    await recordMovement(deps, movement("tr-rcv-2", MovementType.GOODS_RECEIPT, 2));
    await recordMovement(deps, movement("tr-2", MovementType.TRANSFER_OUT, 1, "ST-8"));
    expect(await deps.transfers.olderThan(new Date(Date.now() + 1_000))).toEqual([]);
  });
});
