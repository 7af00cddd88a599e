import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../testing/index.js";
import { openPlanStore } from "./plans.js";

let database: Awaited<ReturnType<typeof createTestDatabase>>;
beforeAll(async () => {
  database = await createTestDatabase("plans");
});
afterAll(() => database.drop());

describe("plan store", () => {
  it("keeps the first plan made for a key: attempts at the same moment and later ones all get it", async () => {
    const plans = await openPlanStore<{ to: string }>(database.db, "plans");
    let made = 0;
    const make = (to: string, waitMs: number) => async () => {
      made++;
      await new Promise((resolve) => setTimeout(resolve, waitMs));
      return { to };
    };
    // Both read no plan and make one; the first kept wins, and the second attempt answers with it.
    // (Making takes long enough that both reads are done before either keeps its plan, even on a
    // loaded machine: with 10 ms the second read sometimes came after the first insert.)
    const [first, second] = await Promise.all([
      plans.once("cancel:r1", make("ST-2", 300)),
      plans.once("cancel:r1", make("ST-3", 450)),
    ]);
    expect(first).toEqual({ to: "ST-2" });
    expect(second).toEqual({ to: "ST-2" });
    // A later attempt reads the kept plan and makes none.
    expect(await plans.once("cancel:r1", make("DC-1", 0))).toEqual({ to: "ST-2" });
    expect(made).toBe(2);
    expect(await plans.once("cancel:r2", make("DC-1", 0))).toEqual({ to: "DC-1" });

    expect(await plans.purgeOlderThan(new Date(Date.now() - 60_000))).toBe(0);
    expect(await plans.purgeOlderThan(new Date(Date.now() + 1_000))).toBe(2);
    expect(await plans.once("cancel:r1", make("DC-2", 0))).toEqual({ to: "DC-2" });
    plans.close();
  });
});
