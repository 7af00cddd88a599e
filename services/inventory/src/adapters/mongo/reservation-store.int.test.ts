import { ReservationStatus } from "@retail/contracts/retail/inventory/v1/inventory_pb";
import { createStreamStore, openPlanStore } from "@retail/platform/store";
import { createTestDatabase } from "@retail/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FulfilmentPlan } from "../../app/ports.js";
import { createReservationStore } from "./reservation-store.js";

let database: Awaited<ReturnType<typeof createTestDatabase>>;
beforeAll(async () => {
  database = await createTestDatabase("reservation_store");
});
afterAll(() => database.drop());

describe("the reservations projection", () => {
  it("makes the open entries of an earlier version the sweep's candidates unless they are held until fulfilled", async () => {
    const projection = database.db.collection<{ _id: string; [field: string]: unknown }>("reservations");
    const long = new Date("2026-01-01T00:00:00Z");
    const entry = (id: string, extra: Record<string, unknown>) => ({
      _id: id,
      orderId: `order-${id}`,
      status: ReservationStatus.ACTIVE,
      open: true,
      expireTime: long,
      createTime: long,
      lines: [],
      version: 2,
      ...extra,
    });
    // As an earlier version wrote them: no `expiring` field, `open` indexed for its sweep.
    await projection.createIndex({ open: 1 }, { name: "sweep" });
    await projection.insertMany([
      entry("left-pending", { status: ReservationStatus.PENDING, version: 1 }),
      entry("lapsed", { heldUntilFulfilled: false }),
      entry("confirmed", { heldUntilFulfilled: true }),
      entry("released", { status: ReservationStatus.RELEASED, open: false }),
    ]);
    const plans = await openPlanStore<FulfilmentPlan>(database.db, "fulfilment-plans");
    const reservations = createReservationStore(database.db, createStreamStore(database.db), plans);
    await reservations.ensureIndexes();
    const now = new Date();
    expect((await reservations.due(now, now)).sort()).toEqual(["lapsed", "left-pending"]);
    expect(await projection.findOne({ _id: "confirmed" })).toMatchObject({ expiring: false });
    expect(await projection.indexExists("sweep")).toBe(false);
    plans.close();
  });
});
