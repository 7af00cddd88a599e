// An ERP export that dies between claiming its entries and writing its batch strands nothing: a retry
// of the same request finishes that batch, and so does the next export of another request, each entry
// in exactly one batch.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { ErrorInfoSchema } from "@retail/contracts/google/rpc/error_details_pb";
import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import { PaymentCapturedSchema } from "@retail/contracts/retail/order/v1/order_events_pb";
import { PaymentEventType, PaymentOutcome } from "@retail/contracts/retail/order/v1/order_pb";
import { rejection, uniqueName, until } from "@retail/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FinanceHarness, startFinance } from "./harness.js";

let finance: FinanceHarness;
let base: string;
let out: string;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), "erp-crash-"));
  out = join(base, "out");
  finance = await startFinance("erp_export", { ERP_EXPORT_DIR: out, ERP_STRANDED_BATCH_MS: "1" });
}, 60_000);
afterAll(async () => {
  await finance?.stop();
  await rm(base, { recursive: true, force: true });
});

let captured = 0;
async function capture(): Promise<void> {
  const orderId = uniqueName("o");
  await finance.emit(
    PaymentCapturedSchema,
    create(PaymentCapturedSchema, {
      orderId,
      channel: Channel.WEB,
      paymentEvent: {
        paymentEventId: uniqueName("ch"),
        type: PaymentEventType.CAPTURE,
        outcome: PaymentOutcome.APPROVED,
        amount: { currencyCode: "USD", minorUnits: 1_000n },
        paymentMethod: "card",
        provider: "stripe",
        providerReference: `ch-${orderId}`,
        occurTime: timestampFromDate(new Date("2026-10-20T10:00:00Z")),
      },
    }),
  );
  captured++;
  await until(async () => {
    const { entries } = await finance.client.listJournalEntries({ pageSize: 500 });
    expect(entries).toHaveLength(captured);
  });
}

/** The ERP's pickup folder cannot be written: the export dies after it claimed its entries. */
async function breakErp() {
  await rm(out, { recursive: true, force: true });
  await writeFile(out, "not a folder");
}
const repairErp = () => rm(out, { force: true });
const exportAs = (requestId: string) =>
  finance.client.exportJournalBatch({ requestId, adapter: "netsuite-csv" });

describe("the ERP export after a crash", () => {
  it("finishes an interrupted batch on a retry, or on the next export, with each entry exported once", async () => {
    for (let i = 0; i < 3; i++) await capture();
    await breakErp();
    expect((await rejection(exportAs("x1"))).rawMessage).toBeDefined();
    await repairErp();
    await capture();
    const retried = await exportAs("x1");
    expect(retried.entryIds).toHaveLength(4); // the three it claimed before dying, and the new one

    await capture();
    await capture();
    await breakErp();
    await rejection(exportAs("x2"));
    await repairErp();
    await capture();
    // Another request: it first finishes x2's batch with what x2 claimed, then takes the rest.
    const next = await exportAs("x3");
    expect(next.entryIds).toHaveLength(1);
    const x2 = await exportAs("x2");
    expect(x2.entryIds).toHaveLength(2);
    const x2File = await readFile(x2.location, "utf8");
    expect(x2File.trim().split("\r\n")).toHaveLength(1 + 2 * 2); // header and two lines per entry

    const all = [...retried.entryIds, ...x2.entryIds, ...next.entryIds];
    expect(new Set(all).size).toBe(all.length);
    const { entries } = await finance.client.listJournalEntries({ pageSize: 500 });
    expect(new Set(all)).toEqual(new Set(entries.map((e) => e.entryId)));

    // The same request id asking for something else is refused, not answered with x3's batch.
    const reused = await rejection(
      finance.client.exportJournalBatch({ requestId: "x3", adapter: "netsuite-csv", maxEntries: 1 }),
    );
    expect(reused.code).toBe(Code.InvalidArgument);
    expect(reused.findDetails(ErrorInfoSchema)[0]?.reason).toBe("IDEMPOTENCY_KEY_REUSED");
    expect((await exportAs("x3")).entryIds).toEqual(next.entryIds);
  });
});
