// A small proving day in the suite: every service and the gateway as processes, a seeded day of
// orders through the gateway, and the scorecard's invariants (not its speeds, which the benchmark
// reports): every order as its channel left it, nothing oversold, stock ledger = truth = read model,
// no duplicate or wrongly merged customer, every capture and refund posted once, the journal balanced.
import { describe, expect, it } from "vitest";
import { proveDay } from "../src/prove.js";

describe("a proving day", () => {
  it("keeps the business outcomes of a small seeded day through the gateway", async () => {
    const {
      scorecard: s,
      cost,
      close,
      settlement,
      reads,
      versions,
    } = await proveDay({ seed: 7, orders: 24, rate: 8, skus: 10, people: 12, readSamples: 10 });
    expect(s.inaccurate).toEqual([]);
    expect(s.orders.failed).toBe(0);
    expect(s.orders.accuracy).toBe(1);
    expect(s.orders.accepted).toBeGreaterThan(0);
    // No submission created an order twice.
    expect(s.orders.held).toBe(s.orders.created);
    expect(s.stock.oversoldUnits).toBe(0);
    expect(s.stock.mismatches).toEqual([]);
    expect(s.stock.refusedMovements).toEqual([]);
    expect(s.stock.reliability).toBe(1);
    expect(s.identity.duplicatesLeft).toBe(0);
    expect(s.identity.precision).toBe(1);
    expect(s.identity.recall).toBe(1);
    expect(s.ledger.problems).toEqual([]);
    expect(s.ledger.capturesPosted).toBe(s.ledger.capturesExpected);
    expect(s.ledger.refundsPosted).toBe(s.ledger.refundsExpected);
    expect(s.ledger.posOrdersWithStoreLines).toBe(s.ledger.posOrders);
    expect(s.ledger.unbalancedEntries).toBe(0);
    expect(s.ledger.balancedPerCurrency).toBe(true);
    // The settlement's two planted mismatches are found, and nothing else is unmatched.
    expect(settlement?.plantedFound).toBe(true);
    expect(close?.status).toBe("PERIOD_STATUS_CLOSED");
    expect(close?.trialBalanced).toBe(true);
    // The cost is measured (its size is the benchmark's business): every process did work.
    expect(cost?.mongoCommandsPerOrderTotal).toBeGreaterThan(0);
    expect(cost?.cpuMsPerOrder.order).toBeGreaterThan(0);
    expect(cost?.mongoCommandsPerOrderBy.some(([what]) => what === "order insert commits")).toBe(true);
    // Each way of reading answered (the compared reads throw on a refused or empty answer).
    expect(reads?.availability.gateway.p50).toBeGreaterThan(0);
    expect(reads?.order.database.p50).toBeGreaterThan(0);
    // What it ran on, as each part reports itself.
    expect(versions?.rabbitmq).toMatch(/^\d+\.\d+/);
    expect(versions?.postgresql).toMatch(/^\d+\.\d+/);
    expect(versions?.ferretdb).toMatch(/^v\d+\.\d+/);
  }, 180_000);
});
