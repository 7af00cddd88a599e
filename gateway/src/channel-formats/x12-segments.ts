// What the warehouse formats (856, 846, 945) read the same way from a transaction set's segments.
import type { X12Segment } from "node-x12";

/** A segment as its tag and trimmed element values (element 01 at index 0). */
export interface X12Row {
  readonly tag: string;
  readonly el: readonly string[];
}

export const rowsOf = (segments: readonly X12Segment[]): X12Row[] =>
  segments.map((s) => ({ tag: s.tag, el: s.elements.map((e) => e.value.trim()) }));

/** An X12 date (CCYYMMDD) as an ISO date, or undefined when it is not one. */
export function isoDate(value: string | undefined): string | undefined {
  if (!value || !/^\d{8}$/.test(value)) return undefined;
  const iso = `${value.slice(0, 4)}-${value.slice(4, 6)}-${value.slice(6)}`;
  return Number.isNaN(Date.parse(`${iso}T00:00:00Z`)) ? undefined : iso;
}

/**
 * The product id whose qualifier is `qualifier`, of the qualifier/id pairs whose qualifiers stand at
 * `qualifierAt` (indexes into `elements`), or "" when none has it.
 */
export function productId(
  elements: readonly string[],
  qualifier: string,
  qualifierAt: readonly number[],
): string {
  for (const q of qualifierAt) if (elements[q] === qualifier && elements[q + 1]) return elements[q + 1] ?? "";
  return "";
}

/** A LIN's product id under `qualifier`: LIN02/03, LIN04/05 … are all qualifier/id pairs. */
export const linProductId = (elements: readonly string[], qualifier: string) =>
  productId(
    elements,
    qualifier,
    elements.map((_, i) => i).filter((i) => i % 2 === 1),
  );
