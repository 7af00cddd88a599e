import { allocate, mulDivRound } from "./money.js";

/** A line as submitted, in minor units. */
export interface LineInput {
  readonly lineId: string;
  readonly quantity: bigint;
  readonly unitPrice: bigint;
  readonly discount: bigint;
  /** Parts per million of the net amount ("8.875%" is 88,750); undefined when no rate is known. */
  readonly taxRatePpm: bigint | undefined;
  /** The tax the channel charged for the line, when it did: the line's tax is then that. */
  readonly chargedTax?: bigint;
  /** The tax a tax engine quoted for the line: the mesh's own figure, in place of the rate's. */
  readonly quotedTax?: bigint;
}

export interface PricedLine {
  readonly lineId: string;
  readonly gross: bigint;
  /** The line's own discount plus its share of the order discount. */
  readonly discount: bigint;
  readonly net: bigint;
  readonly tax: bigint;
  /** What the rate gives (the line's tax unless the channel charged its own); undefined without a rate. */
  readonly computedTax: bigint | undefined;
  readonly total: bigint;
}

export interface PricedOrder {
  readonly lines: readonly PricedLine[];
  readonly subtotal: bigint;
  readonly discountTotal: bigint;
  readonly shipping: bigint;
  readonly taxTotal: bigint;
  readonly grandTotal: bigint;
}

/**
 * Prices an order exactly: the order discount is allocated to lines in proportion to what each line
 * costs after its own discount (remainders to the largest shares), tax is charged per line on its net
 * amount at its rate, rounded half away from zero (or is what the channel charged, when it charged its
 * own, with the rate's figure kept beside it), and every total is the sum of its lines. Shipping is
 * charged as given and not taxed here.
 */
export function priceOrder(
  lines: readonly LineInput[],
  orderDiscount: bigint,
  shipping: bigint,
): PricedOrder {
  const afterLineDiscounts = lines.map((l) => l.unitPrice * l.quantity - l.discount);
  const shares = allocate(orderDiscount, afterLineDiscounts);
  const priced = lines.map((line, i) => {
    const gross = line.unitPrice * line.quantity;
    const discount = line.discount + (shares[i] as bigint);
    const net = gross - discount;
    const computedTax =
      line.quotedTax ??
      (line.taxRatePpm === undefined ? undefined : mulDivRound(net, line.taxRatePpm, 1_000_000n));
    const tax = line.chargedTax ?? computedTax ?? 0n;
    return { lineId: line.lineId, gross, discount, net, tax, computedTax, total: net + tax };
  });
  const sum = (pick: (l: PricedLine) => bigint) => priced.reduce((s, l) => s + pick(l), 0n);
  return {
    lines: priced,
    subtotal: sum((l) => l.gross),
    discountTotal: sum((l) => l.discount),
    shipping,
    taxTotal: sum((l) => l.tax),
    grandTotal: sum((l) => l.total) + shipping,
  };
}
