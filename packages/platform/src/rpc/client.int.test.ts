import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  GetStockPositionResponseSchema,
  InventoryService,
  ReleaseReservationResponseSchema,
} from "@retail/contracts/retail/inventory/v1/inventory_service_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../log/index.js";
import { freePort } from "../processes/index.js";
import { createRpcServer, type RpcServer, serve } from "../server/rpc-server.js";
import { until } from "../testing/index.js";
import { createServiceClient } from "./client.js";
import { callContextFrom, currentCallContext, runWithCallContext } from "./context.js";

const calls = new Map<string, number>();
const seen: Array<{ correlationId: string | undefined; traceId: string | undefined }> = [];
let server: RpcServer;

/** Fails the first two calls per key with UNAVAILABLE, as a peer does while it restarts. */
function flaky(key: string): void {
  const n = (calls.get(key) ?? 0) + 1;
  calls.set(key, n);
  if (n <= 2) throw new ConnectError("warming up", Code.Unavailable);
}

beforeAll(async () => {
  server = createRpcServer({
    name: "client-test",
    port: 0,
    host: "127.0.0.1",
    logger: createLogger({ service: "client-test", level: "silent" }),
    services: [
      serve(InventoryService, {
        getStockPosition(request) {
          const context = currentCallContext();
          seen.push({ correlationId: context?.correlationId, traceId: context?.trace.traceId });
          if (request.sku === "slow") return new Promise(() => {});
          return create(GetStockPositionResponseSchema, { position: { sku: request.sku } });
        },
        releaseReservation(request) {
          flaky(`release:${request.reservationId}:${request.requestId}`);
          return create(ReleaseReservationResponseSchema, {
            reservation: { reservationId: request.reservationId },
          });
        },
      }),
    ],
  });
  await server.start();
});
afterAll(() => server.stop(500));

describe("a peer that goes away mid-call", () => {
  it("is UNAVAILABLE to the caller (which may retry), not CANCELED, when the caller cancelled nothing", async () => {
    const dying = createRpcServer({
      name: "dying",
      port: 0,
      host: "127.0.0.1",
      logger: createLogger({ service: "dying", level: "silent" }),
      services: [serve(InventoryService, { getStockPosition: () => new Promise(() => {}) })],
    });
    await dying.start();
    const client = createServiceClient(InventoryService, {
      baseUrl: `http://127.0.0.1:${dying.port}`,
      maxAttempts: 1,
      timeoutMs: 10_000,
    });
    const call = client.getStockPosition({ sku: "SKU-1", locationId: "DC-1" }).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await dying.stop(0); // the grace is over at once: the call's stream is cancelled by the server
    const error = ConnectError.from(await call);
    expect(error.code).toBe(Code.Unavailable);
    // The caller's own abort stays a cancellation.
    const abort = new AbortController();
    const own = createServiceClient(InventoryService, { baseUrl: `http://127.0.0.1:${server.port}` })
      .getStockPosition({ sku: "slow", locationId: "DC-1" }, { signal: abort.signal })
      .catch((e: unknown) => e);
    abort.abort();
    expect(ConnectError.from(await own).code).toBe(Code.Canceled);
  });
});

describe("service client", () => {
  const baseUrl = () => `http://127.0.0.1:${server.port}`;

  it("reaches a peer within seconds of it listening again after a long absence", async () => {
    const port = await freePort();
    const client = createServiceClient(InventoryService, {
      baseUrl: `http://127.0.0.1:${port}`,
      maxAttempts: 1,
    });
    // Away for a while: the channel has failed to connect many times over.
    const started = Date.now();
    while (Date.now() - started < 6_000) {
      const error = await client.getStockPosition({ sku: "SKU-1", locationId: "DC-1" }).catch((e) => e);
      expect(ConnectError.from(error).code).toBe(Code.Unavailable);
      await new Promise((r) => setTimeout(r, 50));
    }
    const back = createRpcServer({
      name: "back",
      port,
      host: "127.0.0.1",
      logger: createLogger({ service: "back", level: "silent" }),
      services: [serve(InventoryService, { getStockPosition: () => ({ position: { sku: "SKU-1" } }) })],
    });
    await back.start();
    const listening = Date.now();
    await until(
      async () => {
        const answer = await client.getStockPosition({ sku: "SKU-1", locationId: "DC-1" });
        expect(answer.position?.sku).toBe("SKU-1");
      },
      { timeout: 10_000, interval: 50 },
    );
    expect(Date.now() - listening).toBeLessThan(2_500);
    await back.stop(100);
  });

  it("retries UNAVAILABLE for a call that carries a request id", async () => {
    const client = createServiceClient(InventoryService, {
      baseUrl: baseUrl(),
      maxAttempts: 3,
      backoffMs: 5,
    });
    const response = await client.releaseReservation({ requestId: "r-1", reservationId: "res-1" });
    expect(response.reservation?.reservationId).toBe("res-1");
    expect(calls.get("release:res-1:r-1")).toBe(3);
  });

  it("does not retry a call that is not safe to repeat", async () => {
    const client = createServiceClient(InventoryService, {
      baseUrl: baseUrl(),
      maxAttempts: 3,
      backoffMs: 5,
    });
    await expect(client.releaseReservation({ reservationId: "res-2" })).rejects.toMatchObject({
      code: Code.Unavailable,
    });
    expect(calls.get("release:res-2:")).toBe(1);
  });

  it("applies its default deadline", async () => {
    const client = createServiceClient(InventoryService, {
      baseUrl: baseUrl(),
      timeoutMs: 150,
    });
    const started = Date.now();
    await expect(client.getStockPosition({ sku: "slow", locationId: "DC-1" })).rejects.toMatchObject({
      code: Code.DeadlineExceeded,
    });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("carries the caller's correlation id and trace to the callee", async () => {
    const client = createServiceClient(InventoryService, { baseUrl: baseUrl() });
    const caller = callContextFrom("corr-7", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    await runWithCallContext(caller, () => client.getStockPosition({ sku: "SKU-1", locationId: "DC-1" }));
    expect(seen.at(-1)).toEqual({ correlationId: "corr-7", traceId: "4bf92f3577b34da6a3ce929d0e0e4736" });
  });
});
