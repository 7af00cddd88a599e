// Authentication of a REST call: an API key in X-Api-Key, or a JWT in "Authorization: Bearer".
// A JWT must come from a configured issuer, for its audience, unexpired, and name a configured client in
// `sub`; its `scope` claim can only narrow what that client is granted.
import { createPublicKey, createSecretKey, type KeyObject } from "node:crypto";
import { Code, type ConnectError } from "@connectrpc/connect";
import { errorWithInfo } from "@retail/platform/rpc";
import { jwtVerify } from "jose";
import type { ClientConfig, ClientsSnapshot, IssuerConfig } from "./clients.js";

/** The caller of a request: its client configuration and the scopes this request carries. */
export interface Principal {
  readonly client: ClientConfig;
  readonly scopes: readonly string[];
  readonly method: "api-key" | "jwt" | "webhook-signature";
}

const keyCache = new WeakMap<IssuerConfig, KeyObject>();

function keyOf(issuer: IssuerConfig): KeyObject {
  let key = keyCache.get(issuer);
  if (!key) {
    key = issuer.publicKeyPem
      ? createPublicKey(issuer.publicKeyPem)
      : createSecretKey(Buffer.from(issuer.secret ?? "", "utf8"));
    keyCache.set(issuer, key);
  }
  return key;
}

function unauthenticated(reason: string, message: string): ConnectError {
  return errorWithInfo(Code.Unauthenticated, reason, message);
}

/** The principal of a request, or an UNAUTHENTICATED error saying what was wrong. */
export async function authenticate(
  headers: { apiKey: string | undefined; authorization: string | undefined },
  clients: ClientsSnapshot,
): Promise<Principal> {
  if (headers.apiKey !== undefined) {
    const client = clients.byApiKey(headers.apiKey);
    if (!client) throw unauthenticated("API_KEY_INVALID", "the API key is not valid");
    return { client, scopes: client.scopes, method: "api-key" };
  }
  const bearer = /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? "")?.[1];
  if (!bearer)
    throw unauthenticated(
      "CREDENTIALS_MISSING",
      "send an API key in X-Api-Key or a JWT in Authorization: Bearer",
    );
  const issuerName = unverifiedIssuer(bearer);
  // An issuer may be listed more than once, one key each: while it rotates its key, both verify.
  const issuers = clients.file.jwtIssuers.filter((i) => i.issuer === issuerName);
  if (issuers.length === 0) throw unauthenticated("TOKEN_INVALID", "the token's issuer is not trusted");
  let payload: Record<string, unknown> | undefined;
  let expired = false;
  for (const issuer of issuers) {
    try {
      ({ payload } = await jwtVerify(bearer, keyOf(issuer), {
        issuer: issuer.issuer,
        audience: issuer.audience,
        algorithms: issuer.algorithms,
        requiredClaims: ["sub", "exp"],
      }));
      break;
    } catch (error) {
      expired ||= (error as { code?: string }).code === "ERR_JWT_EXPIRED";
    }
  }
  if (!payload)
    throw unauthenticated(
      expired ? "TOKEN_EXPIRED" : "TOKEN_INVALID",
      expired ? "the token has expired" : "the token is not valid",
    );
  const client = typeof payload.sub === "string" ? clients.byId(payload.sub) : undefined;
  if (!client) throw unauthenticated("TOKEN_INVALID", "the token's subject is not a known client");
  const claimed = typeof payload.scope === "string" ? payload.scope.split(" ").filter(Boolean) : undefined;
  const scopes = claimed
    ? claimed.filter((s) => client.scopes.some((g) => scopeCovers(g, s)))
    : client.scopes;
  return { client, scopes, method: "jwt" };
}

function unverifiedIssuer(token: string): string | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as {
      iss?: unknown;
    };
    return typeof payload.iss === "string" ? payload.iss : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a granted scope ("order:*", "*", "order:read") covers a required one ("order:read"). */
export function scopeCovers(granted: string, required: string): boolean {
  if (granted === "*" || granted === required) return true;
  const [domain, action] = granted.split(":");
  return action === "*" && required.startsWith(`${domain}:`);
}

/** Refuses a request whose principal lacks the route's scope. */
export function requireScope(principal: Principal, required: string): void {
  if (!principal.scopes.some((granted) => scopeCovers(granted, required)))
    throw errorWithInfo(
      Code.PermissionDenied,
      "SCOPE_MISSING",
      `this operation needs the scope "${required}"`,
      {
        scope: required,
        client: principal.client.id,
      },
    );
}
