import { describe, expect, it } from "vitest";
import { allocate, mulDivRound, shareOf } from "./money.js";
import { priceOrder } from "./pricing.js";

describe("exact money", () => {
  it("allocates a total so the parts add up, remainders to the largest shares", () => {
    expect(allocate(100n, [1n, 1n, 1n])).toEqual([34n, 33n, 33n]);
    expect(allocate(1000n, [3333n, 6667n])).toEqual([333n, 667n]);
    expect(allocate(5n, [0n, 0n])).toEqual([5n, 0n]);
  });

  it("rounds half away from zero", () => {
    expect(mulDivRound(5n, 1n, 2n)).toBe(3n);
    expect(mulDivRound(-5n, 1n, 2n)).toBe(-3n);
    expect(mulDivRound(4n, 1n, 3n)).toBe(1n);
  });

  it("gives shares of partial quantities from one allocation over the line's units", () => {
    const parts = [shareOf(1000n, 3n, 0n, 1n), shareOf(1000n, 3n, 1n, 1n), shareOf(1000n, 3n, 2n, 1n)];
    expect(parts).toEqual([334n, 333n, 333n]);
    expect(parts.reduce((s, p) => s + p, 0n)).toBe(1000n);
    // Any split of the units takes the same units' shares: 2 + 1 and 1 + 2 agree with 1 + 1 + 1.
    expect(shareOf(1000n, 3n, 0n, 2n)).toBe(667n);
    expect(shareOf(1000n, 3n, 1n, 2n)).toBe(666n);
    expect(shareOf(-1000n, 3n, 0n, 1n)).toBe(-334n);
  });

  it("prices an order with an order discount allocated exactly and tax per line", () => {
    const priced = priceOrder(
      [
        { lineId: "1", quantity: 1n, unitPrice: 1999n, discount: 0n, taxRatePpm: 88_750n },
        { lineId: "2", quantity: 3n, unitPrice: 333n, discount: 99n, taxRatePpm: 0n },
      ],
      500n,
      495n,
    );
    expect(priced.lines.map((l) => l.discount)).toEqual([345n, 254n]); // 500 split 1999:900 -> 344.77 + 155.23
    expect(priced.discountTotal).toBe(599n);
    expect(priced.lines[0]?.tax).toBe(147n); // 1654 * 8.875% = 146.79
    expect(priced.grandTotal).toBe(priced.lines.reduce((s, l) => s + l.total, 0n) + 495n);
    expect(priced.subtotal - priced.discountTotal + priced.taxTotal + 495n).toBe(priced.grandTotal);
  });
});
