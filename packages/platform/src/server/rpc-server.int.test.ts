import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { anyUnpack, FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { BadRequestSchema, ErrorInfoSchema } from "@retail/contracts/google/rpc/error_details_pb";
import { StatusSchema } from "@retail/contracts/google/rpc/status_pb";
import {
  Health,
  HealthCheckRequestSchema,
  HealthCheckResponse_ServingStatus,
  HealthCheckResponseSchema,
} from "@retail/contracts/grpc/health/v1/health_pb";
import {
  ServerReflectionRequestSchema,
  type ServerReflectionResponse,
  ServerReflectionResponseSchema,
} from "@retail/contracts/grpc/reflection/v1/reflection_pb";
import {
  GetStockPositionRequestSchema,
  GetStockPositionResponseSchema,
  InventoryService,
} from "@retail/contracts/retail/inventory/v1/inventory_service_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../log/index.js";
import { createMetrics } from "../metrics/index.js";
import { createServiceClient } from "../rpc/client.js";
import { currentCallContext } from "../rpc/context.js";
import { errorWithInfo, Violations } from "../rpc/errors.js";
import { kCallContext } from "../rpc/server-interceptor.js";
import { createRpcServer, type RpcServer, serve } from "./rpc-server.js";

class UnknownLocation extends Error {
  constructor(readonly locationId: string) {
    super(`unknown location ${locationId}`);
  }
}

const logger = createLogger({ service: "server-test", level: "silent" });
const metrics = createMetrics("server-test");
let server: RpcServer;
const seenCorrelationIds: string[] = [];
const abortReasons: Code[] = [];

/** A handler with just enough behaviour to exercise the platform: validation, domain errors, slowness. */
function startServer(): RpcServer {
  return createRpcServer({
    name: "server-test",
    port: 0,
    webPort: 0,
    host: "127.0.0.1",
    logger,
    metrics,
    mapDomainError: (error) =>
      error instanceof UnknownLocation
        ? errorWithInfo(Code.NotFound, "UNKNOWN_LOCATION", error.message, { location_id: error.locationId })
        : undefined,
    services: [
      serve(InventoryService, {
        async getStockPosition(request, context) {
          const violations = new Violations();
          violations.require("location_id", request.locationId);
          violations.require("sku", request.sku);
          if (request.sku && !/^[A-Z0-9-]+$/.test(request.sku))
            violations.add("sku", "must be upper-case letters, digits or -");
          violations.throwIfAny();
          seenCorrelationIds.push(currentCallContext()?.correlationId ?? "");
          if (request.locationId === "nowhere") throw new UnknownLocation(request.locationId);
          if (request.locationId === "broken") throw new Error("db password is hunter2");
          if (request.locationId === "slow") await new Promise((r) => setTimeout(r, 400));
          if (request.locationId === "until-aborted") {
            const reason = await new Promise((resolve) =>
              context.signal.addEventListener("abort", () => resolve(context.signal.reason)),
            );
            abortReasons.push(ConnectError.from(reason).code);
          }
          if (request.locationId === "with-headers") {
            context.responseHeader.set("x-answer", "42");
            context.responseTrailer.set("x-checked", request.sku);
            expect(context.requestHeader.get("x-asked")).toBe("yes");
            expect(context.timeoutMs()).toBeGreaterThan(1_000);
            expect(context.values.get(kCallContext)?.correlationId).toBe(currentCallContext()?.correlationId);
          }
          return create(GetStockPositionResponseSchema, {
            position: { sku: request.sku, locationId: request.locationId },
          });
        },
      }),
    ],
  });
}

beforeAll(async () => {
  server = startServer();
  await server.start();
});
afterAll(() => server.stop(1_000));

function grpcClient(port: number) {
  return new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}

function unary<I, O>(
  client: grpc.Client,
  path: string,
  encode: (m: I) => Uint8Array,
  decode: (b: Uint8Array) => O,
  message: I,
) {
  return new Promise<O>((resolve, reject) =>
    client.makeUnaryRequest(
      path,
      (m: I) => Buffer.from(encode(m)),
      (b: Buffer) => decode(b),
      message,
      (error, response) => (error ? reject(error) : resolve(response as O)),
    ),
  );
}

describe("rpc server", () => {
  it("answers the standard health check over plain gRPC from @grpc/grpc-js", async () => {
    const client = grpcClient(server.port);
    const check = (service: string) =>
      unary(
        client,
        "/grpc.health.v1.Health/Check",
        (m) => toBinary(HealthCheckRequestSchema, m),
        (b) => fromBinary(HealthCheckResponseSchema, b),
        create(HealthCheckRequestSchema, { service }),
      );
    expect((await check("")).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    expect((await check("retail.inventory.v1.InventoryService")).status).toBe(
      HealthCheckResponse_ServingStatus.SERVING,
    );
    await expect(check("no.such.Service")).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    client.close();
  });

  it("serves reflection: services listed and their descriptors with all imports", async () => {
    const client = grpcClient(server.port);
    const call = client.makeBidiStreamRequest(
      "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
      (m: ReturnType<typeof create<typeof ServerReflectionRequestSchema>>) =>
        Buffer.from(toBinary(ServerReflectionRequestSchema, m)),
      (b: Buffer) => fromBinary(ServerReflectionResponseSchema, b),
    );
    const responses: ServerReflectionResponse[] = [];
    call.on("data", (r: ServerReflectionResponse) => responses.push(r));
    const ended = new Promise((resolve, reject) => call.on("end", resolve).on("error", reject));
    call.write(
      create(ServerReflectionRequestSchema, { messageRequest: { case: "listServices", value: "" } }),
    );
    call.write(
      create(ServerReflectionRequestSchema, {
        messageRequest: {
          case: "fileContainingSymbol",
          value: "retail.inventory.v1.InventoryService.ReserveStock",
        },
      }),
    );
    call.write(
      create(ServerReflectionRequestSchema, {
        messageRequest: { case: "fileContainingSymbol", value: "no.Such" },
      }),
    );
    call.end();
    await ended;
    client.close();

    const [list, files, missing] = responses.map((r) => r.messageResponse);
    expect(list?.case === "listServicesResponse" && list.value.service.map((s) => s.name)).toEqual(
      expect.arrayContaining([
        "retail.inventory.v1.InventoryService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
      ]),
    );
    const names =
      files?.case === "fileDescriptorResponse"
        ? files.value.fileDescriptorProto.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes).name)
        : [];
    expect(names).toEqual(
      expect.arrayContaining([
        "retail/inventory/v1/inventory_service.proto",
        "retail/inventory/v1/inventory.proto",
        "google/api/annotations.proto",
        "google/protobuf/timestamp.proto",
      ]),
    );
    expect(missing?.case === "errorResponse" && missing.value.errorCode).toBe(grpc.status.NOT_FOUND);
  });

  it("refuses a bad request with INVALID_ARGUMENT and a field violation per broken rule", async () => {
    const client = grpcClient(server.port);
    const error = await unary(
      client,
      "/retail.inventory.v1.InventoryService/GetStockPosition",
      (m) => toBinary(GetStockPositionRequestSchema, m),
      (b) => fromBinary(GetStockPositionResponseSchema, b),
      create(GetStockPositionRequestSchema, { sku: "lower case" }),
    ).catch((e: grpc.ServiceError) => e);
    client.close();
    expect(error).toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
    const detailBytes = (error as grpc.ServiceError).metadata.get("grpc-status-details-bin")[0] as Buffer;
    const status = fromBinary(StatusSchema, detailBytes);
    const badRequest = status.details.map((any) => anyUnpack(any, BadRequestSchema)).find(Boolean);
    expect(badRequest?.fieldViolations.map((v) => [v.field, v.description])).toEqual([
      ["location_id", "is required"],
      ["sku", "must be upper-case letters, digits or -"],
    ]);
  });

  it("refuses a NUL in any string, naming the field, and a request beyond 16 MiB, before the handler", async () => {
    const client = createServiceClient(InventoryService, { baseUrl: `http://127.0.0.1:${server.port}` });
    const nul = await client.getStockPosition({ locationId: "DC\u00001", sku: "SKU-1" }).catch((e) => e);
    expect(ConnectError.from(nul).code).toBe(Code.InvalidArgument);
    expect(ConnectError.from(nul).findDetails(BadRequestSchema)[0]?.fieldViolations[0]?.field).toBe(
      "location_id",
    );
    const huge = await client
      .getStockPosition({ locationId: "DC-1", sku: "X".repeat(17 * 2 ** 20) })
      .catch((e) => e);
    expect(ConnectError.from(huge).code).toBe(Code.ResourceExhausted);
  });

  it("maps domain errors to codes with ErrorInfo and hides unexpected failures as INTERNAL", async () => {
    const client = createServiceClient(InventoryService, { baseUrl: `http://127.0.0.1:${server.port}` });
    const notFound = await client
      .getStockPosition({ locationId: "nowhere", sku: "SKU-1" })
      .catch((e) => ConnectError.from(e));
    expect(notFound).toMatchObject({ code: Code.NotFound });
    expect((notFound as ConnectError).findDetails(ErrorInfoSchema)[0]).toMatchObject({
      reason: "UNKNOWN_LOCATION",
      metadata: { location_id: "nowhere" },
    });
    const internal = await client
      .getStockPosition({ locationId: "broken", sku: "SKU-1" })
      .catch((e) => ConnectError.from(e));
    expect(internal).toMatchObject({ code: Code.Internal, rawMessage: "internal error" });
    expect(String((internal as ConnectError).message)).not.toContain("hunter2");
    const text = await metrics.registry.getSingleMetricAsString("rpc_server_requests_total");
    expect(text).toMatch(
      /method="retail.inventory.v1.InventoryService\/GetStockPosition",code="NotFound"[^\n]*} 1/,
    );
  });

  it("speaks gRPC-Web and Connect on its web port, with the same interceptors", async () => {
    const baseUrl = `http://127.0.0.1:${server.webPort}`;
    for (const transport of [
      createGrpcWebTransport({ baseUrl, httpVersion: "2" }),
      createConnectTransport({ baseUrl, httpVersion: "2" }),
    ]) {
      const client = createClient(InventoryService, transport);
      const response = await client.getStockPosition(
        { locationId: "DC-9", sku: "SKU-9" },
        { headers: { "x-correlation-id": "corr-from-browser" } },
      );
      expect(response.position?.locationId).toBe("DC-9");
      expect(seenCorrelationIds.at(-1)).toBe("corr-from-browser");
      await expect(client.getStockPosition({ locationId: "nowhere", sku: "SKU-1" })).rejects.toMatchObject({
        code: Code.NotFound,
      });
    }
  });

  it("takes the caller's correlation id and echoes it back", async () => {
    const client = createServiceClient(InventoryService, {
      baseUrl: `http://127.0.0.1:${server.port}`,
    });
    let echoed: string | null = null;
    await client.getStockPosition(
      { locationId: "DC-1", sku: "SKU-1" },
      {
        headers: { "x-correlation-id": "corr-from-gateway" },
        onHeader: (h) => (echoed = h.get("x-correlation-id")),
      },
    );
    expect(seenCorrelationIds).toContain("corr-from-gateway");
    expect(echoed).toBe("corr-from-gateway");
  });

  it("tells the handler when the caller's deadline passes or the caller cancels, through its signal", async () => {
    const client = createServiceClient(InventoryService, {
      baseUrl: `http://127.0.0.1:${server.port}`,
      timeoutMs: 200,
      maxAttempts: 1,
    });
    const late = await client.getStockPosition({ locationId: "until-aborted", sku: "SKU-1" }).catch((e) => e);
    expect(ConnectError.from(late).code).toBe(Code.DeadlineExceeded);
    const abort = new AbortController();
    const cancelled = client
      .getStockPosition(
        { locationId: "until-aborted", sku: "SKU-1" },
        { signal: abort.signal, timeoutMs: 5_000 },
      )
      .catch((e) => e);
    await new Promise((r) => setTimeout(r, 100));
    abort.abort();
    expect(ConnectError.from(await cancelled).code).toBe(Code.Canceled);
    await expect.poll(() => abortReasons).toEqual([Code.DeadlineExceeded, Code.Canceled]);
  });

  it("refuses a deadline longer than the server allows", async () => {
    const client = createServiceClient(InventoryService, {
      baseUrl: `http://127.0.0.1:${server.port}`,
      timeoutMs: 120_000,
    });
    const error = await client.getStockPosition({ locationId: "DC-1", sku: "SKU-1" }).catch((e) => e);
    expect(ConnectError.from(error).code).toBe(Code.InvalidArgument);
  });

  it("carries request headers to the handler, and its response header and trailer back", async () => {
    const client = createServiceClient(InventoryService, { baseUrl: `http://127.0.0.1:${server.port}` });
    let header: Headers | undefined;
    let trailer: Headers | undefined;
    await client.getStockPosition(
      { locationId: "with-headers", sku: "SKU-7" },
      { headers: { "x-asked": "yes" }, onHeader: (h) => (header = h), onTrailer: (t) => (trailer = t) },
    );
    expect(header?.get("x-answer")).toBe("42");
    expect(header?.get("x-correlation-id")).toBeTruthy();
    expect(trailer?.get("x-checked")).toBe("SKU-7");
  });

  it("streams health Watch to a mesh client and ends it when the server stops", async () => {
    const watched = startServer();
    await watched.start();
    const health = createServiceClient(Health, {
      baseUrl: `http://127.0.0.1:${watched.port}`,
      timeoutMs: 10_000,
    });
    const seen: HealthCheckResponse_ServingStatus[] = [];
    const watching = (async () => {
      for await (const update of health.watch({ service: "" })) seen.push(update.status);
    })();
    await expect.poll(() => seen).toEqual([HealthCheckResponse_ServingStatus.SERVING]);
    await watched.stop(1_000);
    await watching;
    expect(seen).toEqual([
      HealthCheckResponse_ServingStatus.SERVING,
      HealthCheckResponse_ServingStatus.NOT_SERVING,
    ]);
  });

  it("drains calls in flight on shutdown and takes no new ones", async () => {
    const draining = startServer();
    await draining.start();
    const client = createServiceClient(InventoryService, {
      baseUrl: `http://127.0.0.1:${draining.port}`,
      maxAttempts: 1,
    });
    const slow = client.getStockPosition({ locationId: "slow", sku: "SKU-1" });
    await new Promise((r) => setTimeout(r, 100));
    expect(draining.inFlight).toBe(1);
    const stopped = draining.stop(5_000);
    const response = await slow;
    expect(response.position?.locationId).toBe("slow");
    await stopped;
    const fresh = createServiceClient(InventoryService, {
      baseUrl: `http://127.0.0.1:${draining.port}`,
      maxAttempts: 1,
    });
    await expect(fresh.getStockPosition({ locationId: "DC-1", sku: "SKU-1" })).rejects.toMatchObject({
      code: Code.Unavailable,
    });
  });
});
