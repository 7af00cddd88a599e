// Reading fields of a channel's JSON payload (parsed losslessly): loose by design, since the mapping
// names every field it cannot use instead of failing on the first.
import { AmountInvalid, decimalToMinorUnits } from "@retail/platform/money";
import type { FieldViolation } from "@retail/platform/rpc";

export type Json = Record<string, unknown>;

/** A string, or a number's decimal text (ids sent as JSON numbers); undefined otherwise. */
export const text = (value: unknown): string | undefined =>
  typeof value === "string" ? value : typeof value === "number" ? String(value) : undefined;

export const list = (value: unknown): Json[] => (Array.isArray(value) ? (value as Json[]) : []);

export const object = (value: unknown): Json =>
  value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Json) : {};

/** A decimal amount in the currency's minor units; one that is not an amount is a violation of `field`. */
export function decimalAmount(
  value: unknown,
  currency: string,
  field: string,
  violations: FieldViolation[],
): bigint {
  try {
    return decimalToMinorUnits(text(value) ?? "", currency || "USD");
  } catch (error) {
    violations.push({
      field,
      description: error instanceof AmountInvalid ? error.message : "is not an amount",
    });
    return 0n;
  }
}
