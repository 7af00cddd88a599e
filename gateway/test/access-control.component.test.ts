// Who may call what, over HTTP through the real gateway and services: API keys and JWTs, scopes,
// keys and scopes rotated without a restart, per-client rate limits, clients bound to a sales channel,
// and browser origins (CORS).
import { Code, ConnectError } from "@connectrpc/connect";
import { FinancePostingService } from "@retail/contracts/retail/finance/v1/finance_service_pb";
import { createServiceClient, newServiceKeys, parseServiceKeys } from "@retail/platform/rpc";
import { testRedisUrl, uniqueName, until } from "@retail/platform/testing";
import { SignJWT, UnsecuredJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { orderJson } from "./bodies.js";
import { type GatewayMesh, meshRoutes, startGatewayMesh } from "./harness.js";
import { reasonOf, restClient, sha256 } from "./rest-client.js";

/** A client of the shared-limit test, named for this run (its window lives in Redis, shared by runs). */
const sharedClient = uniqueName("shared").replaceAll("_", "-");

const jwtSecret = "a-shared-secret-of-at-least-32-characters";
/** The issuer's next key, listed beside the current one while it rotates. */
const nextJwtSecret = "the-issuer-s-next-secret-of-32-characters-or-more";
const clients = (posKeys: string[], posScopes: string[]) => ({
  clients: [
    {
      id: "ops",
      apiKeySha256: [sha256("ops-key")],
      scopes: ["*"],
      rateLimit: { requestsPerSecond: 1000, burst: 1000 },
    },
    { id: "pos", apiKeySha256: posKeys.map(sha256), scopes: posScopes, channel: "CHANNEL_POS" },
    {
      id: "amazon",
      apiKeySha256: [sha256("amazon-key")],
      scopes: ["order:*"],
      channel: "CHANNEL_MARKETPLACE",
      channelId: "amazon-us",
    },
    {
      id: "tiny",
      apiKeySha256: [sha256("tiny-key")],
      scopes: ["inventory:read"],
      rateLimit: { requestsPerSecond: 0.2, burst: 2 },
    },
    { id: "partner", scopes: ["order:read", "inventory:read"] },
    { id: "nobody", apiKeySha256: [sha256("nobody-key")], scopes: [] },
    {
      id: sharedClient,
      apiKeySha256: [sha256("shared-key")],
      scopes: ["inventory:read"],
      rateLimit: { requestsPerSecond: 1, burst: 4 },
    },
  ],
  jwtIssuers: [
    { issuer: "https://id.test", audience: "retail-mesh", secret: jwtSecret, algorithms: ["HS256"] },
    { issuer: "https://id.test", audience: "retail-mesh", secret: nextJwtSecret, algorithms: ["HS256"] },
  ],
});

let mesh: GatewayMesh;
const ops = { key: "ops-key" };
const admin = restClient(() => mesh, ops.key);

beforeAll(async () => {
  mesh = await startGatewayMesh("access", clients(["pos-key-1"], ["order:*", "inventory:*"]), {
    CORS_ORIGINS: "https://shop.test",
  });
  await admin.setUpLocations();
  const rule = {
    channel: "CHANNEL_MARKETPLACE",
    locationIds: ["DC-1"],
    promises: ["FULFILLMENT_PROMISE_SHIP_FROM_DC"],
  };
  expect((await admin.put("/v1/channelRules/amazon-us", rule)).status).toBe(200);
}, 120_000);
afterAll(async () => mesh?.stopAll(), 60_000);

const stocked = (quantity: number) => admin.stocked(quantity);

const orderBody = (sku: string, channel?: string, channelId?: string) =>
  orderJson(sku, { ...(channel ? { channel } : {}), ...(channelId ? { channelId } : {}) });

describe("authentication and scopes", () => {
  it("refuses missing and unknown API keys and bad tokens with 401, accepts a signed JWT for a known client", async () => {
    const none = await mesh.call("GET", "/v1/locations");
    expect([none.status, none.json.code, reasonOf(none.json)]).toEqual([401, 16, "CREDENTIALS_MISSING"]);
    const wrong = await mesh.call("GET", "/v1/locations", { key: "guessed" });
    expect([wrong.status, reasonOf(wrong.json)]).toEqual([401, "API_KEY_INVALID"]);
    const token = (sub: string, expires: string) =>
      new SignJWT({ sub, scope: "order:read" })
        .setProtectedHeader({ alg: "HS256" })
        .setIssuer("https://id.test")
        .setAudience("retail-mesh")
        .setExpirationTime(expires)
        .sign(new TextEncoder().encode(jwtSecret));
    const bearer = async (t: string, path: string) =>
      mesh.call("GET", path, { headers: { authorization: `Bearer ${t}` } });
    const expired = await bearer(await token("partner", "-1m"), "/v1/orders");
    expect([expired.status, reasonOf(expired.json)]).toEqual([401, "TOKEN_EXPIRED"]);
    expect((await bearer(await token("partner", "5m"), "/v1/orders")).status).toBe(200);
    // The token's scope claim narrows the client's grant: inventory:read is the client's but not the token's.
    const narrowed = await bearer(await token("partner", "5m"), "/v1/locations");
    expect([narrowed.status, narrowed.json.code, reasonOf(narrowed.json)]).toEqual([403, 7, "SCOPE_MISSING"]);
  });

  it("refuses forged, unsigned, foreign and misdirected tokens, and takes both keys of a rotating issuer", async () => {
    const sign = (secret: string, claims: { iss?: string; aud?: string; sub?: string } = {}) =>
      new SignJWT({ sub: claims.sub ?? "partner" })
        .setProtectedHeader({ alg: "HS256" })
        .setIssuer(claims.iss ?? "https://id.test")
        .setAudience(claims.aud ?? "retail-mesh")
        .setExpirationTime("5m")
        .sign(new TextEncoder().encode(secret));
    const bearer = async (token: string) =>
      mesh.call("GET", "/v1/orders", { headers: { authorization: `Bearer ${token}` } });
    const refused = async (token: string) => {
      const answer = await bearer(token);
      return [answer.status, reasonOf(answer.json)];
    };
    const invalid = [401, "TOKEN_INVALID"];
    expect(await refused(await sign("a-forger-s-secret-of-at-least-32-characters"))).toEqual(invalid);
    const unsigned = new UnsecuredJWT({ sub: "partner" })
      .setIssuer("https://id.test")
      .setAudience("retail-mesh")
      .setExpirationTime("5m")
      .encode();
    expect(await refused(unsigned)).toEqual(invalid);
    expect(await refused(await sign(jwtSecret, { iss: "https://evil.test" }))).toEqual(invalid);
    expect(await refused(await sign(jwtSecret, { aud: "another-api" }))).toEqual(invalid);
    expect(await refused(await sign(jwtSecret, { sub: "no-such-client" }))).toEqual(invalid);
    // Mid-rotation both the issuer's keys verify.
    expect((await bearer(await sign(jwtSecret))).status).toBe(200);
    expect((await bearer(await sign(nextJwtSecret))).status).toBe(200);
  });

  it("guards every route with its scope: a client with none is refused everywhere", async () => {
    const routes = meshRoutes();
    const unguarded: string[] = [];
    for (const { binding } of routes) {
      const path = `/${binding.template.segments
        .map((s) => (s.kind === "literal" ? encodeURIComponent(s.value) : "x"))
        .join("/")}${binding.template.verb ? `:${binding.template.verb}` : ""}`;
      const answer = await mesh.call(binding.verb, path, {
        key: "nobody-key",
        ...(binding.body ? { body: {} } : {}),
        ...(binding.verb === "POST" || binding.verb === "PUT" || binding.verb === "PATCH"
          ? { idempotencyKey: uniqueName("scope") }
          : {}),
      });
      if (answer.status !== 403 || reasonOf(answer.json) !== "SCOPE_MISSING")
        unguarded.push(
          `${binding.verb} ${binding.template.source}: ${answer.status} ${reasonOf(answer.json)}`,
        );
    }
    expect(unguarded).toEqual([]);
    expect(routes.length).toBeGreaterThan(50);
  });

  it("refuses an operation outside the client's scopes with 403: a POS key cannot read finance", async () => {
    const answer = await mesh.call("GET", "/v1/journalEntries", { key: "pos-key-1" });
    expect(answer.status).toBe(403);
    expect(answer.json.details[0]).toMatchObject({
      reason: "SCOPE_MISSING",
      metadata: { scope: "finance:read", client: "pos" },
    });
  });

  it("rotates keys and scopes from the clients file without a restart", async () => {
    mesh.writeClients(clients(["pos-key-1", "pos-key-2"], ["order:*", "inventory:*", "finance:read"]));
    await until(async () =>
      expect((await mesh.call("GET", "/v1/journalEntries", { key: "pos-key-2" })).status).toBe(200),
    );
    mesh.writeClients(clients(["pos-key-2"], ["order:*", "inventory:*"]));
    await until(async () =>
      expect((await mesh.call("GET", "/v1/locations", { key: "pos-key-1" })).status).toBe(401),
    );
    expect((await mesh.call("GET", "/v1/journalEntries", { key: "pos-key-2" })).status).toBe(403);
    expect((await mesh.call("GET", "/v1/locations", { key: "pos-key-2" })).status).toBe(200);
    // A broken edit is ignored: the last good configuration stays in force.
    const ignored = (await mesh.metric(/^gateway_clients_file_reloads_total\{[^}]*outcome="ignored"/)) ?? 0;
    mesh.writeClients({ clients: [{ id: "Not Valid" }] });
    await until(async () =>
      expect(await mesh.metric(/^gateway_clients_file_reloads_total\{[^}]*outcome="ignored"/)).toBe(
        ignored + 1,
      ),
    );
    expect((await mesh.call("GET", "/v1/locations", { key: "pos-key-2" })).status).toBe(200);
    mesh.writeClients(clients(["pos-key-1"], ["order:*", "inventory:*"]));
    await until(async () =>
      expect((await mesh.call("GET", "/v1/locations", { key: "pos-key-1" })).status).toBe(200),
    );
  });
});

describe("rate limits", () => {
  it("answers 429 with Retry-After once a client's burst is spent, without slowing other clients", async () => {
    const statuses: number[] = [];
    let refused: Awaited<ReturnType<GatewayMesh["call"]>> | undefined;
    for (let i = 0; i < 3; i++) {
      const answer = await mesh.call("GET", "/v1/locations", { key: "tiny-key" });
      statuses.push(answer.status);
      if (answer.status === 429) refused = answer;
    }
    expect(statuses).toEqual([200, 200, 429]);
    expect(refused?.headers.get("retry-after")).toBe("5"); // one request per 5 s
    expect(refused?.json).toMatchObject({ code: 8, details: [{ reason: "RATE_LIMITED" }] });
    expect((await mesh.call("GET", "/v1/locations", ops)).status).toBe(200);
  });
});

describe("rate limits shared by gateway replicas", () => {
  it("lets a client through two replicas no more than its limit, not twice it", async () => {
    const env = { RATE_LIMIT_REDIS_URL: testRedisUrl() };
    const replicas = await Promise.all([mesh.startReplica(env), mesh.startReplica(env)]);
    const statuses: number[] = [];
    const retryAfter: number[] = [];
    for (let i = 0; i < 8; i++) {
      const answer = await fetch(`${replicas[i % 2]?.url}/v1/locations`, {
        headers: { "x-api-key": "shared-key" },
      });
      statuses.push(answer.status);
      if (answer.status === 429) retryAfter.push(Number(answer.headers.get("retry-after")));
    }
    // One window of 4 s holding 4 requests, counted in Redis: each replica alone would let 4 through.
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429, 429, 429]);
    for (const seconds of retryAfter) expect(seconds).toBeGreaterThanOrEqual(1);
    for (const seconds of retryAfter) expect(seconds).toBeLessThanOrEqual(4);
  }, 60_000);
});

describe("service-to-service authentication", () => {
  it("lets only peers signing with the mesh's keys call a service directly", async () => {
    const finance = (keys: string | undefined) =>
      createServiceClient(FinancePostingService, {
        baseUrl: mesh.serviceUrls.FINANCE_POSTING_URL ?? "",
        maxAttempts: 1,
        peerAuth: { keys: keys === undefined ? undefined : parseServiceKeys(keys), service: "intruder" },
      });
    const refused = await finance(undefined)
      .listPeriods({})
      .then(
        () => undefined,
        (error: unknown) => ConnectError.from(error),
      );
    expect(refused?.code).toBe(Code.Unauthenticated);
    const forged = await finance(newServiceKeys("local"))
      .listPeriods({})
      .then(
        () => undefined,
        (error: unknown) => ConnectError.from(error),
      );
    expect(forged?.code).toBe(Code.Unauthenticated);
    await expect(finance(mesh.serviceKeys).listPeriods({})).resolves.toBeDefined();
  });
});

describe("channel-bound clients", () => {
  it("lets a marketplace key see and change only its own orders", async () => {
    const sku = await stocked(10);
    const web = await mesh.call("POST", "/v1/orders", {
      ...ops,
      body: orderBody(sku),
      idempotencyKey: uniqueName("w"),
    });
    const amazon = { key: "amazon-key" };
    const own = await mesh.call("POST", "/v1/orders", {
      ...amazon,
      body: orderBody(sku, "CHANNEL_MARKETPLACE", "amazon-us"),
      idempotencyKey: uniqueName("a"),
    });
    expect(own.status, JSON.stringify(own.json)).toBe(200);
    const foreign = await mesh.call("POST", "/v1/orders", {
      ...amazon,
      body: orderBody(sku),
      idempotencyKey: uniqueName("a"),
    });
    expect([foreign.status, reasonOf(foreign.json)]).toEqual([403, "CHANNEL_NOT_ALLOWED"]);
    expect((await mesh.call("GET", `/v1/orders/${own.json.order.orderId}`, amazon)).status).toBe(200);
    const peek = await mesh.call("GET", `/v1/orders/${web.json.order.orderId}`, amazon);
    expect([peek.status, reasonOf(peek.json)]).toEqual([404, "ORDER_NOT_FOUND"]);
    // A lookup by the channel's own order id answers the same: its own order, nobody else's.
    const lookup = (order: { channel: string; channelId: string; channelOrderId: string }) =>
      `/v1/orders:lookup?channel=${order.channel}&channelId=${order.channelId}&channelOrderId=${order.channelOrderId}`;
    const found = await mesh.call("GET", lookup(own.json.order), amazon);
    expect([found.status, found.json.order?.orderId]).toEqual([200, own.json.order.orderId]);
    const foreignLookup = await mesh.call("GET", lookup(web.json.order), amazon);
    expect([foreignLookup.status, reasonOf(foreignLookup.json)]).toEqual([404, "ORDER_NOT_FOUND"]);
    expect((await mesh.call("GET", lookup(web.json.order), ops)).json.order.orderId).toBe(
      web.json.order.orderId,
    );
    const cancel = await mesh.call("POST", `/v1/orders/${web.json.order.orderId}:cancel`, {
      ...amazon,
      body: {},
      idempotencyKey: uniqueName("c"),
    });
    expect(cancel.status).toBe(404);
    expect((await mesh.call("GET", `/v1/orders/${web.json.order.orderId}`, ops)).json.order.status).toBe(
      "ORDER_STATUS_ACCEPTED",
    );
    const listed = await mesh.call("GET", "/v1/orders?pageSize=100", amazon);
    expect(listed.json.orders.map((o: { orderId: string }) => o.orderId)).toEqual([own.json.order.orderId]);
    const other = await mesh.call("GET", "/v1/orders?channel=CHANNEL_WEB", amazon);
    expect(other.status).toBe(403);
  });
});

describe("browser channels", () => {
  it("answers CORS preflights and marks answers only for configured origins", async () => {
    const preflight = (origin: string) =>
      mesh.call("OPTIONS", "/v1/orders", {
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "idempotency-key",
        },
      });
    const allowed = await preflight("https://shop.test");
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://shop.test");
    expect(allowed.headers.get("access-control-allow-headers")).toContain("idempotency-key");
    const foreign = await preflight("https://evil.test");
    expect([foreign.status, foreign.headers.get("access-control-allow-origin")]).toEqual([403, null]);
    const call = await mesh.call("GET", "/v1/locations", {
      ...ops,
      headers: { origin: "https://shop.test" },
    });
    expect(call.headers.get("access-control-allow-origin")).toBe("https://shop.test");
    expect(call.headers.get("access-control-expose-headers")).toContain("x-request-id");
    const other = await mesh.call("GET", "/v1/locations", {
      ...ops,
      headers: { origin: "https://evil.test" },
    });
    expect([other.status, other.headers.get("access-control-allow-origin")]).toEqual([200, null]);
  });
});
