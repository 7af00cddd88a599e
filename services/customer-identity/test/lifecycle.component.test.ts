import { Writable } from "node:stream";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type Client, Code } from "@connectrpc/connect";
import { BadRequestSchema, ErrorInfoSchema } from "@retail/contracts/google/rpc/error_details_pb";
import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import {
  BillingAccountLinkedSchema,
  ConsentChangedSchema,
  CustomerDeactivatedSchema,
  CustomerErasedSchema,
} from "@retail/contracts/retail/customer/v1/customer_events_pb";
import {
  ConsentPurpose,
  ConsentStatus,
  CustomerStatus,
} from "@retail/contracts/retail/customer/v1/customer_pb";
import type { CustomerIdentityService } from "@retail/contracts/retail/customer/v1/customer_service_pb";
import { createLogger } from "@retail/platform/log";
import { rejection, uniqueName, until } from "@retail/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { matchKeyId } from "../src/adapters/mongo/match-key-index.js";
import { localMatchKeySecret } from "../src/config.js";
import { createHarness, type EventCapture } from "./harness.js";

const harness = createHarness("lifecycle");
let client: Client<typeof CustomerIdentityService>;
let capture: EventCapture;
const logLines: string[] = [];

beforeAll(async () => {
  const destination = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  const logger = createLogger({ service: "customer-identity", level: "debug", destination });
  ({ client } = await harness.start({ CLAIM_GRACE_MS: "1000" }, logger));
  capture = await harness.capture();
});
afterAll(() => harness.stopAll());

async function register(email: string, extra: Record<string, unknown> = {}) {
  const { customer } = await client.upsertFromSource({
    requestId: uniqueName("rq"),
    sourceRecord: {
      sourceSystem: "shopify-web",
      sourceId: uniqueName("w"),
      email,
      familyName: "Doe",
      ...extra,
    },
  });
  return customer?.customerId ?? "";
}

function consent(sourceSystem: string, status: ConsentStatus, at: string) {
  return {
    purpose: ConsentPurpose.MARKETING_EMAIL,
    channel: Channel.WEB,
    status,
    sourceSystem,
    changeTime: timestampFromDate(new Date(at)),
  };
}

describe("consent, billing accounts, deactivation and erasure", () => {
  it("keeps the strictest recent opt-out across sources and ignores a statement sent twice", async () => {
    const customerId = await register(`${uniqueName("c")}@example.com`);
    const change = (c: ReturnType<typeof consent>, requestId = uniqueName("c")) =>
      client.updateConsent({ requestId, customerId, consent: c });
    await change(consent("shopify-web", ConsentStatus.GRANTED, "2026-03-01T00:00:00Z"));
    const denied = await change(consent("pos", ConsentStatus.DENIED, "2026-03-02T00:00:00Z"));
    expect(denied.customer?.consents).toHaveLength(1);
    expect(denied.customer?.consents[0]).toMatchObject({ status: ConsentStatus.DENIED, sourceSystem: "pos" });
    const webAgain = await change(consent("shopify-web", ConsentStatus.GRANTED, "2026-04-01T00:00:00Z"));
    expect(webAgain.customer?.consents[0]?.status).toBe(ConsentStatus.DENIED);
    const resent = await change(consent("shopify-web", ConsentStatus.GRANTED, "2026-04-01T00:00:00Z"));
    expect(resent.customer?.version).toBe(webAgain.customer?.version);
    const posOptIn = await change(consent("pos", ConsentStatus.GRANTED, "2026-05-01T00:00:00Z"));
    expect(posOptIn.customer?.consents[0]).toMatchObject({
      status: ConsentStatus.GRANTED,
      sourceSystem: "pos",
    });
    await until(() => {
      const changes = capture.of(ConsentChangedSchema).filter((e) => e.customerId === customerId);
      expect(changes.map((e) => [e.consent?.status, e.effectiveConsent?.status])).toEqual([
        [ConsentStatus.GRANTED, ConsentStatus.GRANTED],
        [ConsentStatus.DENIED, ConsentStatus.DENIED],
        [ConsentStatus.GRANTED, ConsentStatus.DENIED],
        [ConsentStatus.GRANTED, ConsentStatus.GRANTED],
      ]);
    });
    // A statement with no time of its own, retried: the same request, answered as the first time.
    const { changeTime: _, ...untimed } = consent("pos", ConsentStatus.GRANTED, "2026-05-01T00:00:00Z");
    const untimedId = uniqueName("c");
    const first = await change(untimed as ReturnType<typeof consent>, untimedId);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect((await change(untimed as ReturnType<typeof consent>, untimedId)).customer?.version).toBe(
      first.customer?.version,
    );

    const bad = await rejection(
      client.updateConsent({ requestId: "x", customerId, consent: { sourceSystem: "fax" } }),
    );
    expect(
      bad
        .findDetails(BadRequestSchema)[0]
        ?.fieldViolations.map((v) => v.field)
        .sort(),
    ).toEqual(["consent.channel", "consent.purpose", "consent.source_system", "consent.status"]);
  });

  it("links an ERP billing account with its credit limit, terms and tax ids", async () => {
    const customerId = await register(`${uniqueName("b")}@example.com`);
    const account = {
      accountId: "C-10042",
      erpSystem: "netsuite",
      creditLimit: { currencyCode: "USD", minorUnits: 500_000n },
      paymentTerms: "NET30",
      taxIds: [{ regionCode: "US", type: "EIN", value: "12-3456789" }],
    };
    const { customer } = await client.linkBillingAccount({
      requestId: uniqueName("b"),
      customerId,
      billingAccount: account,
    });
    expect(customer?.billingAccounts).toHaveLength(1);
    expect(customer?.billingAccounts[0]).toMatchObject({ accountId: "C-10042", paymentTerms: "NET30" });
    expect(customer?.billingAccounts[0]?.creditLimit?.minorUnits).toBe(500_000n);
    await until(() =>
      expect(capture.of(BillingAccountLinkedSchema).filter((e) => e.customerId === customerId)).toHaveLength(
        1,
      ),
    );
    const bad = await rejection(
      client.linkBillingAccount({
        requestId: uniqueName("b"),
        customerId,
        billingAccount: {
          ...account,
          creditLimit: { currencyCode: "usd", minorUnits: -1n },
          taxIds: [{ regionCode: "USA" }],
        },
      }),
    );
    expect(bad.findDetails(BadRequestSchema)[0]?.fieldViolations.map((v) => v.field)).toEqual([
      "billing_account.credit_limit.currency_code",
      "billing_account.credit_limit.minor_units",
      "billing_account.tax_ids[0].region_code",
      "billing_account.tax_ids[0].type",
      "billing_account.tax_ids[0].value",
    ]);
  });

  it("deactivates a customer once", async () => {
    const customerId = await register(`${uniqueName("d")}@example.com`);
    const first = await client.deactivateCustomer({
      requestId: uniqueName("d"),
      customerId,
      reason: "closed account",
    });
    expect(first.customer?.status).toBe(CustomerStatus.DEACTIVATED);
    const second = await client.deactivateCustomer({
      requestId: uniqueName("d"),
      customerId,
      reason: "again",
    });
    expect(second.customer?.version).toBe(first.customer?.version);
    await until(() =>
      expect(capture.of(CustomerDeactivatedSchema).filter((e) => e.customerId === customerId)).toHaveLength(
        1,
      ),
    );
  });

  it("erases a person everywhere here: no personal data in reads, lookups, stored history or logs", async () => {
    const email = `${uniqueName("erase")}@example.com`;
    const customerId = await register(email, {
      phone: "+14155550142",
      givenName: "Erin",
      loyaltyNumber: "ERASE0001",
    });
    await client.linkBillingAccount({
      requestId: uniqueName("b"),
      customerId,
      billingAccount: {
        accountId: "E-1",
        erpSystem: "sap",
        taxIds: [{ regionCode: "GB", type: "VAT", value: "GB999999973" }],
      },
    });
    const mongo = await harness.mongo();
    const db = mongo.db(harness.database);
    /** Every stored event body of the customer's stream, as raw bytes in one string. */
    const storedHistory = async () => {
      const commits = await db
        .collection("commits")
        .find({ streamId: `customer:${customerId}` })
        .toArray();
      const keys = await db.collection("match_keys").find({ customerId }).toArray();
      const bodies = commits.flatMap((c) =>
        (c.events as Array<{ data: { buffer: Uint8Array } }>).map((e) =>
          Buffer.from(e.data.buffer).toString("latin1"),
        ),
      );
      return bodies.join("|") + JSON.stringify(keys);
    };
    const before = await storedHistory();
    for (const secret of [email, "14155550142", "Erin", "ERASE0001", "GB999999973"])
      expect(before).toContain(secret);
    expect(logLines.length).toBeGreaterThan(0);

    const erased = await client.eraseCustomer({
      requestId: uniqueName("e"),
      customerId,
      reason: "GDPR Art. 17 request 2026-113",
    });
    expect(erased.customerId).toBe(customerId);

    const { customer } = await client.getCustomer({ customerId });
    expect(customer).toMatchObject({
      status: CustomerStatus.ERASED,
      email: "",
      phone: "",
      givenName: "",
      loyaltyNumber: "",
    });
    expect(customer?.sourceLinks).toEqual([]);
    expect((await rejection(client.lookupCustomer({ key: { case: "email", value: email } }))).code).toBe(
      Code.NotFound,
    );
    const change = await rejection(
      client.updateConsent({
        requestId: uniqueName("c"),
        customerId,
        consent: consent("pos", ConsentStatus.GRANTED, "2026-01-01T00:00:00Z"),
      }),
    );
    expect(change.code).toBe(Code.FailedPrecondition);
    expect(change.findDetails(ErrorInfoSchema)[0]?.metadata).toMatchObject({ status: "erased" });

    await until(() =>
      expect(capture.of(CustomerErasedSchema).find((e) => e.customerId === customerId)?.reason).toBe(
        "GDPR Art. 17 request 2026-113",
      ),
    );
    const after = await storedHistory();
    for (const secret of [email, "14155550142", "Erin", "ERASE0001", "GB999999973"]) {
      expect(after, secret).not.toContain(secret);
      expect(logLines.join(""), secret).not.toContain(secret);
    }
    // A second request is harmless and the person can register afresh as a new customer.
    await client.eraseCustomer({ requestId: uniqueName("e"), customerId });
    const again = await register(email);
    expect(again).not.toBe(customerId);
  });

  it("erases every customer merged into the one erased", async () => {
    const survivorEmail = `${uniqueName("s")}@example.com`;
    const mergedEmail = `${uniqueName("m")}@example.com`;
    const survivorId = await register(survivorEmail);
    const mergedId = await register(mergedEmail);
    await client.mergeCustomers({
      requestId: uniqueName("m"),
      survivorCustomerId: survivorId,
      mergedCustomerIds: [mergedId],
    });
    const erased = await client.eraseCustomer({ requestId: uniqueName("e"), customerId: mergedId });
    expect(erased.customerId).toBe(survivorId);
    for (const email of [survivorEmail, mergedEmail]) {
      expect((await rejection(client.lookupCustomer({ key: { case: "email", value: email } }))).code).toBe(
        Code.NotFound,
      );
    }
    expect((await client.getCustomer({ customerId: mergedId })).customer).toMatchObject({
      status: CustomerStatus.ERASED,
      email: "",
    });
    await until(() =>
      expect(capture.of(CustomerErasedSchema).map((e) => e.customerId)).toEqual(
        expect.arrayContaining([survivorId, mergedId]),
      ),
    );
  });

  it("frees a key left by a registration that crashed before writing its customer", async () => {
    const email = `${uniqueName("crash")}@example.com`;
    const mongo = await harness.mongo();
    await mongo
      .db(harness.database)
      .collection<{ _id: string; customerId: string; claimedAt: Date }>("match_keys")
      .insertOne({
        _id: matchKeyId(localMatchKeySecret, `email:${email}`),
        customerId: "crashed-registration",
        claimedAt: new Date(Date.now() - 5_000),
      });
    const customerId = await register(email);
    expect(customerId).not.toBe("crashed-registration");
    // The abandoned claim was found (the stored id is the keyed hash) and is now the new customer's.
    const claim = await mongo
      .db(harness.database)
      .collection<{ _id: string; customerId: string }>("match_keys")
      .findOne({ _id: matchKeyId(localMatchKeySecret, `email:${email}`) });
    expect(claim?.customerId).toBe(customerId);
    const found = await client.lookupCustomer({ key: { case: "email", value: email } });
    expect(found.customer?.customerId).toBe(customerId);
  });
});
