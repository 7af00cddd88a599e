import { FulfillmentType } from "@retail/contracts/retail/order/v1/order_pb";
import { NoTaxRate, RuleViolated } from "../domain/errors.js";
import { units } from "../domain/money.js";
import { type LineInput, type PricedOrder, priceOrder } from "../domain/pricing.js";
import { jurisdictionOf } from "../domain/tax-rates.js";
import { type OrderDeps, TaxEngineUnavailable, type TaxFallback } from "./ports.js";
import type { SubmitOrder } from "./submit-order.js";
import { taxRateAt } from "./tax-rates.js";

export const defaultTaxCode = "standard";

/** `work` run once per key: a repeat gets the first call's promise. */
function oncePerKey<T>(work: (key: string) => Promise<T>): (key: string) => Promise<T> {
  const kept = new Map<string, Promise<T>>();
  return (key) => {
    const promise = kept.get(key) ?? work(key);
    kept.set(key, promise);
    return promise;
  };
}

/**
 * The rate of each line not otherwise taxed: the rate in force when the order was placed, in the
 * jurisdiction where the goods are handed over (the pickup store's, else the ship-to address's).
 * Refuses naming the field whose jurisdiction or rate is missing, the jurisdiction and the tax code.
 * Lines the channel charged tax on, or the tax engine quoted, need no rate (one found is on record).
 */
async function lineTaxRates(
  deps: OrderDeps,
  command: SubmitOrder,
  at: Date,
  taxed: ReadonlySet<string>,
): Promise<Array<bigint | undefined>> {
  const shipJurisdiction = command.shipTo
    ? jurisdictionOf(command.shipTo.regionCode, command.shipTo.administrativeArea)
    : "";
  // Lines of one order mostly share a jurisdiction, a tax code and a store: each is read once.
  const rateOf = oncePerKey((key) => {
    const [jurisdiction = "", taxCode = ""] = key.split("|");
    return taxRateAt(deps, jurisdiction, taxCode, at);
  });
  const storeOf = oncePerKey((locationId) => deps.locations.jurisdictionOf(locationId));
  /** Where a line's goods are handed over, as a jurisdiction and the field that decides it; or why not known. */
  const whereTaxed = async (
    line: SubmitOrder["lines"][number],
    i: number,
  ): Promise<{ jurisdiction: string; field: string } | NoTaxRate> => {
    if (line.fulfillmentType === FulfillmentType.PICKUP_IN_STORE) {
      const field = `lines[${i}].fulfillment_location_id`;
      const location = await storeOf(line.fulfillmentLocationId);
      return location.known && location.jurisdiction
        ? { jurisdiction: location.jurisdiction, field }
        : new NoTaxRate(
            field,
            `location ${line.fulfillmentLocationId} has no tax jurisdiction: give it an address (country and subdivision) through the inventory API`,
          );
    }
    if (command.shipTo?.regionCode)
      return { jurisdiction: shipJurisdiction, field: "ship_to.administrative_area" };
    return command.shipTo
      ? new NoTaxRate("ship_to.region_code", "is required: the country decides the tax")
      : new NoTaxRate(
          "ship_to",
          "is required for a shipped line: its country and subdivision decide the tax",
        );
  };
  const lineRates: Array<bigint | undefined> = [];
  for (const [i, line] of command.lines.entries()) {
    const optional = line.chargedTax !== undefined || taxed.has(line.lineId);
    const place = await whereTaxed(line, i);
    if (place instanceof NoTaxRate) {
      if (!optional) throw place;
      lineRates.push(undefined);
      continue;
    }
    const taxCode = line.taxCode || defaultTaxCode;
    const rate = await rateOf(`${place.jurisdiction}|${taxCode}`);
    if (!rate && !optional) {
      throw new NoTaxRate(
        place.field,
        `no tax rate for jurisdiction ${place.jurisdiction} and tax code ${taxCode} on ${at.toISOString().slice(0, 10)}: set one with CreateTaxRate`,
      );
    }
    lineRates.push(rate?.ratePpm);
  }
  return lineRates;
}

/**
 * What the tax engine says of the shipped lines, when one is configured and the ship-to has a postal
 * code; undefined when it has no say. An engine that does not answer in time applies the channel's
 * fallback: the rate table (undefined here), a refusal, or deferral (the channel sends it again later).
 */
async function engineTaxes(
  deps: OrderDeps,
  command: SubmitOrder,
  untaxed: PricedOrder,
): Promise<{ quoted?: Map<string, bigint>; holdReason?: string }> {
  const engine = deps.taxEngine;
  const shipTo = command.shipTo;
  if (!engine || !shipTo?.postalCode) return {};
  const lines = command.lines.flatMap((line, i) => {
    const priced = untaxed.lines[i];
    const shipped = line.fulfillmentType !== FulfillmentType.PICKUP_IN_STORE;
    // Only general merchandise goes to the engine: other tax codes (exempt, gift cards, reduced
    // rates) have no product code mapped for it yet and keep the rate table.
    const standard = (line.taxCode || defaultTaxCode) === defaultTaxCode;
    return shipped && standard && line.chargedTax === undefined && priced
      ? [
          {
            lineId: line.lineId,
            quantity: line.quantity,
            unitPrice: units(line.unitPrice),
            discount: priced.discount,
            taxCode: line.taxCode || defaultTaxCode,
          },
        ]
      : [];
  });
  if (lines.length === 0) return {};
  try {
    return {
      quoted: await engine.quote({
        currency: command.currencyCode,
        shipTo,
        shipping: untaxed.shipping,
        lines,
      }),
    };
  } catch (error) {
    if (!(error instanceof TaxEngineUnavailable)) throw error;
    const fallback: TaxFallback = engine.fallbackFor(command.channel);
    deps.logger.warn(
      { engine: engine.name, fallback, err: error },
      "tax engine did not answer; falling back",
    );
    if (fallback === "rate_table") return {};
    if (fallback === "hold") {
      return {
        holdReason: `the tax engine ${engine.name} ${error.message}: priced from the rate table until reviewed`,
      };
    }
    if (fallback === "defer") throw error;
    throw new RuleViolated(
      "TAX_UNDETERMINED",
      `the tax engine ${engine.name} did not answer and this channel's orders are not taxed without it: ${error.message}`,
      { engine: engine.name },
    );
  }
}

/**
 * Prices the submission with its taxes: what the channel charged, else what the tax engine quoted,
 * else the rate table's (with the table's figure on record beside a charged tax). An order whose
 * channel holds orders the engine could not tax comes back with the reason it is held.
 */
export async function priceWithTax(
  deps: OrderDeps,
  command: SubmitOrder,
  at: Date,
): Promise<{ priced: PricedOrder; taxHoldReason: string }> {
  const base = command.lines.map((line) => ({
    lineId: line.lineId,
    quantity: line.quantity,
    unitPrice: units(line.unitPrice),
    discount: units(line.discount),
    taxRatePpm: undefined,
    ...(line.chargedTax ? { chargedTax: units(line.chargedTax) } : {}),
  }));
  const orderDiscount = units(command.orderDiscount);
  const shipping = units(command.shippingCharge);
  const { quoted, holdReason } = await engineTaxes(deps, command, priceOrder(base, orderDiscount, shipping));
  const rates = await lineTaxRates(deps, command, at, new Set(quoted?.keys() ?? []));
  const inputs: LineInput[] = base.map((line, i) => {
    const quote = quoted?.get(line.lineId);
    return { ...line, taxRatePpm: rates[i], ...(quote !== undefined ? { quotedTax: quote } : {}) };
  });
  return { priced: priceOrder(inputs, orderDiscount, shipping), taxHoldReason: holdReason ?? "" };
}
