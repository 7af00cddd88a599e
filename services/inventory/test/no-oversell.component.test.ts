import { Code, ConnectError } from "@connectrpc/connect";
import { MovementType } from "@retail/contracts/retail/inventory/v1/inventory_pb";
import { eventually } from "@retail/platform/testing";
import { afterAll, describe, expect, it } from "vitest";
import { createHarness, registerLocations } from "./harness.js";

const harness = createHarness("oversell");
afterAll(() => harness.stopAll());

describe("no oversell", () => {
  it("lets exactly 50 of 200 concurrent one-unit reservations through two instances succeed", {
    timeout: 120_000,
  }, async () => {
    const one = await harness.start();
    const two = await harness.start();
    await registerLocations(one.client, ["DC-1"]);
    await eventually(() => two.running.deps.catalog.hasLocation("DC-1"));
    await one.client.recordMovement({
      movement: {
        movementId: "receipt",
        type: MovementType.GOODS_RECEIPT,
        sku: "HOT-1",
        locationId: "DC-1",
        quantity: 50n,
      },
    });

    const outcomes = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) =>
        (i % 2 === 0 ? one : two).client.reserveStock({
          requestId: `hot-${i}`,
          orderId: `order-${i}`,
          lines: [{ lineId: "1", sku: "HOT-1", quantity: 1n, locationId: "DC-1" }],
        }),
      ),
    );
    const succeeded = outcomes.filter((o) => o.status === "fulfilled");
    const refused = outcomes
      .filter((o): o is PromiseRejectedResult => o.status === "rejected")
      .map((o) => ConnectError.from(o.reason).code);
    expect(succeeded).toHaveLength(50);
    expect(refused.every((code) => code === Code.FailedPrecondition)).toBe(true);

    const { position } = await two.client.getStockPosition({ sku: "HOT-1", locationId: "DC-1" });
    expect(position).toMatchObject({ onHand: 50n, reserved: 50n, available: 0n });
    const [rebuilt] = (await one.running.deps.ledger.rebuildAll()).filter((p) => p.sku === "HOT-1");
    expect(rebuilt).toMatchObject({ onHand: 50, reserved: 50 });
    expect(Object.keys(rebuilt?.holds ?? {})).toHaveLength(50);
    for (const instance of [one, two]) {
      await eventually(async () => {
        const { availability } = await instance.client.getAvailability({ sku: "HOT-1", locationId: "DC-1" });
        return (
          availability[0]?.available === 0n &&
          availability[0].ledgerVersion === BigInt(rebuilt?.version ?? -1)
        );
      });
    }
  });
});
