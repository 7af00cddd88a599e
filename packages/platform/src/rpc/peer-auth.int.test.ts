// Service-to-service authentication over real HTTP/2: a server with the mesh's keys answers only
// callers whose token one of its keys signed, through key rotation, and lets health probes in.
import { randomBytes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ErrorInfoSchema } from "@retail/contracts/google/rpc/error_details_pb";
import { Health, HealthCheckResponse_ServingStatus } from "@retail/contracts/grpc/health/v1/health_pb";
import {
  GetStockPositionResponseSchema,
  InventoryService,
} from "@retail/contracts/retail/inventory/v1/inventory_service_pb";
import { SignJWT, UnsecuredJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../log/index.js";
import { createRpcServer, type RpcServer, serve } from "../server/rpc-server.js";
import { createServiceClient } from "./client.js";
import { currentCallContext } from "./context.js";
import { parseServiceKeys } from "./peer-auth.js";

const secret = () => randomBytes(32).toString("base64url");
const [oldKey, newKey, strangerKey] = [`2026-10:${secret()}`, `2026-11:${secret()}`, `2026-11:${secret()}`];
const callers: string[] = [];
let server: RpcServer;
let url: string;

beforeAll(async () => {
  server = createRpcServer({
    name: "peer-auth-test",
    port: 0,
    host: "127.0.0.1",
    logger: createLogger({ service: "peer-auth-test", level: "silent" }),
    // Mid-rotation: the new key signs here, the old one still verifies.
    peerKeys: parseServiceKeys(`${newKey},${oldKey}`),
    services: [
      serve(InventoryService, {
        async getStockPosition(request) {
          callers.push(currentCallContext()?.caller ?? "");
          return create(GetStockPositionResponseSchema, { position: { sku: request.sku } });
        },
      }),
    ],
  });
  await server.start();
  url = `http://127.0.0.1:${server.port}`;
});
afterAll(() => server.stop(1_000));

const clientSigningWith = (keys: string | undefined) =>
  createServiceClient(InventoryService, {
    baseUrl: url,
    caller: "order",
    maxAttempts: 1,
    peerAuth: { keys: keys === undefined ? undefined : parseServiceKeys(keys), service: "order" },
  });

/** A client sending exactly this authorization header. */
const clientSending = (authorization: string) =>
  createClient(
    InventoryService,
    createGrpcTransport({
      baseUrl: url,
      interceptors: [
        (next) => async (request) => {
          request.header.set("authorization", authorization);
          return next(request);
        },
      ],
    }),
  );

async function refusal(call: Promise<unknown>): Promise<string> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ConnectError)) throw new Error(`expected a refusal, got ${String(error)}`);
  expect(error.code).toBe(Code.Unauthenticated);
  return error.findDetails(ErrorInfoSchema)[0]?.reason ?? "";
}

describe("peer authentication", () => {
  it("answers callers signing with a trusted key, the old one too while it is rotated out", async () => {
    for (const keys of [newKey, oldKey, `${oldKey},${newKey}`]) {
      const answer = await clientSigningWith(keys).getStockPosition({ sku: "SKU-1", locationId: "DC-1" });
      expect(answer.position?.sku).toBe("SKU-1");
    }
    // The caller the peer asserts reaches the handler.
    expect(callers.at(-1)).toBe("order");
  });

  it("refuses a caller without a token, with a stranger's key, or with a bad token", async () => {
    const request = { sku: "SKU-1", locationId: "DC-1" };
    const before = callers.length;
    expect(await refusal(clientSigningWith(undefined).getStockPosition(request))).toBe(
      "PEER_UNAUTHENTICATED",
    );
    expect(await refusal(clientSigningWith(strangerKey).getStockPosition(request))).toBe(
      "PEER_UNAUTHENTICATED",
    );
    const [kid, encoded] = newKey.split(":") as [string, string];
    const key = Buffer.from(encoded, "base64url");
    const sign = (jwt: SignJWT) => jwt.setSubject("order").setAudience("retail-mesh").sign(key);
    const expired = await sign(
      new SignJWT({})
        .setProtectedHeader({ alg: "HS256", kid })
        .setIssuedAt(1_700_000_000)
        .setExpirationTime(1_700_000_300),
    );
    const wrongAudience = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256", kid })
      .setSubject("order")
      .setAudience("somewhere-else")
      .setExpirationTime("5m")
      .sign(key);
    const unsigned = new UnsecuredJWT({})
      .setSubject("order")
      .setAudience("retail-mesh")
      .setExpirationTime("5m")
      .encode();
    for (const authorization of [
      `Bearer ${expired}`,
      `Bearer ${wrongAudience}`,
      `Bearer ${unsigned}`,
      "Bearer not-a-token",
      `Basic ${Buffer.from("order:secret").toString("base64")}`,
    ])
      expect(await refusal(clientSending(authorization).getStockPosition(request)), authorization).toBe(
        "PEER_UNAUTHENTICATED",
      );
    // None of them reached the handler.
    expect(callers.length).toBe(before);
  });

  it("lets health probes in without a token", async () => {
    const health = createClient(Health, createGrpcTransport({ baseUrl: url }));
    expect((await health.check({})).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
  });

  it("refuses a keyring that breaks the rules, naming the key", () => {
    expect(() => parseServiceKeys("")).toThrow("at least one key");
    expect(() => parseServiceKeys("k1:short")).toThrow("key k1: the secret must be at least 32 bytes");
    expect(() => parseServiceKeys(`${newKey},${newKey}`)).toThrow("distinct");
    expect(() => parseServiceKeys("no-secret")).toThrow("key 1: must be kid:secret");
  });
});
