// The TaxJar adapter against a small real HTTP server that answers as TaxJar does (its own published
// sample), times out, and fails.
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TaxEngineUnavailable, type TaxQuoteRequest } from "../../app/ports.js";
import { createTaxJarEngine, taxJarLineTaxes } from "./taxjar.js";

const sample = JSON.parse(
  readFileSync(new URL("../../../test/fixtures/taxjar/taxes-for-order.json", import.meta.url), "utf8"),
) as { request: { body: Record<string, unknown> }; response: Record<string, unknown> };

let mode: "answer" | "hang" | "fail" = "answer";
const received: Array<{ auth: string | undefined; body: Record<string, unknown> }> = [];
let server: Server;
let baseUrl: string;

const read = (request: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let text = "";
    request.on("data", (chunk) => {
      text += chunk;
    });
    request.on("end", () => resolve(text));
  });

beforeAll(async () => {
  server = createServer(async (request, response) => {
    const body = JSON.parse(await read(request)) as Record<string, unknown>;
    received.push({ auth: request.headers.authorization, body });
    if (mode === "hang") return; // never answers
    if (mode === "fail") {
      response.writeHead(500).end('{"error":"Internal Server Error"}');
      return;
    }
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(sample.response));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

// The sample's order: one line of 15.00 shipped within New Jersey, 1.50 shipping.
const order: TaxQuoteRequest = {
  currency: "USD",
  shipTo: {
    $typeName: "retail.common.v1.PostalAddress",
    lines: ["1 Main St"],
    locality: "Wyckoff",
    administrativeArea: "NJ",
    postalCode: "07446",
    regionCode: "US",
    recipient: "",
  },
  shipping: 150n,
  lines: [{ lineId: "1", quantity: 1n, unitPrice: 1_500n, discount: 0n, taxCode: "standard" }],
};
const engine = () =>
  createTaxJarEngine({
    baseUrl,
    apiToken: "tj-test-token",
    timeoutMs: 300,
    fallback: { MARKETPLACE: "refuse", "*": "rate_table" },
  });

describe("TaxJar /v2/taxes", () => {
  it("sends the order as TaxJar takes it and reads each line's tax exactly", async () => {
    mode = "answer";
    const taxes = await engine().quote(order);
    expect(taxes.get("1")).toBe(105n); // 15.00 taxable at New Jersey's 7 %
    const [call] = received.splice(0);
    expect(call?.auth).toBe("Bearer tj-test-token");
    const {
      from_country: _c,
      from_zip: _z,
      from_state: _s,
      exemption_type: _e,
      ...documented
    } = sample.request.body;
    expect(Object.keys(call?.body ?? {})).toEqual(expect.arrayContaining(Object.keys(documented)));
    expect(call?.body).toMatchObject({
      to_country: "US",
      to_zip: "07446",
      to_state: "NJ",
      amount: 15,
      shipping: 1.5,
    });
    expect(call?.body.line_items).toEqual([{ id: "1", quantity: 1, unit_price: 15, discount: 0 }]);
  });

  it("takes tax_collectable where the answer gives it", () => {
    const answer = { tax: { breakdown: { line_items: [{ id: "7", tax_collectable: 1.16 }] } } };
    expect(taxJarLineTaxes(answer, "USD").get("7")).toBe(116n);
  });

  it("gives up at the deadline when TaxJar does not answer", async () => {
    mode = "hang";
    const started = Date.now();
    const error = await engine()
      .quote(order)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaxEngineUnavailable);
    expect((error as Error).message).toBe("no answer within 300 ms");
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("treats a failed call as no answer, and says which fallback each channel takes", async () => {
    mode = "fail";
    await expect(engine().quote(order)).rejects.toThrow("answered HTTP 500");
    expect(engine().fallbackFor(Channel.MARKETPLACE)).toBe("refuse");
    expect(engine().fallbackFor(Channel.WEB)).toBe("rate_table");
  });
});
