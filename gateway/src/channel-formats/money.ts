// Decimal amounts as channels send them ("199.00", "0.1") to integer minor units of their currency,
// by string arithmetic: never through a floating-point number. The currency's exponent comes from
// ISO 4217 through the runtime's ICU data (USD 2, JPY 0, BHD 3).

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
