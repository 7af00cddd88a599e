import type { TaxRates } from "../app/ports.js";

/** Rates in parts per million by jurisdiction ("US-NY", or a country: "GB") and tax code. */
export type TaxTable = Readonly<Record<string, Readonly<Record<string, number>>>>;

/**
 * The tax-rate table from configuration (a tax engine adapter can implement TaxRates instead). A
 * jurisdiction without its own entry falls back to its country's ("GB-ENG" -> "GB").
 */
export function createTaxTable(table: TaxTable, locations: Readonly<Record<string, string>>): TaxRates {
  return {
    ratePpm(jurisdiction, taxCode) {
      const country = jurisdiction.split("-")[0] ?? "";
      const rate = table[jurisdiction]?.[taxCode] ?? table[country]?.[taxCode];
      return rate === undefined ? undefined : BigInt(rate);
    },
    locationJurisdiction: (locationId) => locations[locationId],
  };
}
