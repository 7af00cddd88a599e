import { create } from "@bufbuild/protobuf";
import { type Timestamp, timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type TaxRateSet, TaxRateSetSchema } from "@retail/contracts/retail/order/v1/order_events_pb";
import { type TaxRate, TaxRateSchema } from "@retail/contracts/retail/order/v1/order_pb";
import { RuleViolated } from "./errors.js";

/** Every rate a jurisdiction and tax code has had, oldest first, and the stream version they reflect. */
export interface TaxRateHistory {
  readonly jurisdiction: string;
  readonly taxCode: string;
  readonly rates: readonly TaxRate[];
  readonly version: number;
}

/** A tax jurisdiction: "US-NY" for a country and its subdivision, "GB" for a country alone. */
export function jurisdictionOf(country: string, subdivision: string): string {
  const c = country.toUpperCase();
  const s = subdivision.toUpperCase();
  return c && s ? `${c}-${s}` : c;
}

const millis = (t: Timestamp | undefined) => (t ? timestampDate(t).getTime() : 0);

/** "US-NY.standard.2": the jurisdiction, the tax code and the rate's place in its history. */
export function taxRateIdOf(jurisdiction: string, taxCode: string, n: number): string {
  return `${jurisdiction}.${taxCode}.${n}`;
}

/** The jurisdiction and tax code a rate id names, or undefined when it is not one. */
export function parseTaxRateId(id: string): { jurisdiction: string; taxCode: string } | undefined {
  const match = /^([A-Z]{2}(?:-[A-Z0-9]{1,3})?)\.([a-z0-9_]{1,32})\.([1-9][0-9]*)$/.exec(id);
  return match ? { jurisdiction: match[1] ?? "", taxCode: match[2] ?? "" } : undefined;
}

/** Folds a rate set into the history: a superseding rate closes the one it replaces. */
export function evolveTaxRates(
  history: TaxRateHistory | undefined,
  event: TaxRateSet,
  version: number,
): TaxRateHistory {
  const rate = event.rate ?? create(TaxRateSchema);
  const rates = (history?.rates ?? []).map((r) =>
    r.taxRateId === event.supersedes ? create(TaxRateSchema, { ...r, supersededBy: rate.taxRateId }) : r,
  );
  return {
    jurisdiction: rate.jurisdiction,
    taxCode: rate.taxCode,
    rates: [...rates, rate],
    version,
  };
}

/** The rate in force at a moment: the latest effective at or before it. */
export function rateAt(history: TaxRateHistory | undefined, at: Date): TaxRate | undefined {
  let found: TaxRate | undefined;
  for (const rate of history?.rates ?? []) {
    if (millis(rate.effectiveTime) > at.getTime()) continue;
    if (!found || millis(rate.effectiveTime) >= millis(found.effectiveTime)) found = rate;
  }
  return found;
}

export interface NewRate {
  readonly jurisdiction: string;
  readonly taxCode: string;
  readonly ratePpm: bigint;
  readonly effectiveTime: Date;
  readonly createdBy: string;
  readonly now: Date;
}

function rateOf(input: NewRate, n: number): TaxRate {
  return create(TaxRateSchema, {
    taxRateId: taxRateIdOf(input.jurisdiction, input.taxCode, n),
    jurisdiction: input.jurisdiction,
    taxCode: input.taxCode,
    ratePpm: input.ratePpm,
    effectiveTime: timestampFromDate(input.effectiveTime),
    createdBy: input.createdBy,
    createTime: timestampFromDate(input.now),
  });
}

/** The first rate of a jurisdiction and tax code; one that has rates already is changed by superseding. */
export function decideCreate(history: TaxRateHistory | undefined, input: NewRate): TaxRateSet {
  const current = history?.rates.at(-1);
  if (current) {
    throw new RuleViolated(
      "TAX_RATE_EXISTS",
      `${input.jurisdiction} ${input.taxCode} has rate ${current.taxRateId} already: supersede it`,
      { tax_rate_id: current.taxRateId },
    );
  }
  return create(TaxRateSetSchema, { rate: rateOf(input, 1) });
}

/**
 * A new rate in place of the newest one, from a later moment: orders placed before it keep the
 * rate they had. Only the newest rate can be superseded.
 */
export function decideSupersede(history: TaxRateHistory, rateId: string, input: NewRate): TaxRateSet {
  const newest = history.rates.at(-1);
  const target = history.rates.find((r) => r.taxRateId === rateId);
  if (!target) throw new RuleViolated("TAX_RATE_NOT_FOUND", `no tax rate ${rateId}`, { tax_rate_id: rateId });
  if (target !== newest) {
    throw new RuleViolated(
      "TAX_RATE_SUPERSEDED",
      `${rateId} was superseded by ${target.supersededBy}: supersede the newest rate`,
      { tax_rate_id: rateId, superseded_by: target.supersededBy },
    );
  }
  if (input.effectiveTime.getTime() <= millis(target.effectiveTime)) {
    throw new RuleViolated(
      "EFFECTIVE_TIME_NOT_LATER",
      `the new rate must take effect after ${target.taxRateId} (${timestampDate(target.effectiveTime ?? timestampFromDate(new Date(0))).toISOString()})`,
      { tax_rate_id: rateId },
    );
  }
  return create(TaxRateSetSchema, { rate: rateOf(input, history.rates.length + 1), supersedes: rateId });
}
