// One REST call, start to finish: authenticate, rate-limit, route, check the scope, read and parse the
// body, settle the Idempotency-Key, build the request message, call the service inside the request's
// call context (so the correlation id and trace reach it and its events), and write the JSON answer.

import type { IncomingMessage, ServerResponse } from "node:http";
import { toJson } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { currentCallContext, errorWithInfo, RequestInvalid } from "@retail/platform/rpc";
import { fingerprint } from "@retail/platform/store";
import { authenticate, type Principal, requireScope } from "../access/authenticate.js";
import type { ClientConfig, ClientDirectory, ClientsSnapshot } from "../access/clients.js";
import { type Invoke, invokeForClient } from "../access/order-visibility.js";
import type { RateLimiter } from "../access/rate-limit.js";
import { routeScope } from "../access/route-scope.js";
import type { IdempotencyStore, StoredResponse } from "../adapters/idempotency-store.js";
import type { ShopifyItemSkus } from "../adapters/shopify-item-skus.js";
import { inClientSpelling } from "../transcoding/field-paths.js";
import { requestIdField } from "../transcoding/http-rule.js";
import { PathEncodingError } from "../transcoding/path-template.js";
import { decodeRequest } from "../transcoding/request-decoder.js";
import type { Route, RouteTable } from "../transcoding/route-table.js";
import { HttpRefusal, parseJsonBody, readBody, requestHeader } from "./body.js";
import { renderError, send } from "./respond.js";

export interface RestDependencies {
  readonly routes: RouteTable;
  readonly clients: ClientDirectory;
  readonly limiter: RateLimiter;
  readonly idempotency: IdempotencyStore;
  readonly invoke: Invoke;
  readonly maxBodyBytes: number;
  /** Largest file a streamed endpoint takes (a settlement report). */
  readonly maxStreamedBytes: number;
  /** Deadline of the service call that imports a streamed file (a large settlement takes long). */
  readonly importTimeoutMs: number;
  /** Lines per call importing a settlement (a larger one goes in parts). */
  readonly importPartLines: number;
  /** Which SKU each Shopify shop's inventory items are. */
  readonly shopifyItems: ShopifyItemSkus;
}

/** What the caller and the request log learn about the call. */
export interface RestOutcome {
  route: Route | undefined;
  principal: Principal | undefined;
}

const mutating = new Set(["POST", "PUT", "PATCH"]);
/** Outcomes that may differ on a retry: the key is forgotten instead of replaying them. */
const transient = new Set([
  Code.Unavailable,
  Code.DeadlineExceeded,
  Code.Aborted,
  Code.ResourceExhausted,
  Code.Internal,
  Code.Unknown,
  Code.Canceled,
]);

/** Spends one request of a client's rate limit, or refuses with 429 and Retry-After. */
export async function spendRateLimit(deps: RestDependencies, client: ClientConfig): Promise<void> {
  const decision = await deps.limiter.take(client.id, client.rateLimit);
  if (!decision.allowed)
    throw new HttpRefusal(
      429,
      errorWithInfo(
        Code.ResourceExhausted,
        "RATE_LIMITED",
        `rate limit of ${client.rateLimit.requestsPerSecond}/s exceeded`,
        {
          client: client.id,
        },
      ),
      { "retry-after": String(decision.retryAfterSeconds) },
    );
}

/** The caller's Idempotency-Key scoped to its client, checked; undefined when none was sent. */
export function scopedIdempotencyKey(
  request: Pick<IncomingMessage, "headers" | "method">,
  principal: Principal,
): string | undefined {
  const key = requestHeader(request, "idempotency-key");
  if (key === undefined) return undefined;
  if (!/^[\x21-\x7e]{1,255}$/.test(key))
    throw new RequestInvalid([
      { field: "Idempotency-Key", description: "must be 1 to 255 printable ASCII characters" },
    ]);
  if (!mutating.has(request.method ?? "GET"))
    throw new RequestInvalid([
      { field: "Idempotency-Key", description: `is only for POST, PUT and PATCH, not ${request.method}` },
    ]);
  return `${principal.client.id}:${key}`;
}

/**
 * Records who this request acts for: in the request's outcome (logs, metrics), and as the caller the
 * services record on everything the request writes ("gateway:<client id>").
 */
export function actingAs(principal: Principal, outcome: RestOutcome): void {
  outcome.principal = principal;
  const context = currentCallContext();
  if (context) context.caller = `gateway:${principal.client.id}`;
}

/** Authenticates the caller and spends one request of its rate limit. */
export async function admit(
  deps: RestDependencies,
  clients: ClientsSnapshot,
  request: IncomingMessage,
  outcome: RestOutcome,
): Promise<Principal> {
  const principal = await authenticate(
    { apiKey: requestHeader(request, "x-api-key"), authorization: requestHeader(request, "authorization") },
    clients,
  );
  actingAs(principal, outcome);
  await spendRateLimit(deps, principal.client);
  return principal;
}

/** Handles one call; throws what the caller should see as an error (mapped by the server). */
export async function handleRest(
  deps: RestDependencies,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  outcome: RestOutcome,
  signal: AbortSignal,
): Promise<void> {
  const clients = deps.clients.current();
  const principal = await admit(deps, clients, request, outcome);
  const verb = request.method ?? "GET";
  const match = matchRoute(deps.routes, verb, url.pathname);
  if (match.kind === "not-found")
    throw errorWithInfo(Code.NotFound, "ROUTE_NOT_FOUND", `no operation at ${url.pathname}`);
  if (match.kind === "method-not-allowed")
    throw new HttpRefusal(
      405,
      errorWithInfo(Code.Unimplemented, "METHOD_NOT_ALLOWED", `${verb} is not allowed here`),
      {
        allow: match.allow.join(", "),
      },
    );
  const { route, pathValues } = match;
  outcome.route = route;
  const { method } = route.binding;
  requireScope(principal, routeScope(method, route.binding.verb, clients.file.routeScopes));
  const body = parseJsonBody(await readBody(request, deps.maxBodyBytes), request);

  const scopedKey = scopedIdempotencyKey(request, principal);
  let message: ReturnType<typeof decodeRequest>;
  try {
    message = decodeRequest(route.binding, {
      pathValues,
      query: url.searchParams,
      body,
      requestId: scopedKey,
    });
  } catch (error) {
    throw inClientSpelling(error, route.binding);
  }
  if (scopedKey === undefined && requestIdField(method.input))
    throw new RequestInvalid([
      {
        field: "Idempotency-Key",
        description: "is required for this operation: it becomes the request id, so a retry is applied once",
      },
    ]);

  const call = async (): Promise<StoredResponse> => {
    const result = await invokeForClient(principal.client, method, message, deps.invoke, signal).catch(
      (error: unknown) => {
        // The service names fields by their proto paths; the client wrote JSON names.
        throw inClientSpelling(error, route.binding);
      },
    );
    const json = toJson(method.output, result, { alwaysEmitImplicit: true }) as Record<string, unknown>;
    const field = route.binding.responseBody; // response_body: only that field goes out
    return { status: 200, body: JSON.stringify(field ? (json[field.jsonName] ?? null) : json) };
  };
  if (scopedKey === undefined) {
    const answer = await call();
    send(response, answer.status, answer.body);
    return;
  }
  // The request as decoded (path, query and body in one message): JSON spelling and order do not count.
  const answer = await onceByKey(deps.idempotency, scopedKey, fingerprint(method.input, message), call);
  send(response, answer.status, answer.body, answer.replayed ? { "idempotent-replayed": "true" } : {});
}

/**
 * Runs `call` once per Idempotency-Key: a repeat gets the stored answer, the key with another request
 * 422, a repeat while the first runs 409. A final answer (success or a refusal that a retry would get
 * again) is stored; a transient failure forgets the key so the retry runs again.
 */
export async function onceByKey(
  store: IdempotencyStore,
  scopedKey: string,
  fingerprint: string,
  call: () => Promise<StoredResponse>,
): Promise<StoredResponse & { replayed: boolean }> {
  const started = await store.start(scopedKey, fingerprint);
  switch (started.kind) {
    case "replay":
      return { ...started.response, replayed: true };
    case "fingerprint-mismatch":
      throw new HttpRefusal(
        422,
        errorWithInfo(
          Code.InvalidArgument,
          "IDEMPOTENCY_KEY_REUSED",
          "this Idempotency-Key was used with a different request",
        ),
      );
    case "in-flight":
      throw new HttpRefusal(
        409,
        errorWithInfo(
          Code.Aborted,
          "IDEMPOTENCY_KEY_IN_FLIGHT",
          "a request with this Idempotency-Key is still being processed; retry later",
        ),
        { "retry-after": "1" },
      );
  }
  let answer: StoredResponse;
  try {
    answer = await call();
  } catch (error) {
    const code = (error as { code?: Code }).code;
    if (code === undefined || transient.has(code) || error instanceof HttpRefusal)
      await store.abandon(scopedKey);
    else await store.complete(scopedKey, renderError(error));
    throw error;
  }
  await store.complete(scopedKey, answer);
  return { ...answer, replayed: false };
}

function matchRoute(routes: RouteTable, verb: string, path: string) {
  try {
    return routes.match(verb, path);
  } catch (error) {
    if (error instanceof PathEncodingError)
      throw new RequestInvalid([{ field: "(path)", description: error.message }]);
    throw error;
  }
}
