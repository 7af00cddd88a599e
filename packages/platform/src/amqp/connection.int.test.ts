import { Writable } from "node:stream";
import type { ConfirmChannel } from "amqplib";
import { expect, it } from "vitest";
import { createLogger } from "../log/index.js";
import { eventually, startBrokerProxy } from "../testing/index.js";
import { connectAmqp } from "./connection.js";

it("logs a channel setup cut short by a dropped connection instead of leaving an unhandled rejection, and runs it again on the next connect", async () => {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    service: "connection-test",
    level: "warn",
    destination: new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    }),
  });
  const { proxy, url } = await startBrokerProxy();
  const connection = connectAmqp(url, { name: "connection-test", logger });
  let attempts = 0;
  let ready = 0;
  const channel = connection.createChannel({
    name: "setup-cut-short",
    confirm: true,
    setup: async (ch: ConfirmChannel) => {
      attempts++;
      // The first setup's connection drops while it waits for the broker's answer.
      const answer = ch.checkExchange("amq.topic");
      if (attempts === 1) await proxy.cut();
      await answer;
      ready++;
    },
  });
  try {
    await eventually(() => lines.some((line) => line.channel === "setup-cut-short"));
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: "warn",
        channel: "setup-cut-short",
        msg: "amqp channel setup failed; it runs again on the next connect",
      }),
    );
    expect(ready).toBe(0);
    await proxy.restore();
    await eventually(() => ready === 1, 15_000);
    expect(attempts).toBe(2);
  } finally {
    await channel.close();
    await connection.close();
    await proxy.close();
  }
});
