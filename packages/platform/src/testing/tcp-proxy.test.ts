import { connect, createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.js";

let echo: Server;
let proxy: TcpProxy;

beforeAll(async () => {
  echo = createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
  const address = echo.address();
  if (!address || typeof address === "string") throw new Error("no port");
  proxy = await startTcpProxy({ host: "127.0.0.1", port: address.port });
});
afterAll(async () => {
  await proxy.close();
  await new Promise((resolve) => echo.close(resolve));
});

/** Sends `chunks` one by one through the proxy to the echo server; the text echoed back and how long it took. */
async function roundTrip(chunks: readonly string[]): Promise<{ text: string; ms: number }> {
  const socket = connect({ host: "127.0.0.1", port: proxy.port });
  await new Promise((resolve) => socket.once("connect", resolve));
  const expected = chunks.join("").length;
  const started = performance.now();
  let text = "";
  const done = new Promise<void>((resolve) =>
    socket.on("data", (chunk: Buffer) => {
      text += String(chunk);
      if (text.length >= expected) resolve();
    }),
  );
  for (const chunk of chunks) socket.write(chunk);
  await done;
  socket.destroy();
  return { text, ms: performance.now() - started };
}

describe("the fault proxy", () => {
  it("adds latency both ways while keeping every connection's bytes in order, and takes it away", async () => {
    const chunks = Array.from({ length: 50 }, (_, i) => `${i},`);
    proxy.setLatency(100);
    const slow = await roundTrip(chunks);
    expect(slow.text).toBe(chunks.join(""));
    expect(slow.ms).toBeGreaterThanOrEqual(195);
    proxy.setLatency(0);
    const fast = await roundTrip(chunks);
    expect(fast.text).toBe(chunks.join(""));
  });
});

describe("the fault proxy in front of replicas", () => {
  it("spreads connections over its targets in turn and passes over one that refuses", async () => {
    const servers = await Promise.all(
      ["a", "b"].map(async (name) => {
        const server = createServer((socket) => socket.end(name));
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        return server;
      }),
    );
    const ports = servers.map((s) => (s.address() as { port: number }).port);
    const balancer = await startTcpProxy(ports.map((port) => ({ host: "127.0.0.1", port })));
    const answer = () =>
      new Promise<string>((resolve) => {
        const socket = connect({ host: "127.0.0.1", port: balancer.port });
        let text = "";
        socket.on("data", (chunk: Buffer) => {
          text += String(chunk);
        });
        socket.on("close", () => resolve(text));
      });
    expect([await answer(), await answer(), await answer()].sort()).toEqual(["a", "a", "b"]);
    await new Promise((resolve) => servers[0]?.close(resolve));
    expect([await answer(), await answer()]).toEqual(["b", "b"]);
    await balancer.close();
    await new Promise((resolve) => servers[1]?.close(resolve));
  });
});
