// TaxJar's sales tax API (POST /v2/taxes, https://developers.taxjar.com/api/reference/#post-calculate-sales-tax-for-an-order)
// behind the TaxEngine port: one call per order with a deadline; amounts go out as decimals and come
// back as decimals, converted to and from minor units by string arithmetic, never floats.
import type { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import { Channel as Channels } from "@retail/contracts/retail/common/v1/common_pb";
import { decimalToMinorUnits, minorUnitDigits, minorUnitsToDecimal } from "@retail/platform/money";
import {
  type TaxEngine,
  TaxEngineUnavailable,
  type TaxFallback,
  type TaxQuoteRequest,
} from "../../app/ports.js";

type Json = Record<string, unknown>;

/** The request body TaxJar takes for an order shipped to `shipTo` (nexus comes from the account). */
export function taxJarRequest(request: TaxQuoteRequest): Json {
  const decimal = (minor: bigint) => Number(minorUnitsToDecimal(minor, request.currency));
  const net = request.lines.reduce((s, l) => s + l.unitPrice * l.quantity - l.discount, 0n);
  return {
    to_country: request.shipTo.regionCode,
    to_zip: request.shipTo.postalCode,
    to_state: request.shipTo.administrativeArea,
    to_city: request.shipTo.locality,
    to_street: request.shipTo.lines[0] ?? "",
    amount: decimal(net),
    shipping: decimal(request.shipping),
    line_items: request.lines.map((l) => ({
      id: l.lineId,
      quantity: Number(l.quantity),
      unit_price: decimal(l.unitPrice),
      discount: decimal(l.discount),
    })),
  };
}

/** amount (minor units) x rate (a decimal such as 0.0625), rounded half away from zero. */
function timesRate(amountMinor: bigint, rate: unknown): bigint {
  const text = typeof rate === "number" ? String(rate) : typeof rate === "string" ? rate : "0";
  const match = /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (!match) throw new TaxEngineUnavailable(`TaxJar sent a rate that is not a decimal: ${text}`);
  const fraction = match[2] ?? "";
  const scale = 10n ** BigInt(fraction.length);
  const product = amountMinor * BigInt(`${match[1]}${fraction}`);
  return (2n * product + scale) / (2n * scale);
}

const levels = ["state", "county", "city", "special_district"] as const;
const rateKey: Record<(typeof levels)[number], string> = {
  state: "state_sales_tax_rate",
  county: "county_tax_rate",
  city: "city_tax_rate",
  special_district: "special_tax_rate",
};

/**
 * The tax per line of TaxJar's answer: a line's `tax_collectable` where the answer gives it, else the
 * sum over state, county, city and special district of taxable amount times rate.
 */
export function taxJarLineTaxes(answer: Json, currency: string): Map<string, bigint> {
  const tax = (answer.tax ?? {}) as Json;
  const breakdown = (tax.breakdown ?? {}) as Json;
  const items = (breakdown.line_items ?? []) as Json[];
  const minor = (value: unknown) => decimalToMinorUnits(String(value ?? 0), currency);
  const taxes = new Map<string, bigint>();
  for (const item of items) {
    const id = String(item.id ?? "");
    if (item.tax_collectable !== undefined) {
      taxes.set(id, minor(Number(item.tax_collectable).toFixed(minorUnitDigits(currency))));
      continue;
    }
    let sum = 0n;
    for (const level of levels) {
      sum += timesRate(minor(item[`${level}_taxable_amount`]), item[rateKey[level]]);
    }
    taxes.set(id, sum);
  }
  return taxes;
}

/** TaxJar as the mesh's tax engine: per-call deadline, fallback per channel when it does not answer. */
export function createTaxJarEngine(options: {
  baseUrl: string;
  apiToken: string;
  timeoutMs: number;
  fallback: Readonly<Record<string, TaxFallback>>;
}): TaxEngine {
  return {
    name: "taxjar",
    fallbackFor(channel: Channel) {
      return options.fallback[Channels[channel] ?? ""] ?? options.fallback["*"] ?? "rate_table";
    },
    async quote(request) {
      let response: Response;
      try {
        response = await fetch(new URL("/v2/taxes", options.baseUrl), {
          method: "POST",
          headers: { authorization: `Bearer ${options.apiToken}`, "content-type": "application/json" },
          body: JSON.stringify(taxJarRequest(request)),
          signal: AbortSignal.timeout(options.timeoutMs),
        });
      } catch (error) {
        throw new TaxEngineUnavailable(
          error instanceof Error && error.name === "TimeoutError"
            ? `no answer within ${options.timeoutMs} ms`
            : `unreachable (${error instanceof Error ? error.message : String(error)})`,
        );
      }
      if (!response.ok) {
        await response.body?.cancel();
        throw new TaxEngineUnavailable(`answered HTTP ${response.status}`);
      }
      const taxes = taxJarLineTaxes((await response.json()) as Json, request.currency);
      const missing = request.lines.filter((l) => !taxes.has(l.lineId)).map((l) => l.lineId);
      if (missing.length > 0) throw new TaxEngineUnavailable(`gave no tax for lines ${missing.join(", ")}`);
      return taxes;
    },
  };
}
