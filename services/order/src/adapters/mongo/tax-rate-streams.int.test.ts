// Tax rates and store jurisdictions on the real store: of concurrent first rates exactly one wins,
// a superseded rate keeps its history, and a location keeps the newest version it was told.
import { createStreamStore, internalRequest } from "@retail/platform/store";
import { createTestDatabase } from "@retail/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTaxRate, supersedeTaxRate, taxRateAt } from "../../app/tax-rates.js";
import { RuleViolated } from "../../domain/errors.js";
import { createLocationDirectory } from "./location-directory.js";
import { createTaxRateStreams } from "./tax-rate-streams.js";

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let deps: Parameters<typeof createTaxRate>[0];

beforeAll(async () => {
  database = await createTestDatabase("order_tax");
  const store = createStreamStore(database.db);
  await store.ensureIndexes();
  deps = {
    taxRates: createTaxRateStreams(database.db, store),
    clock: { now: () => new Date() },
    caller: () => "test",
  };
});
afterAll(() => database?.drop());

describe("tax rate streams", () => {
  it("lets exactly one of ten concurrent first rates of a jurisdiction and code in", async () => {
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        createTaxRate(deps, {
          request: internalRequest(`c-${i}`),
          jurisdiction: "US-NV",
          taxCode: "standard",
          ratePpm: BigInt(60_000 + i),
          effectiveTime: new Date(0),
        }),
      ),
    );
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
    for (const o of outcomes.filter((o) => o.status === "rejected")) {
      expect((o as PromiseRejectedResult).reason).toBeInstanceOf(RuleViolated);
    }
    expect(
      (await deps.taxRates.list({ jurisdiction: "US-NV", taxCode: "", includeSuperseded: true }, 100, ""))
        .rates,
    ).toHaveLength(1);
  });

  it("keeps the history of superseded rates and answers the rate in force at any moment", async () => {
    await createTaxRate(deps, {
      request: internalRequest("wa-1"),
      jurisdiction: "US-WA",
      taxCode: "standard",
      ratePpm: 65_000n,
      effectiveTime: new Date("2026-01-01"),
    });
    await supersedeTaxRate(deps, {
      request: internalRequest("wa-2"),
      taxRateId: "US-WA.standard.1",
      ratePpm: 66_000n,
      effectiveTime: new Date("2026-07-01"),
    });
    expect((await taxRateAt(deps, "US-WA", "standard", new Date("2026-03-01")))?.ratePpm).toBe(65_000n);
    expect((await taxRateAt(deps, "US-WA", "standard", new Date("2026-08-01")))?.ratePpm).toBe(66_000n);
    expect(await taxRateAt(deps, "US-WA", "standard", new Date("2025-12-31"))).toBeUndefined();
    const filter = { jurisdiction: "US-WA", taxCode: "standard", includeSuperseded: true };
    const first = await deps.taxRates.list(filter, 1, "");
    const second = await deps.taxRates.list(filter, 1, first.nextPageToken);
    expect([...first.rates, ...second.rates].map((r) => [r.taxRateId, r.supersededBy])).toEqual([
      ["US-WA.standard.1", "US-WA.standard.2"],
      ["US-WA.standard.2", ""],
    ]);
    expect(second.nextPageToken).toBe("");
  });
});

describe("location directory", () => {
  it("keeps the newest version of a location whatever order its events come in, and asks inventory only for strangers", async () => {
    let fetched = 0;
    const directory = createLocationDirectory(database.db, async () => {
      fetched++;
      return [
        {
          $typeName: "retail.inventory.v1.Location",
          locationId: "ST-X",
          type: 1,
          name: "",
          regionCode: "US",
          address: {
            $typeName: "retail.common.v1.PostalAddress",
            lines: [],
            locality: "",
            administrativeArea: "OR",
            postalCode: "",
            regionCode: "US",
            recipient: "",
          },
        },
      ];
    });
    await directory.save({ locationId: "ST-1", jurisdiction: "US-CA", version: 3n });
    await directory.save({ locationId: "ST-1", jurisdiction: "US-NY", version: 2n });
    expect(await directory.jurisdictionOf("ST-1")).toEqual({ known: true, jurisdiction: "US-CA" });
    expect(fetched).toBe(0);
    expect(await directory.jurisdictionOf("ST-X")).toEqual({ known: true, jurisdiction: "US-OR" });
    expect(await directory.jurisdictionOf("ST-X")).toEqual({ known: true, jurisdiction: "US-OR" });
    expect(fetched).toBe(1);
  });
});
