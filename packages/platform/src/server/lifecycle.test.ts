import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../log/index.js";
import { createShutdown } from "./lifecycle.js";

describe("createShutdown", () => {
  it("runs every step once, in order, past a failing one, and reports the failure", async () => {
    const order: string[] = [];
    const lines: string[] = [];
    const logger = createLogger({
      service: "test",
      destination: new Writable({ write: (chunk, _e, done) => done(void lines.push(String(chunk))) }),
    });
    const shutdown = createShutdown(logger, [
      { name: "rpc server", run: async () => order.push("server") },
      {
        name: "consumers",
        run: async () => {
          order.push("consumers");
          throw new Error("channel already closed");
        },
      },
      { name: "outbox flush", run: async () => order.push("outbox") },
    ]);
    const [first, second] = await Promise.all([shutdown(), shutdown()]);
    expect(order).toEqual(["server", "consumers", "outbox"]);
    expect(first).toBe(false);
    expect(second).toBe(false);
    expect(lines.join("")).toContain("channel already closed");
  });
});
