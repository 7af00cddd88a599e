import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type Client, Code } from "@connectrpc/connect";
import { BadRequestSchema, ErrorInfoSchema } from "@retail/contracts/google/rpc/error_details_pb";
import {
  CustomerCreatedSchema,
  CustomersMergedSchema,
  CustomerUpdatedSchema,
  MergeCandidateRaisedSchema,
  SourceRecordLinkedSchema,
} from "@retail/contracts/retail/customer/v1/customer_events_pb";
import { CustomerStatus, SourceRecordSchema } from "@retail/contracts/retail/customer/v1/customer_pb";
import {
  type CustomerIdentityService,
  MergeCustomersRequestSchema,
  UpsertFromSourceRequestSchema,
} from "@retail/contracts/retail/customer/v1/customer_service_pb";
import { requestOf } from "@retail/platform/store";
import { rejection, uniqueName, until } from "@retail/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mergeCustomers } from "../src/app/merge-customers.js";
import { upsertFromSource } from "../src/app/upsert-from-source.js";
import type { RunningCustomerIdentity } from "../src/compose.js";
import { createHarness, type EventCapture } from "./harness.js";

const harness = createHarness("resolution");
let client: Client<typeof CustomerIdentityService>;
let running: RunningCustomerIdentity;
let capture: EventCapture;

beforeAll(async () => {
  ({ client, running } = await harness.start());
  capture = await harness.capture();
});
afterAll(() => harness.stopAll());

type Record = MessageInitShape<typeof SourceRecordSchema>;
let counter = 0;
/** A unique person per call, so tests never match each other's customers. */
function person() {
  const n = `${Date.now() % 100_000}${++counter}`;
  return {
    email: `jane.doe.${n}@example.com`,
    phone: `+1415555${String(1000 + (counter % 9000)).padStart(4, "0")}`,
    loyalty: `LY${n}`,
    family: `Doe${n}`,
  };
}
function upsert(record: Record, requestId = uniqueName("rq")) {
  return client.upsertFromSource({ requestId, sourceRecord: record });
}

describe("identity resolution", () => {
  it("resolves a web registration, a store purchase with a loyalty number and a service desk change into one customer", async () => {
    const p = person();
    const web = await upsert({
      sourceSystem: "shopify-web",
      sourceId: uniqueName("web"),
      email: p.email.toUpperCase(),
      givenName: "Janie",
      familyName: p.family,
      observedTime: timestampFromDate(new Date("2026-01-10T10:00:00Z")),
    });
    expect(web.created).toBe(true);
    const pos = await upsert({
      sourceSystem: "pos",
      sourceId: uniqueName("member"),
      email: p.email,
      phone: p.phone.replace("+1415", "(415) ").replace(/(\d{3})(\d{4})$/, "$1-$2"),
      loyaltyNumber: p.loyalty.toLowerCase(),
      observedTime: timestampFromDate(new Date("2026-02-01T15:00:00Z")),
    });
    const desk = await upsert({
      sourceSystem: "service-desk",
      sourceId: uniqueName("ticket"),
      phone: p.phone,
      givenName: "Jane",
      familyName: p.family,
      addresses: [
        { lines: ["1 Invoice Lane"], locality: "Springfield", postalCode: "12345", regionCode: "US" },
      ],
      observedTime: timestampFromDate(new Date("2026-03-01T09:00:00Z")),
    });
    expect([pos.created, desk.created]).toEqual([false, false]);
    expect(
      new Set([web.customer?.customerId, pos.customer?.customerId, desk.customer?.customerId]).size,
    ).toBe(1);

    const { customer } = await client.getCustomer({ customerId: web.customer?.customerId ?? "" });
    expect(customer?.sourceLinks.map((l) => l.sourceSystem).sort()).toEqual([
      "pos",
      "service-desk",
      "shopify-web",
    ]);
    expect(customer).toMatchObject({
      email: p.email,
      phone: p.phone,
      givenName: "Jane",
      loyaltyNumber: p.loyalty,
      status: CustomerStatus.ACTIVE,
    });
    expect(customer?.attributeSources).toMatchObject({
      given_name: "service-desk",
      email: "pos",
      addresses: "service-desk",
    });
    for (const key of [
      { case: "email", value: p.email.toUpperCase() },
      { case: "phone", value: p.phone },
      { case: "loyaltyNumber", value: p.loyalty },
    ] as const) {
      const found = await client.lookupCustomer({ key });
      expect(found.customer?.customerId, key.case).toBe(customer?.customerId);
    }

    const bySource = await client.lookupCustomer({
      key: {
        case: "source",
        value: {
          sourceSystem: "service-desk",
          sourceId: customer?.sourceLinks.find((l) => l.sourceSystem === "service-desk")?.sourceId ?? "",
        },
      },
    });
    expect(bySource.customer?.customerId).toBe(customer?.customerId);

    await until(() => {
      const id = customer?.customerId;
      expect(capture.of(CustomerCreatedSchema).filter((e) => e.customer?.customerId === id)).toHaveLength(1);
      expect(capture.of(SourceRecordLinkedSchema).filter((e) => e.customerId === id)).toHaveLength(3);
      const updates = capture.of(CustomerUpdatedSchema).filter((e) => e.customer?.customerId === id);
      expect(updates.flatMap((u) => u.changedFields)).toEqual(
        expect.arrayContaining(["phone", "given_name", "loyalty_number"]),
      );
    });
  });

  it("registers the same email from two channels at once as one customer", async () => {
    const emails = Array.from({ length: 8 }, () => person().email);
    const outcomes = await Promise.all(
      emails.flatMap((email) => [
        upsert({ sourceSystem: "shopify-web", sourceId: uniqueName("w"), email }),
        upsert({ sourceSystem: "mobile-app", sourceId: uniqueName("a"), email: email.toUpperCase() }),
      ]),
    );
    for (let i = 0; i < emails.length; i++) {
      const pair = outcomes.slice(2 * i, 2 * i + 2);
      expect(pair[0]?.customer?.customerId).toBe(pair[1]?.customer?.customerId);
      expect(pair.filter((o) => o.created)).toHaveLength(1);
      expect(pair[0]?.customer?.sourceLinks ?? pair[1]?.customer?.sourceLinks).toBeDefined();
    }
  });

  it("answers a repeated request with its first outcome and refuses the id for another record", async () => {
    const p = person();
    const record = { sourceSystem: "pos", sourceId: uniqueName("m"), email: p.email, familyName: p.family };
    const first = await upsert(record, "repeat-1");
    const again = await upsert(record, "repeat-1");
    expect(again.created).toBe(true);
    expect(again.customer?.customerId).toBe(first.customer?.customerId);
    expect(again.customer?.version).toBe(first.customer?.version);
    const reused = await rejection(upsert({ ...record, familyName: "Other" }, "repeat-1"));
    expect(reused.code).toBe(Code.InvalidArgument);
    expect(reused.findDetails(ErrorInfoSchema)[0]?.reason).toBe("IDEMPOTENCY_KEY_REUSED");
    // The same record sent again under a new request id changes nothing either.
    const resent = await upsert(record);
    expect(resent.customer?.version).toBe(first.customer?.version);
  });

  it("does not let an older observation from a source overwrite a newer one", async () => {
    const p = person();
    const sourceId = uniqueName("m");
    const newer = await upsert({
      sourceSystem: "pos",
      sourceId,
      email: p.email,
      familyName: "Newer",
      observedTime: timestampFromDate(new Date("2026-06-01T00:00:00Z")),
    });
    const older = await upsert({
      sourceSystem: "pos",
      sourceId,
      email: p.email,
      familyName: "Older",
      observedTime: timestampFromDate(new Date("2026-05-01T00:00:00Z")),
    });
    expect(older.customer?.familyName).toBe("Newer");
    expect(older.customer?.version).toBe(newer.customer?.version);
  });

  it("links a record matching two customers to the best match and raises a candidate instead of guessing", async () => {
    const p = person();
    const byEmail = await upsert({
      sourceSystem: "shopify-web",
      sourceId: uniqueName("w"),
      email: p.email,
      familyName: p.family,
    });
    const byPhone = await upsert({
      sourceSystem: "pos",
      sourceId: uniqueName("m"),
      phone: p.phone,
      familyName: p.family,
    });
    const both = await upsert({
      sourceSystem: "mobile-app",
      sourceId: uniqueName("a"),
      email: p.email,
      phone: p.phone,
    });
    expect(both.customer?.customerId).toBe(byEmail.customer?.customerId);
    expect(both.mergeCandidateId).not.toBe("");

    const listed = await client.listMergeCandidates({ pageSize: 500 });
    const candidate = listed.mergeCandidates.find((c) => c.candidateId === both.mergeCandidateId);
    expect(candidate?.customerIds.sort()).toEqual(
      [byEmail.customer?.customerId, byPhone.customer?.customerId].sort(),
    );
    expect(candidate?.matchedKeys.sort()).toEqual(["email", "phone"]);
    await until(() =>
      expect(capture.of(MergeCandidateRaisedSchema).map((e) => e.mergeCandidate?.candidateId)).toContain(
        both.mergeCandidateId,
      ),
    );

    // A reviewer merges them; the merged-away id keeps resolving to the survivor.
    const survivorId = byEmail.customer?.customerId ?? "";
    const mergedId = byPhone.customer?.customerId ?? "";
    const merged = await client.mergeCustomers({
      requestId: uniqueName("merge"),
      survivorCustomerId: survivorId,
      mergedCustomerIds: [mergedId],
      mergeCandidateId: both.mergeCandidateId,
    });
    expect(merged.customer?.sourceLinks).toHaveLength(3);
    expect(merged.customer?.phone).toBe(p.phone);
    expect((await client.getCustomer({ customerId: mergedId })).customer?.customerId).toBe(survivorId);
    expect(
      (await client.lookupCustomer({ key: { case: "phone", value: p.phone } })).customer?.customerId,
    ).toBe(survivorId);
    const after = await client.listMergeCandidates({ pageSize: 500 });
    expect(after.mergeCandidates.map((c) => c.candidateId)).not.toContain(both.mergeCandidateId);
    await until(() =>
      expect(capture.of(CustomersMergedSchema).some((e) => e.survivorCustomerId === survivorId)).toBe(true),
    );

    // It was wrong after all: the unmerge gives the store member its own customer back.
    const split = await client.unmergeCustomer({
      requestId: uniqueName("unmerge"),
      customerId: survivorId,
      restoredCustomerId: mergedId,
    });
    expect(split.restoredCustomer).toMatchObject({
      customerId: mergedId,
      status: CustomerStatus.ACTIVE,
      phone: p.phone,
    });
    expect(split.customer?.sourceLinks.map((l) => l.sourceSystem).sort()).toEqual([
      "mobile-app",
      "shopify-web",
    ]);
    expect(
      (await client.lookupCustomer({ key: { case: "phone", value: p.phone } })).customer?.customerId,
    ).toBe(mergedId);
    const again = await rejection(
      client.unmergeCustomer({
        requestId: uniqueName("unmerge"),
        customerId: survivorId,
        restoredCustomerId: mergedId,
      }),
    );
    expect(again.code).toBe(Code.FailedPrecondition);
    expect(again.findDetails(ErrorInfoSchema)[0]?.reason).toBe("NOT_MERGED_INTO");
  });

  it("auto-merges customers a record ties together by email and loyalty number under the same family name", async () => {
    const p = person();
    const web = await upsert({
      sourceSystem: "shopify-web",
      sourceId: uniqueName("w"),
      email: p.email,
      familyName: p.family,
    });
    const store = await upsert({
      sourceSystem: "pos",
      sourceId: uniqueName("m"),
      loyaltyNumber: p.loyalty,
      familyName: p.family,
    });
    const app = await upsert({
      sourceSystem: "mobile-app",
      sourceId: uniqueName("a"),
      email: p.email,
      loyaltyNumber: p.loyalty,
      familyName: p.family,
    });
    expect(app.mergeCandidateId).toBe("");
    expect(app.customer?.customerId).toBe(web.customer?.customerId);
    expect(app.customer?.sourceLinks).toHaveLength(3);
    expect(
      (await client.getCustomer({ customerId: store.customer?.customerId ?? "" })).customer?.customerId,
    ).toBe(web.customer?.customerId);
  });

  it("keeps two people who share only a home phone apart and raises them for review", async () => {
    const parent = person();
    const kid = person();
    const first = await upsert({
      sourceSystem: "shopify-web",
      sourceId: uniqueName("w"),
      email: parent.email,
      phone: parent.phone,
    });
    const second = await upsert({
      sourceSystem: "mobile-app",
      sourceId: uniqueName("a"),
      email: kid.email,
      phone: parent.phone,
    });
    expect(second.created).toBe(true);
    expect(second.customer?.customerId).not.toBe(first.customer?.customerId);
    expect(second.mergeCandidateId).not.toBe("");
    const listed = await client.listMergeCandidates({ pageSize: 500 });
    expect(
      listed.mergeCandidates.find((c) => c.candidateId === second.mergeCandidateId)?.customerIds.sort(),
    ).toEqual([first.customer?.customerId, second.customer?.customerId].sort());
    // The phone stays with the customer who registered it first.
    expect(
      (await client.lookupCustomer({ key: { case: "phone", value: parent.phone } })).customer?.customerId,
    ).toBe(first.customer?.customerId);
  });

  it("raises a household's review candidate on the retry of a registration that stopped before raising it", async () => {
    const parent = person();
    const kid = person();
    const first = await upsert({
      sourceSystem: "shopify-web",
      sourceId: uniqueName("w"),
      email: parent.email,
      phone: parent.phone,
    });
    const record = {
      sourceSystem: "mobile-app",
      sourceId: uniqueName("a"),
      email: kid.email,
      phone: parent.phone,
    };
    const requestId = uniqueName("rq");
    const { deps } = running;
    const dying = {
      ...deps,
      candidates: { ...deps.candidates, raise: () => Promise.reject(new Error("process killed")) },
    };
    await expect(
      upsertFromSource(dying, {
        request: requestOf(
          UpsertFromSourceRequestSchema,
          create(UpsertFromSourceRequestSchema, { requestId, sourceRecord: record }),
        ),
        record: create(SourceRecordSchema, record),
      }),
    ).rejects.toThrow("process killed");
    const retried = await upsert(record, requestId);
    expect(retried.created).toBe(true);
    const listed = await client.listMergeCandidates({ pageSize: 500 });
    expect(
      listed.mergeCandidates.find((c) => c.candidateId === retried.mergeCandidateId)?.customerIds.sort(),
    ).toEqual([first.customer?.customerId, retried.customer?.customerId].sort());
  });

  it("pages through open merge candidates, oldest first", async () => {
    const raised: string[] = [];
    for (let i = 0; i < 3; i++) {
      const p = person();
      await upsert({ sourceSystem: "shopify-web", sourceId: uniqueName("w"), email: p.email });
      await upsert({ sourceSystem: "pos", sourceId: uniqueName("m"), phone: p.phone });
      const both = await upsert({
        sourceSystem: "mobile-app",
        sourceId: uniqueName("a"),
        email: p.email,
        phone: p.phone,
      });
      raised.push(both.mergeCandidateId);
    }
    const seen: string[] = [];
    let pageToken = "";
    do {
      const page = await client.listMergeCandidates({ pageSize: 2, pageToken });
      expect(page.mergeCandidates.length).toBeLessThanOrEqual(2);
      seen.push(...page.mergeCandidates.map((c) => c.candidateId));
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.filter((id) => raised.includes(id))).toEqual(raised);
    const bad = await rejection(client.listMergeCandidates({ pageToken: "not-a-token" }));
    expect(bad.findDetails(BadRequestSchema)[0]?.fieldViolations[0]?.field).toBe("page_token");
  });

  it("finishes a merge interrupted between the merged customer's stream and the survivor's when it is retried", async () => {
    const a = person();
    const b = person();
    const survivor = await upsert({ sourceSystem: "shopify-web", sourceId: uniqueName("w"), email: a.email });
    const merged = await upsert({ sourceSystem: "pos", sourceId: uniqueName("m"), email: b.email });
    const survivorId = survivor.customer?.customerId ?? "";
    const mergedId = merged.customer?.customerId ?? "";
    const requestId = uniqueName("merge");
    const asked = { requestId, survivorCustomerId: survivorId, mergedCustomerIds: [mergedId] };
    // What the service's handler makes of the request, as the retry through the RPC will be made of.
    const request = requestOf(MergeCustomersRequestSchema, create(MergeCustomersRequestSchema, asked));
    const command = { request, survivorId, mergedIds: [mergedId], candidateId: "" };
    // The process dies after the merged customer's stream took the merge, before the survivor's did.
    const { deps } = running;
    const crashing = {
      ...deps,
      streams: {
        ...deps.streams,
        append: (...args: Parameters<typeof deps.streams.append>) =>
          args[0] === survivorId ? Promise.reject(new Error("process killed")) : deps.streams.append(...args),
      },
    };
    await expect(mergeCustomers(crashing, command)).rejects.toThrow("process killed");
    expect((await client.getCustomer({ customerId: mergedId })).customer?.customerId).toBe(survivorId);

    const retried = await client.mergeCustomers(asked);
    expect(retried.customer?.sourceLinks.map((l) => l.sourceSystem).sort()).toEqual(["pos", "shopify-web"]);
    const again = await client.mergeCustomers(asked);
    expect(again.customer?.version).toBe(retried.customer?.version);
  });

  it("refuses a merge of a customer into itself and of unknown customers", async () => {
    const p = person();
    const a = await upsert({ sourceSystem: "pos", sourceId: uniqueName("m"), email: p.email });
    const id = a.customer?.customerId ?? "";
    const self = await rejection(
      client.mergeCustomers({ requestId: uniqueName("m"), survivorCustomerId: id, mergedCustomerIds: [id] }),
    );
    expect(self.code).toBe(Code.FailedPrecondition);
    const unknown = await rejection(
      client.mergeCustomers({
        requestId: uniqueName("m"),
        survivorCustomerId: id,
        mergedCustomerIds: ["no-such-customer"],
      }),
    );
    expect(unknown.code).toBe(Code.NotFound);
    expect((await rejection(client.getCustomer({ customerId: "no-such-customer" }))).code).toBe(
      Code.NotFound,
    );
    expect(
      (await rejection(client.lookupCustomer({ key: { case: "email", value: "nobody@example.com" } }))).code,
    ).toBe(Code.NotFound);
  });

  it("refuses bad records with a violation per field and stores nothing", async () => {
    const cases: Array<[Record, string, RegExp]> = [
      [
        { sourceSystem: "pos", sourceId: "x1", email: "not-an-email" },
        "source_record.email",
        /email address/,
      ],
      [{ sourceSystem: "pos", sourceId: "x2", phone: "12" }, "source_record.phone", /valid phone/],
      [
        { sourceSystem: "fax-machine", sourceId: "x3", email: "a@example.com" },
        "source_record.source_system",
        /unknown source system/,
      ],
      [{ sourceSystem: "pos", sourceId: "x4" }, "source_record", /at least one of/],
      [{ sourceSystem: "pos", sourceId: "", email: "a@example.com" }, "source_record.source_id", /required/],
    ];
    for (const [record, field, description] of cases) {
      const error = await rejection(upsert(record));
      expect(error.code, field).toBe(Code.InvalidArgument);
      const violations = error.findDetails(BadRequestSchema)[0]?.fieldViolations ?? [];
      expect(violations.find((v) => v.field === field)?.description, field).toMatch(description);
    }
    const missingId = await rejection(
      client.upsertFromSource({
        requestId: "",
        sourceRecord: { sourceSystem: "pos", sourceId: "y", email: "a@example.com" },
      }),
    );
    expect(missingId.findDetails(BadRequestSchema)[0]?.fieldViolations.map((v) => v.field)).toEqual([
      "request_id",
    ]);
    expect(
      (
        await rejection(
          client.lookupCustomer({ key: { case: "source", value: { sourceSystem: "pos", sourceId: "x1" } } }),
        )
      ).code,
    ).toBe(Code.NotFound);
  });
});
