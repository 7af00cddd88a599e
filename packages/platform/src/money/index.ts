// Money at the mesh's edges: decimal amounts as channels and ERPs write them ("199.00", "0.1") to and
// from integer minor units of their currency, by string arithmetic, never through a floating-point
// number. Currency codes and their exponents come from ISO 4217 through the runtime's ICU data
// (USD 2, JPY 0, BHD 3), the one table every service and the gateway use.

const isoCurrencies = new Set(Intl.supportedValuesOf("currency"));

/** Whether a code is an ISO 4217 currency ("USD", "JPY"), not merely three capital letters. */
export function isCurrencyCode(code: string): boolean {
  return /^[A-Z]{3}$/.test(code) && isoCurrencies.has(code);
}

const digitsByCurrency = new Map<string, number>();

/** Digits after the decimal point in a currency's minor unit (looked up once per currency). */
export function minorUnitDigits(currencyCode: string): number {
  let digits = digitsByCurrency.get(currencyCode);
  if (digits === undefined) {
    const format = new Intl.NumberFormat("en", { style: "currency", currency: currencyCode });
    digits = format.resolvedOptions().maximumFractionDigits ?? 2;
    digitsByCurrency.set(currencyCode, digits);
  }
  return digits;
}

/** A decimal amount that cannot be expressed in the currency's minor units. */
export class AmountInvalid extends Error {}

/** "199.00" USD -> 19900n; "-0.5" USD -> -50n; "19.999" USD throws (more precision than cents). */
export function decimalToMinorUnits(amount: string, currencyCode: string): bigint {
  const match = /^(-)?(\d+)(?:\.(\d+))?$/.exec(amount.trim());
  if (!match) throw new AmountInvalid(`"${amount}" is not a decimal amount`);
  const [, sign, whole = "0", fraction = ""] = match;
  const digits = minorUnitDigits(currencyCode);
  const significant = fraction.replace(/0+$/, "");
  if (significant.length > digits)
    throw new AmountInvalid(`"${amount}" has more decimals than ${currencyCode} minor units (${digits})`);
  const minor = BigInt(whole) * 10n ** BigInt(digits) + BigInt(significant.padEnd(digits, "0") || "0");
  return sign ? -minor : minor;
}

/** 12345n USD -> "123.45"; 12345n JPY -> "12345"; 12345n BHD -> "12.345"; -5n USD -> "-0.05". */
export function minorUnitsToDecimal(minorUnits: bigint, currencyCode: string): string {
  const digits = minorUnitDigits(currencyCode);
  const sign = minorUnits < 0n ? "-" : "";
  const abs = minorUnits < 0n ? -minorUnits : minorUnits;
  if (digits === 0) return `${sign}${abs}`;
  const scale = 10n ** BigInt(digits);
  return `${sign}${abs / scale}.${String(abs % scale).padStart(digits, "0")}`;
}
