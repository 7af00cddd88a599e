import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, scrubText } from "./index.js";

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, logger: createLogger({ service: "test", destination }) };
}

describe("createLogger", () => {
  it("never writes an email, phone, address or card number in clear", () => {
    const { lines, logger } = capture();
    logger.info(
      {
        customer: { email: "Jane.Doe+promo@example.com", phone: "+44 20 7946 0958", givenName: "Jane" },
        request: { order: { shipTo: { lines: ["1 High St"], postalCode: "N1 9GU" } } },
        payment: { cardNumber: "4242 4242 4242 4242" },
      },
      "upserted jane.doe@example.com paying with 4000056655665556 reachable on +1 415 555 2671",
    );
    logger.error({ err: new Error("duplicate customer jane.doe@example.com") }, "failed");
    const output = lines.join("");
    for (const secret of ["example.com", "7946", "Jane", "High St", "4242", "5556", "555 2671"]) {
      expect(output).not.toContain(secret);
    }
    expect(output).toContain("[redacted]");
    expect(output).toContain("[email]");
    expect(JSON.parse(lines[0] ?? "{}")).toMatchObject({ level: "info", name: "test" });
  });

  it("writes an error whose fields form a cycle (a driver's topology) as its type, message, plain fields and cause", () => {
    const { lines, logger } = capture();
    class MongoServerSelectionError extends Error {
      code = "ESERVERSELECTION";
      errmsg = "no server for jane.doe@example.com";
      reason: Record<string, unknown> = {};
    }
    const error = new MongoServerSelectionError("Server selection timed out after 10000 ms", {
      cause: new Error("connect ECONNREFUSED 127.0.0.1:27017"),
    });
    error.reason.topology = { servers: new Map([["a", error.reason]]), self: error.reason };
    logger.error({ err: error }, "rpc failed");
    const line = JSON.parse(lines[0] ?? "{}");
    expect(line.err).toMatchObject({
      type: "MongoServerSelectionError",
      message: "Server selection timed out after 10000 ms",
      code: "ESERVERSELECTION",
      errmsg: "no server for [email]",
      cause: { type: "Error", message: "connect ECONNREFUSED 127.0.0.1:27017" },
    });
    expect(line.err.reason).toBeUndefined();
  });

  it("redacts sensitive keys in arrays and six levels down, and leaves the caller's object as it was", () => {
    const { lines, logger } = capture();
    const request = {
      batch: [{ customer: { contact: { detail: { email: "deep@example.org" } } } }],
      orderId: "o-1",
    };
    const before = structuredClone(request);
    logger.info({ request, rows: [{ phone: "0207 946 0958" }] }, "imported");
    const line = JSON.parse(lines[0] ?? "{}");
    expect(line.request.batch[0].customer.contact.detail.email).toBe("[redacted]");
    expect(line.rows[0].phone).toBe("[redacted]");
    expect(line.request.orderId).toBe("o-1");
    expect(request).toEqual(before);
  });

  it("keeps ids and amounts readable", () => {
    expect(scrubText("order o-123 total 1999 USD for GTIN 4006381333931")).toBe(
      "order o-123 total 1999 USD for GTIN 4006381333931",
    );
  });
});
