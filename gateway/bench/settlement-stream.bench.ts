// How a settlement report of any size goes through the gateway's reading path: a file of `--rows`
// rows (default 2,000,000, about 170 MB) generated as a stream, read line by line by the flat-file
// reader as the settlement endpoint reads a request, and the process's peak resident memory beside the
// file's size. `npm run bench:settlement -w @retail/gateway -- --rows 2000000`. A figure, not a test.
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { parseArgs } from "node:util";
import { createAmazonSettlementReader } from "../src/channel-formats/amazon-settlement.ts";

const { values } = parseArgs({ options: { rows: { type: "string", default: "2000000" } } });
const rows = Number(values.rows);
const columns = [
  "settlement-id",
  "settlement-start-date",
  "settlement-end-date",
  "deposit-date",
  "total-amount",
  "currency",
  "transaction-type",
  "order-id",
  "merchant-order-id",
  "adjustment-id",
  "shipment-id",
  "marketplace-name",
  "amount-type",
  "amount-description",
  "amount",
  "fulfillment-id",
  "posted-date",
  "order-item-code",
  "sku",
  "quantity-purchased",
  "price-amount",
  "promotion-amount",
  "shipment-fee-amount",
  "order-fee-amount",
];
const row = (cells: Record<string, string>) => columns.map((c) => cells[c] ?? "").join("\t");

let bytes = 0;
function* file(): Generator<Buffer> {
  const chunk: string[] = [];
  const emit = (line: string) => {
    chunk.push(line);
    if (chunk.length < 1_000) return undefined;
    const out = Buffer.from(`${chunk.join("\n")}\n`);
    chunk.length = 0;
    bytes += out.length;
    return out;
  };
  const lines = [
    columns.join("\t"),
    row({ "settlement-id": "1", "total-amount": "0.00", currency: "USD", "deposit-date": "2026-11-20" }),
  ];
  for (const line of lines) {
    const out = emit(line);
    if (out) yield out;
  }
  for (let i = 0; i < rows; i++) {
    // Orders of ten component rows each, as Amazon writes them.
    const out = emit(
      row({ "transaction-type": "Order", "order-id": `111-${Math.floor(i / 10)}`, "price-amount": "1.00" }),
    );
    if (out) yield out;
  }
  if (chunk.length > 0) {
    const out = Buffer.from(`${chunk.join("\n")}\n`);
    bytes += out.length;
    yield out;
  }
}

const baseline = process.memoryUsage().rss;
let peak = baseline;
const sampler = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 20);
const started = performance.now();
const reader = createAmazonSettlementReader();
for await (const line of createInterface({
  input: Readable.from(file()),
  crlfDelay: Number.POSITIVE_INFINITY,
}))
  reader.push(line);
const { settlement, rejected } = reader.finish();
const seconds = (performance.now() - started) / 1000;
clearInterval(sampler);
peak = Math.max(peak, process.memoryUsage().rss);
const mib = (n: number) => (n / 2 ** 20).toFixed(1);
console.log(
  `${rows.toLocaleString()} rows, ${mib(bytes)} MiB read in ${seconds.toFixed(1)} s (${Math.round(rows / seconds).toLocaleString()} rows/s)`,
);
console.log(
  `${settlement.lines.length.toLocaleString()} settlement lines, ${rejected.length} rejected; resident memory ${mib(baseline)} MiB before, ${mib(peak)} MiB at peak (+${mib(peak - baseline)} MiB for a ${mib(bytes)} MiB file)`,
);
