/**
 * The rates a fresh installation starts with (parts per million), set once as data by the seed
 * (effective from the start of time, set by "seed"): sales tax of a few US states and VAT of two
 * European countries, so that a new mesh takes orders at once. Retailers change them through the
 * TaxRate RPCs; these are never read again once a jurisdiction and tax code has a rate.
 */
export const defaultTaxRates: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  "US-NY": { standard: 88_750, exempt: 0 },
  "US-CA": { standard: 72_500, exempt: 0 },
  "US-TX": { standard: 62_500, exempt: 0 },
  "US-WA": { standard: 65_000, exempt: 0 },
  "US-KY": { standard: 60_000, exempt: 0 },
  "US-OH": { standard: 57_500, exempt: 0 },
  "US-OR": { standard: 0, exempt: 0 },
  GB: { standard: 200_000, reduced: 50_000, zero: 0 },
  DE: { standard: 190_000, reduced: 70_000 },
};
