import { createTestDatabase } from "@retail/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInboundJournal, type JournalEntry } from "./inbound-journal.js";

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let journal: ReturnType<typeof createInboundJournal>;
beforeAll(async () => {
  database = await createTestDatabase("inbound_journal");
  journal = createInboundJournal(database.db);
  await journal.ensureIndexes();
});
afterAll(async () => database?.drop());

const t0 = new Date("2026-11-28T10:00:00Z");
const entry = (n: number, extra: Partial<JournalEntry> = {}): JournalEntry => ({
  messageId: `m${n}`,
  endpoint: "/webhooks/shopify",
  channel: "shopify",
  channelMessageId: `wh${n}`,
  clientId: "shop",
  receivedAt: new Date(t0.getTime() + n * 1000),
  contentType: "application/json",
  headers: { "x-shopify-topic": "orders/create" },
  body: Buffer.from(`{"n":${n}}`),
  bodySize: 7,
  bodyTruncated: false,
  verification: "signature",
  status: 200,
  outcome: "{}",
  correlationId: `c${n}`,
  customerIds: [],
  erasedAt: undefined,
  replayOf: "",
  replayedBy: "",
  ...extra,
});

describe("the inbound journal", () => {
  it("lists newest first, by channel, failed only and since a time, a page at a time", async () => {
    for (let n = 1; n <= 6; n++)
      await journal.received(
        entry(n, { status: n % 2 === 0 ? 400 : 200, channel: n === 6 ? "stripe" : "shopify" }),
      );
    await journal.received(entry(7, { status: 0 }));
    const ids = async (filter: Parameters<typeof journal.list>[0], size = 2) => {
      const seen: string[] = [];
      let token = "";
      do {
        const page = await journal.list(filter, size, token);
        seen.push(...page.entries.map((e) => e.messageId));
        expect(page.entries.every((e) => e.body.length === 0)).toBe(true);
        token = page.nextPageToken;
      } while (token);
      return seen;
    };
    expect(await ids({})).toEqual(["m7", "m6", "m5", "m4", "m3", "m2", "m1"]);
    expect(await ids({ channel: "shopify", failedOnly: true })).toEqual(["m7", "m4", "m2"]);
    expect(await ids({ failedOnly: true, since: new Date(t0.getTime() + 3000) }, 1)).toEqual([
      "m7",
      "m6",
      "m4",
    ]);
  });

  it("completes a record, empties an erased customer's messages and forgets old ones", async () => {
    await journal.received(entry(20, { status: 0, customerIds: [] }));
    await journal.completed("m20", {
      clientId: "shop",
      verification: "signature",
      status: 200,
      outcome: '{"order":{"customerId":"cust-1"}}',
      customerIds: ["cust-1"],
    });
    expect(await journal.eraseCustomer("cust-1", t0)).toBe(1);
    const erased = await journal.get("m20");
    expect([erased?.body.length, erased?.outcome, erased?.erasedAt, erased?.status]).toEqual([
      0,
      "",
      t0,
      200,
    ]);
    const before = await journal.forget(new Date(t0.getTime() + 4500));
    expect(before).toBe(4);
    expect(await journal.get("m4")).toBeUndefined();
    expect((await journal.get("m5"))?.channelMessageId).toBe("wh5");
  });
});
