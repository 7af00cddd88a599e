import { create } from "@bufbuild/protobuf";
import { type Money, MoneySchema } from "@retail/contracts/retail/common/v1/money_pb";

/** Integer minor units of one currency: every amount here, never a float. */
export function money(currencyCode: string, minorUnits: bigint): Money {
  return create(MoneySchema, { currencyCode, minorUnits });
}

export function units(m: Money | undefined): bigint {
  return m?.minorUnits ?? 0n;
}

/** a * numerator / denominator rounded half away from zero (the usual commercial rounding). */
export function mulDivRound(a: bigint, numerator: bigint, denominator: bigint): bigint {
  if (denominator === 0n) throw new Error("division by zero");
  const product = a * numerator;
  const negative = product < 0n !== denominator < 0n;
  const p = product < 0n ? -product : product;
  const d = denominator < 0n ? -denominator : denominator;
  const rounded = (2n * p + d) / (2n * d);
  return negative ? -rounded : rounded;
}

/**
 * Splits `total` over `weights` so the parts add up to `total` exactly: each part is its floored share,
 * and the units left over go one each to the largest remainders (ties to the earlier weight).
 */
export function allocate(total: bigint, weights: readonly bigint[]): bigint[] {
  const sum = weights.reduce((s, w) => s + w, 0n);
  if (sum === 0n) return weights.map((_, i) => (i === 0 ? total : 0n));
  const parts = weights.map((w) => (total * w) / sum);
  const remainders = weights.map((w, i) => ({ i, r: total * w - (parts[i] as bigint) * sum }));
  let left = total - parts.reduce((s, p) => s + p, 0n);
  remainders.sort((a, b) => (a.r === b.r ? a.i - b.i : a.r > b.r ? -1 : 1));
  for (const { i } of remainders) {
    if (left <= 0n) break;
    parts[i] = (parts[i] as bigint) + 1n;
    left--;
  }
  return parts;
}

/**
 * The share of a line amount that belongs to units [before, before + quantity) of the line, from one
 * allocation of the amount over the line's units (largest remainder: each unit gets the floor, the
 * cents left over go one each to the first units). Every part of a line (a split shipment, a partial
 * refund) takes its units' shares of that one allocation, so the parts add up to the line exactly and
 * each part's net and discount add up to its gross.
 */
export function shareOf(amount: bigint, lineQuantity: bigint, before: bigint, quantity: bigint): bigint {
  if (lineQuantity <= 0n || quantity <= 0n) return 0n;
  if (amount < 0n) return -shareOf(-amount, lineQuantity, before, quantity);
  const each = amount / lineQuantity;
  const extra = amount - each * lineQuantity; // the first `extra` units carry one more minor unit
  const end = before + quantity;
  const least = (a: bigint, b: bigint) => (a < b ? a : b);
  const withExtra = least(end, extra) - least(before, extra);
  return each * quantity + (withExtra > 0n ? withExtra : 0n);
}
