import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { EntrySide, type JournalEntry } from "@retail/contracts/retail/finance/v1/finance_pb";
import type { ErpAdapter } from "../../app/ports.js";

/** Minor units as a decimal amount with the currency's two places ("12345" -> "123.45"). */
function decimal(minorUnits: bigint): string {
  const sign = minorUnits < 0n ? "-" : "";
  const abs = minorUnits < 0n ? -minorUnits : minorUnits;
  return `${sign}${abs / 100n}.${String(abs % 100n).padStart(2, "0")}`;
}

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
 * again replaces itself. Amounts assume two decimal places.
 */
export function createNetSuiteCsvAdapter(options: {
  directory: string;
  maxEntries: number;
  ratePerMinute: number;
}): ErpAdapter {
  return {
    name: "netsuite-csv",
    maxEntries: options.maxEntries,
    ratePerMinute: options.ratePerMinute,
    async write(batchId, entries: readonly JournalEntry[], accounts) {
      const rows = [header.join(",")];
      for (const entry of entries) {
        for (const line of entry.lines) {
          const amount = decimal(line.amount?.minorUnits ?? 0n);
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
