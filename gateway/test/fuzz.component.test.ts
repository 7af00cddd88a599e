// Hostile and malformed input, generated (fast-check) from the services' descriptors: every REST route
// with path values, query strings and bodies of the wrong types, out of range, huge, unicode edge cases,
// keys with `$` and `.` and operator objects; and every channel format truncated, corrupted, wrongly
// signed or replayed. Nothing may answer 5xx or go unanswered, a 400 names the field and the rule, and
// the gateway keeps serving. Bounded: a fixed number of runs from a fixed seed, so `npm test` is
// repeatable; FUZZ_SEED=<n> replays a printed seed, FUZZ_SEED=random explores new input.
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import {
  create,
  type DescEnum,
  type DescField,
  type DescMessage,
  type DescMethod,
  type DescService,
  ScalarType,
} from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { BadRequestSchema } from "@retail/contracts/google/rpc/error_details_pb";
import { Health } from "@retail/contracts/grpc/health/v1/health_pb";
import { AdminService } from "@retail/contracts/retail/admin/v1/admin_service_pb";
import { createServiceTransport, parseServiceKeys } from "@retail/platform/rpc";
import { uniqueName } from "@retail/platform/testing";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { remoteServices } from "../src/compose.js";
import type { Route } from "../src/transcoding/route-table.js";
import { type GatewayMesh, type HttpAnswer, meshRoutes, startGatewayMesh } from "./harness.js";
import { restClient, sha256 } from "./rest-client.js";

const key = "fuzz-key";
const shopSecret = "fuzz-shop-secret";
const shopDomain = "fuzz.myshopify.com";
const stripeSecret = "whsec_fuzz_secret";
let mesh: GatewayMesh;
const seed =
  process.env.FUZZ_SEED === "random" ? Date.now() % 2 ** 31 : Number(process.env.FUZZ_SEED ?? 20_261_127);
fc.configureGlobal({ seed });
const routes = meshRoutes();

beforeAll(async () => {
  mesh = await startGatewayMesh(
    "fuzz",
    {
      clients: [
        {
          id: "ops",
          apiKeySha256: [sha256(key)],
          scopes: ["*"],
          rateLimit: { requestsPerSecond: 100_000, burst: 100_000 },
        },
        { id: "shop", scopes: ["order:write"], channel: "CHANNEL_WEB" },
        { id: "stripe", scopes: ["order:write"] },
        { id: "partner", apiKeySha256: [sha256("partner-key")], scopes: ["order:*"], channel: "CHANNEL_B2B" },
      ],
      shopifyShops: [{ shopDomain, webhookSecret: shopSecret, clientId: "shop", channelId: "web" }],
      stripeEndpoints: [{ webhookSecret: stripeSecret, clientId: "stripe" }],
      x12Partners: [{ senderId: "4405197800", clientId: "partner", channelId: "b2b", taxCode: "exempt" }],
      x12Warehouses: [{ senderId: "4405197800", clientId: "ops", locationId: "DC-1", orderChannelId: "b2b" }],
      amazonMarketplaces: [{ marketplaceId: "ATVPDKIKX0DER", clientId: "ops", channelId: "amazon-us" }],
    },
    { MAX_BODY_BYTES: "262144" },
  );
  await restClient(() => mesh, key).setUpLocations();
}, 120_000);
afterAll(async () => mesh?.stopAll(), 60_000);

/** Strings that have broken parsers and stores before. */
const nasty = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.constantFrom(
    "$where",
    "$gt",
    "a.b",
    "..",
    "../../etc/passwd",
    "\u0000",
    "\ud800",
    "\u202e\u0041",
    "😀👨‍👩‍👧",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "-1",
    "99999999999999999999999999",
    "1e309",
    "NaN",
    "x".repeat(5_000),
  ),
);

/** Any JSON value a hostile caller might put where a field's value goes. */
const hostileValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    nasty,
    fc.integer(),
    fc.constantFrom(-1, 0, 2 ** 53, -(2 ** 63), 1e308, 0.5),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(fc.oneof(nasty, fc.constantFrom("$ne", "$gt", "a.b", "__proto__")), tie("value"), {
      maxKeys: 3,
    }),
  ),
})).value;

/** A body for a request message: some of its own fields with hostile values, sometimes strangers. */
function hostileBody(message: DescMessage): fc.Arbitrary<Record<string, unknown>> {
  const own = fc.subarray(message.fields.map((f: DescField) => f.jsonName));
  return fc
    .tuple(
      own,
      fc.array(hostileValue, { minLength: message.fields.length, maxLength: message.fields.length }),
      fc.dictionary(fc.constantFrom("$where", "a.b", "unknownField", "__proto__"), hostileValue, {
        maxKeys: 2,
      }),
    )
    .map(([names, values, strangers]) => ({
      ...Object.fromEntries(names.map((name, i) => [name, values[i]])),
      ...strangers,
    }));
}

/** A request for a route: its path values, a query string and a body, all hostile. */
function hostileRequest(route: Route) {
  const { binding } = route;
  const variables = binding.template.variables.length;
  return fc.record({
    path: fc.array(
      nasty.filter((s) => s.length > 0),
      { minLength: variables, maxLength: variables },
    ),
    query: fc.dictionary(
      fc.oneof(
        fc.constantFrom(...binding.method.input.fields.map((f) => f.jsonName), "$where", "filter[$ne]"),
        nasty,
      ),
      nasty,
      { maxKeys: 3 },
    ),
    body: binding.body ? hostileBody(binding.method.input) : fc.constant(undefined),
  });
}

/** Percent-encodes a path value; one with a lone surrogate goes as the invalid UTF-8 it would be. */
const encodeSegment = (text: string) =>
  text.isWellFormed() ? encodeURIComponent(text) : `${encodeURIComponent(text.toWellFormed())}%ED%A0%80`;

/** The route's template with each variable's segments replaced by a hostile value, encoded. */
function pathFor(route: Route, values: readonly string[]): string {
  const { template } = route.binding;
  const parts: string[] = [];
  let variable = 0;
  for (let i = 0; i < template.segments.length; i++) {
    const bound = template.variables.find((v) => v.start === i);
    if (bound) {
      parts.push(encodeSegment(values[variable++] ?? "x"));
      i = (bound.end ?? template.segments.length) - 1;
      continue;
    }
    const segment = template.segments[i];
    parts.push(segment?.kind === "literal" ? encodeURIComponent(segment.value) : "x");
  }
  return `/${parts.join("/")}${template.verb ? `:${template.verb}` : ""}`;
}

/** What every answer to hostile input must be: final, not a server fault, and clear when refused. */
function judge(what: string, answer: HttpAnswer | { status: number; json: unknown }) {
  expect(answer.status, `${what}: ${JSON.stringify(answer.json)?.slice(0, 300)}`).toBeLessThan(500);
  expect(answer.status, what).toBeGreaterThan(0);
  if (answer.status === 400) {
    const details = (answer.json as { details?: Array<{ fieldViolations?: unknown[] }> })?.details ?? [];
    const violations = details.flatMap((d) => d.fieldViolations ?? []) as Array<{
      field?: string;
      description?: string;
    }>;
    expect(
      violations.length,
      `${what}: a 400 names the field: ${JSON.stringify(answer.json)}`,
    ).toBeGreaterThan(0);
    for (const v of violations) {
      expect(v.field, what).toBeTruthy();
      expect(v.description, what).toBeTruthy();
    }
  }
}

const send = async (
  verb: string,
  path: string,
  init: { body?: string; headers?: Record<string, string> },
) => {
  const response = await fetch(`${mesh.url}${path}`, {
    method: verb,
    headers: init.headers ?? {},
    ...(init.body === undefined ? {} : { body: init.body }),
  }).catch(() => undefined);
  if (!response) return { status: 0, json: undefined };
  const text = await response.text();
  let json: unknown = text;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {}
  return { status: response.status, json };
};

describe("hostile REST input", () => {
  it(`answers every route (${routes.length}) with a clear refusal or a result, never a server fault`, async () => {
    const sent = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes).chain((route) => fc.tuple(fc.constant(route), hostileRequest(route))),
        async ([route, request]) => {
          const { verb, template } = route.binding;
          const query = new URLSearchParams(
            Object.entries(request.query).map(([k, v]) => [k, v] as [string, string]),
          ).toString();
          const path = `${pathFor(route, request.path)}${query ? `?${query}` : ""}`;
          const mutating = verb !== "GET" && verb !== "DELETE";
          const answer = await send(verb, path, {
            headers: {
              "x-api-key": key,
              ...(request.body === undefined ? {} : { "content-type": "application/json" }),
              ...(mutating ? { "idempotency-key": uniqueName("fuzz") } : {}),
            },
            ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
          });
          sent.set(template.source, (sent.get(template.source) ?? 0) + 1);
          judge(`${verb} ${path.slice(0, 200)} ${JSON.stringify(request.body)?.slice(0, 300)}`, answer);
        },
      ),
      { numRuns: routes.length * 12 },
    );
    // Every route was tried, and the gateway still serves.
    expect(sent.size).toBe(new Set(routes.map((r) => r.binding.template.source)).size);
    expect((await fetch(`${mesh.url}/readyz`)).status).toBe(200);
  }, 240_000);
});

/** A value of a scalar type at its edges: extremes, zero, negatives, NaN, strings that broke things. */
function scalarValue(type: ScalarType): fc.Arbitrary<unknown> {
  switch (type) {
    case ScalarType.STRING:
      return nasty;
    case ScalarType.BOOL:
      return fc.boolean();
    case ScalarType.BYTES:
      return fc.uint8Array({ maxLength: 64 });
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return fc.oneof(fc.double(), fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -0));
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.constantFrom(0n, -1n));
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.constantFrom(0n, 2n ** 64n - 1n));
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return fc.oneof(fc.nat(), fc.constantFrom(0, 2 ** 32 - 1));
    default:
      return fc.oneof(fc.integer(), fc.constantFrom(0, -1, 2 ** 31 - 1, -(2 ** 31)));
  }
}

/** An enum value: a named one, or a number the enum does not name. */
const enumValue = (desc: DescEnum) =>
  fc.oneof(fc.constantFrom(...desc.values.map((v) => v.number)), fc.integer({ min: -3, max: 1_000 }));

/** A message of the given type with hostile field values (its own types on the wire), depth-bounded. */
function messageValue(desc: DescMessage, depth: number): fc.Arbitrary<unknown> {
  if (depth > 3) return fc.constant(undefined);
  if (desc.typeName === "google.protobuf.Timestamp" || desc.typeName === "google.protobuf.Duration")
    return fc.record({
      seconds: fc.bigInt({ min: -(2n ** 40n), max: 2n ** 40n }),
      nanos: fc.integer({ min: -2_000_000_000, max: 2_000_000_000 }),
    });
  if (desc.typeName.startsWith("google.protobuf.")) return fc.constant(undefined);
  const own = desc.fields.filter((f) => !f.oneof);
  const fields = fc.record(Object.fromEntries(own.map((f) => [f.localName, fieldValue(f, depth)])), {
    requiredKeys: [],
  });
  const oneofs = desc.oneofs.map((oneof) =>
    fc.option(
      fc
        .constantFrom(...oneof.fields)
        .chain((f) => fieldValue(f, depth).map((value) => ({ case: f.localName, value }))),
      { nil: undefined },
    ),
  );
  return fc.tuple(fields, fc.tuple(...oneofs)).map(([values, chosen]) => ({
    ...values,
    ...Object.fromEntries(desc.oneofs.map((o, i) => [o.localName, chosen[i]]).filter(([, v]) => v)),
  }));
}

function fieldValue(field: DescField, depth: number): fc.Arbitrary<unknown> {
  const one = (): fc.Arbitrary<unknown> => {
    if (field.enum) return enumValue(field.enum);
    if (field.message) return messageValue(field.message, depth + 1);
    return scalarValue(field.scalar ?? ScalarType.STRING);
  };
  switch (field.fieldKind) {
    case "list":
      return fc.array(one(), { maxLength: 4 });
    case "map":
      return field.mapKey === ScalarType.STRING
        ? fc.dictionary(nasty, one(), { maxKeys: 3 })
        : fc.constant({});
    default:
      return one();
  }
}

/** What a service may answer hostile input: anything but a fault of its own or of the mesh. */
const faults = [Code.Internal, Code.Unknown, Code.DataLoss, Code.Unimplemented, Code.Unauthenticated];

describe("hostile gRPC input", () => {
  it("answers every unary method of every service, and their admin RPCs, clearly and never with a fault", async () => {
    const keys = parseServiceKeys(mesh.serviceKeys);
    const targets: Array<{ service: DescService; method: DescMethod; url: string }> = [];
    for (const [service, variable] of remoteServices) {
      const url = mesh.serviceUrls[variable] ?? "";
      for (const s of [service, AdminService])
        for (const method of s.methods)
          if (method.methodKind === "unary") targets.push({ service: s, method, url });
    }
    const clients = new Map<string, Record<string, (m: unknown, o: unknown) => Promise<unknown>>>();
    const clientOf = (service: DescService, url: string) => {
      const id = `${service.typeName} ${url}`;
      let client = clients.get(id);
      if (!client) {
        const transport = createServiceTransport({
          baseUrl: url,
          maxAttempts: 1,
          peerAuth: { keys, service: "fuzz" },
        });
        client = createClient(service, transport) as never;
        clients.set(id, client as never);
      }
      return client as Record<string, (m: unknown, o: unknown) => Promise<unknown>>;
    };
    const answered = new Map<string, number>();
    // Every method, each with its own hostile messages (a fixed number per method, from the seed).
    for (const { service, method, url } of targets) {
      const what = `${service.typeName}.${method.name} at ${url}`;
      await fc.assert(
        fc.asyncProperty(messageValue(method.input, 0), async (init) => {
          const request = create(method.input, init as never);
          const refused = await clientOf(service, url)
            [method.localName]?.(request, { timeoutMs: 15_000 })
            .then(
              () => undefined,
              (error: unknown) => ConnectError.from(error),
            );
          const code = refused ? Code[refused.code] : "OK";
          answered.set(code, (answered.get(code) ?? 0) + 1);
          if (!refused) return;
          const said = `${what}: ${Code[refused.code]} ${refused.rawMessage.slice(0, 300)}`;
          expect(faults, said).not.toContain(refused.code);
          if (refused.code === Code.InvalidArgument) {
            const violations = refused.findDetails(BadRequestSchema).flatMap((d) => d.fieldViolations);
            expect(violations.length, `${said}: names the field`).toBeGreaterThan(0);
            for (const v of violations) expect([v.field, v.description].every(Boolean), said).toBe(true);
          }
        }),
        { numRuns: 5 },
      );
    }
    console.info(
      `hostile gRPC input: ${targets.length} methods, answers ${JSON.stringify(Object.fromEntries(answered))}`,
    );
    // Every service still serves.
    for (const [, variable] of remoteServices) {
      const health = createClient(
        Health,
        createServiceTransport({ baseUrl: mesh.serviceUrls[variable] ?? "", maxAttempts: 1 }),
      );
      expect((await health.check({})).status, variable).toBe(1);
    }
  }, 300_000);
});

describe("hostile channel formats", () => {
  const shopify = readFileSync(
    new URL("./fixtures/shopify/orders-create.webhook.json", import.meta.url),
    "utf8",
  );
  const stripe = readFileSync(
    new URL("./fixtures/stripe/event-payment-intent-succeeded.json", import.meta.url),
    "utf8",
  );
  const x12 = readFileSync(new URL("./fixtures/x12/850.node-x12.edi", import.meta.url), "utf8");
  const shipNotice = readFileSync(new URL("./fixtures/x12/856.node-x12.edi", import.meta.url), "utf8");
  const pulledOrder = JSON.stringify({
    order: JSON.parse(
      readFileSync(
        new URL("./fixtures/amazon/sp-api-getOrder.sandbox-response.json", import.meta.url),
        "utf8",
      ),
    ),
    orderItems: JSON.parse(
      readFileSync(
        new URL("./fixtures/amazon/sp-api-getOrderItems.sandbox-response.json", import.meta.url),
        "utf8",
      ),
    ),
  });
  const settlement = readFileSync(
    new URL("./fixtures/amazon/settlement-flatfile-v1.mws-rs.tsv", import.meta.url),
    "utf8",
  );

  /** A sample truncated, with bytes overwritten, or with a hostile value spliced in. */
  const damaged = (sample: string) =>
    fc.oneof(
      fc.nat({ max: sample.length }).map((n) => sample.slice(0, n)),
      fc
        .tuple(fc.nat({ max: sample.length }), nasty)
        .map(([at, text]) => `${sample.slice(0, at)}${text}${sample.slice(at + text.length)}`),
      fc
        .tuple(fc.nat({ max: sample.length }), fc.nat({ max: 200 }))
        .map(([at, n]) => `${sample.slice(0, at)}${sample.slice(at + n)}`),
    );

  const shopifySigned = (body: string, secret = shopSecret) => ({
    "content-type": "application/json",
    "x-shopify-topic": "orders/create",
    "x-shopify-shop-domain": shopDomain,
    "x-shopify-webhook-id": uniqueName("wh"),
    "x-shopify-hmac-sha256": createHmac("sha256", secret).update(body).digest("base64"),
  });
  const stripeSigned = (body: string, secret = stripeSecret, age = 0) => {
    const t = Math.floor(Date.now() / 1_000) - age;
    const v1 = createHmac("sha256", secret).update(`${t}.${body}`).digest("hex");
    return { "content-type": "application/json", "stripe-signature": `t=${t},v1=${v1}` };
  };

  it("refuses damaged, wrongly signed and stale webhooks clearly, never with a server fault", async () => {
    await fc.assert(
      fc.asyncProperty(damaged(shopify), fc.boolean(), async (body, rightSecret) => {
        const answer = await send("POST", "/webhooks/shopify", {
          body,
          headers: shopifySigned(body, rightSecret ? shopSecret : "wrong-secret"),
        });
        judge(`shopify ${body.slice(0, 120)}`, answer);
        if (!rightSecret) expect(answer.status).toBe(401);
      }),
      { numRuns: 60 },
    );
    await fc.assert(
      fc.asyncProperty(damaged(stripe), fc.constantFrom("right", "wrong", "stale"), async (body, signing) => {
        const headers =
          signing === "right"
            ? stripeSigned(body)
            : signing === "wrong"
              ? stripeSigned(body, "whsec_wrong")
              : stripeSigned(body, stripeSecret, 3_600);
        const answer = await send("POST", "/webhooks/stripe", { body, headers });
        judge(`stripe ${signing} ${body.slice(0, 120)}`, answer);
        if (signing !== "right") expect(answer.status).toBe(401);
      }),
      { numRuns: 60 },
    );
  }, 120_000);

  it("refuses damaged X12 interchanges, pulled Amazon orders and settlement files clearly, never with a server fault", async () => {
    const upload = (path: string, body: string, contentType: string, apiKey = key) =>
      send("POST", path, {
        body,
        headers: { "x-api-key": apiKey, "content-type": contentType, "idempotency-key": uniqueName("up") },
      });
    await fc.assert(
      fc.asyncProperty(damaged(x12), async (body) => {
        judge(
          `x12 ${body.slice(0, 120)}`,
          await upload("/imports/x12", body, "application/edi-x12", "partner-key"),
        );
      }),
      { numRuns: 40 },
    );
    await fc.assert(
      fc.asyncProperty(damaged(shipNotice), async (body) => {
        judge(`856 ${body.slice(0, 120)}`, await upload("/imports/x12", body, "application/edi-x12"));
      }),
      { numRuns: 40 },
    );
    await fc.assert(
      fc.asyncProperty(damaged(pulledOrder), async (body) => {
        judge(
          `amazon order ${body.slice(0, 120)}`,
          await upload("/imports/amazon/orders", body, "application/json"),
        );
      }),
      { numRuns: 40 },
    );
    await fc.assert(
      fc.asyncProperty(damaged(settlement), async (body) => {
        judge(
          `settlement ${body.slice(0, 120)}`,
          await upload("/imports/amazon/settlement-report", body, "text/tab-separated-values"),
        );
      }),
      { numRuns: 40 },
    );
    expect((await fetch(`${mesh.url}/readyz`)).status).toBe(200);
  }, 180_000);
});
