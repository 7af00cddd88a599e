import { describe, expect, it } from "vitest";
import {
  AmountInvalid,
  decimalToMinorUnits,
  isCurrencyCode,
  minorUnitDigits,
  minorUnitsToDecimal,
} from "./index.js";

describe("money at the edges", () => {
  it("takes each currency's minor unit from ISO 4217", () => {
    expect([minorUnitDigits("USD"), minorUnitDigits("JPY"), minorUnitDigits("BHD")]).toEqual([2, 0, 3]);
  });

  it("writes minor units as decimals with the currency's places, both signs", () => {
    expect(minorUnitsToDecimal(12345n, "USD")).toBe("123.45");
    expect(minorUnitsToDecimal(12345n, "JPY")).toBe("12345");
    expect(minorUnitsToDecimal(12345n, "BHD")).toBe("12.345");
    expect(minorUnitsToDecimal(-5n, "USD")).toBe("-0.05");
    expect(minorUnitsToDecimal(7n, "BHD")).toBe("0.007");
  });

  it("reads decimals back to the same minor units, refusing more places than the currency has", () => {
    for (const [amount, currency] of [
      ["123.45", "USD"],
      ["12345", "JPY"],
      ["12.345", "BHD"],
      ["-0.05", "USD"],
    ] as const) {
      expect(minorUnitsToDecimal(decimalToMinorUnits(amount, currency), currency)).toBe(amount);
    }
    expect(() => decimalToMinorUnits("10.5", "JPY")).toThrow(AmountInvalid);
  });

  it("knows ISO 4217 codes from three capital letters", () => {
    expect(isCurrencyCode("EUR")).toBe(true);
    expect(isCurrencyCode("ZZZ")).toBe(false);
    expect(isCurrencyCode("usd")).toBe(false);
  });
});
