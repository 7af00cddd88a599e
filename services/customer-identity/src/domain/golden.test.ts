import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { SourceRecordSchema } from "@retail/contracts/retail/customer/v1/customer_pb";
import { describe, expect, it } from "vitest";
import type { LinkedSource } from "./customer.js";
import { changedAttributes, goldenRecord, keysOfRecord } from "./golden.js";
import { defaultSourceSystems } from "./source-systems.js";

const directory = (id: string) => defaultSourceSystems.find((s) => s.id === id);

function linked(record: MessageInitShape<typeof SourceRecordSchema>, observed: string): LinkedSource {
  return {
    record: create(SourceRecordSchema, {
      sourceId: "1",
      ...record,
      observedTime: timestampFromDate(new Date(observed)),
    }),
    linkedAt: new Date(observed),
  };
}

describe("golden record survivorship", () => {
  it("takes each attribute from the most trusted source that has it and records the winner", () => {
    const golden = goldenRecord(
      [
        linked({ sourceSystem: "shopify-web", email: "Jane@Example.com", givenName: "Janie" }, "2026-05-01"),
        linked({ sourceSystem: "service-desk", givenName: "Jane", familyName: "Doe" }, "2026-01-01"),
      ],
      directory,
    );
    expect(golden).toMatchObject({ email: "jane@example.com", givenName: "Jane", familyName: "Doe" });
    expect(golden.winners).toEqual({
      email: "shopify-web",
      given_name: "service-desk",
      family_name: "service-desk",
    });
  });

  it("breaks a trust tie with the most recent observation", () => {
    const golden = goldenRecord(
      [
        linked({ sourceSystem: "shopify-web", sourceId: "a", phone: "+14155552671" }, "2026-05-01"),
        linked({ sourceSystem: "mobile-app", sourceId: "b", phone: "(212) 555-0123" }, "2026-06-01"),
      ],
      directory,
    );
    expect(golden.phone).toBe("+12125550123");
    expect(golden.winners.phone).toBe("mobile-app");
  });

  it("uses per-attribute trust: the ERP's addresses beat the service desk's", () => {
    const golden = goldenRecord(
      [
        linked({ sourceSystem: "service-desk", addresses: [{ lines: ["1 Desk St"] }] }, "2026-06-01"),
        linked({ sourceSystem: "erp", addresses: [{ lines: ["9 Ledger Rd"] }] }, "2026-01-01"),
      ],
      directory,
    );
    expect(golden.addresses[0]?.lines).toEqual(["9 Ledger Rd"]);
  });

  it("names the attributes that changed between two golden records", () => {
    const before = goldenRecord([linked({ sourceSystem: "pos", email: "a@x.com" }, "2026-01-01")], directory);
    const after = goldenRecord(
      [linked({ sourceSystem: "pos", email: "a@x.com", familyName: "Doe" }, "2026-01-02")],
      directory,
    );
    expect(changedAttributes(before, after)).toEqual(["family_name"]);
  });
});

describe("marketplace relay addresses", () => {
  it("neither matches nor becomes the golden email", () => {
    const amazon = linked(
      { sourceSystem: "amazon", email: "x1@marketplace.example.net", phone: "+14155552671" },
      "2026-01-01",
    );
    expect(keysOfRecord(amazon.record, directory).map((k) => k.kind)).toEqual(["source", "phone"]);
    expect(goldenRecord([amazon], directory).email).toBe("");
  });
});
