import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { EntrySide, type JournalEntry } from "@retail/contracts/retail/finance/v1/finance_pb";
import { minorUnitsToDecimal } from "@retail/platform/money";
import type { ErpAdapter } from "../../app/ports.js";

/** RFC 4180: quote a field when it holds a comma, a quote or a line break. */
function field(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

const header = [
  "External ID",
  "Date",
  "Currency",
  "Account",
  "Account Name",
  "Debit",
  "Credit",
  "Memo",
  "Line Memo",
  "Department",
];

/**
 * The journal import CSV of NetSuite's CSV Import Assistant (one row per line, entries grouped by
 * External ID, amounts as decimals in Debit or Credit). One file per batch, `<batch id>.csv`, written
 * to a temporary name and renamed, so the ERP's pickup never reads half a file and a batch written
 * again replaces itself. Amounts have their currency's ISO 4217 decimal places (JPY none, BHD three).
 */
export function createNetSuiteCsvAdapter(options: {
  directory: string;
  maxEntries: number;
  ratePerMinute: number;
  strandedAfterMs?: number;
}): ErpAdapter {
  return {
    name: "netsuite-csv",
    maxEntries: options.maxEntries,
    ratePerMinute: options.ratePerMinute,
    strandedAfterMs: options.strandedAfterMs ?? 60_000,
    async write(batchId, entries: readonly JournalEntry[], accounts) {
      const rows = [header.join(",")];
      for (const entry of entries) {
        for (const line of entry.lines) {
          const amount = minorUnitsToDecimal(line.amount?.minorUnits ?? 0n, line.amount?.currencyCode ?? "");
          rows.push(
            [
              entry.entryId,
              entry.postingDate,
              line.amount?.currencyCode ?? "",
              line.accountCode,
              accounts[line.accountCode] ?? "",
              line.side === EntrySide.DEBIT ? amount : "",
              line.side === EntrySide.CREDIT ? amount : "",
              entry.description,
              [line.sku, line.taxCode, line.paymentMethod].filter(Boolean).join(" "),
              entry.source?.storeId ?? "",
            ]
              .map(field)
              .join(","),
          );
        }
      }
      await mkdir(options.directory, { recursive: true });
      const path = join(options.directory, `${batchId}.csv`);
      await writeFile(`${path}.partial`, `${rows.join("\r\n")}\r\n`);
      await rename(`${path}.partial`, path);
      return path;
    },
  };
}
