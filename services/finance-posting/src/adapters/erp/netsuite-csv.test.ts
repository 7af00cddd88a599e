import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { EntrySide, JournalEntrySchema } from "@retail/contracts/retail/finance/v1/finance_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNetSuiteCsvAdapter } from "./netsuite-csv.js";

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "netsuite-"));
});
afterAll(() => rm(directory, { recursive: true, force: true }));

function entry(entryId: string, currencyCode: string, minorUnits: bigint) {
  return create(JournalEntrySchema, {
    entryId,
    postingDate: "2026-11-27",
    description: "sale",
    lines: [
      { accountCode: "1200", side: EntrySide.DEBIT, amount: { currencyCode, minorUnits } },
      { accountCode: "4000", side: EntrySide.CREDIT, amount: { currencyCode, minorUnits } },
    ],
  });
}

describe("the NetSuite journal CSV", () => {
  it("writes amounts with each currency's ISO 4217 decimal places", async () => {
    const adapter = createNetSuiteCsvAdapter({ directory, maxEntries: 10, ratePerMinute: 60 });
    const path = await adapter.write(
      "batch-1",
      [entry("e-usd", "USD", 123456n), entry("e-jpy", "JPY", 123456n), entry("e-bhd", "BHD", 123456n)],
      { "1200": "Clearing", "4000": "Revenue" },
    );
    const rows = (await readFile(path, "utf8"))
      .trim()
      .split("\r\n")
      .slice(1)
      .map((r) => r.split(","));
    expect(rows.map((r) => [r[0], r[2], r[5] || r[6]])).toEqual([
      ["e-usd", "USD", "1234.56"],
      ["e-usd", "USD", "1234.56"],
      ["e-jpy", "JPY", "123456"],
      ["e-jpy", "JPY", "123456"],
      ["e-bhd", "BHD", "123.456"],
      ["e-bhd", "BHD", "123.456"],
    ]);
  });
});
