import { Code, ConnectError } from "@connectrpc/connect";
import { exportSPKI, generateKeyPair, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { authenticate, requireScope } from "./authenticate.js";
import { parseClientsFile, sha256Hex, snapshotOf } from "./clients.js";

const { publicKey, privateKey } = await generateKeyPair("RS256");
const clients = snapshotOf(
  parseClientsFile(
    JSON.stringify({
      clients: [
        {
          id: "pos-eu",
          apiKeySha256: [sha256Hex("old-key"), sha256Hex("new-key")],
          scopes: ["order:*", "inventory:read"],
        },
        { id: "partner", scopes: ["order:read", "finance:read"] },
      ],
      jwtIssuers: [
        {
          issuer: "https://id.example",
          audience: "retail-mesh",
          publicKeyPem: await exportSPKI(publicKey),
          algorithms: ["RS256"],
        },
      ],
    }),
    "test",
  ),
);

const token = (claims: Record<string, unknown>, expires = "5m", issuer = "https://id.example") =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: "RS256" })
    .setIssuer(issuer)
    .setAudience("retail-mesh")
    .setExpirationTime(expires)
    .sign(privateKey);

async function refusal(run: Promise<unknown>): Promise<{ code: Code; reason: string | undefined }> {
  const error = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ConnectError)) throw new Error("expected a refusal");
  const reason = error.details
    .map((d) => ("value" in d ? (d.value as { reason?: string }).reason : undefined))
    .find(Boolean);
  return { code: error.code, reason };
}

describe("authentication", () => {
  it("accepts every current API key of a client, by digest", async () => {
    for (const key of ["old-key", "new-key"])
      expect((await authenticate({ apiKey: key, authorization: undefined }, clients)).client.id).toBe(
        "pos-eu",
      );
    expect(await refusal(authenticate({ apiKey: "guess", authorization: undefined }, clients))).toEqual({
      code: Code.Unauthenticated,
      reason: "API_KEY_INVALID",
    });
  });

  it("accepts a JWT from a trusted issuer for a known client, narrowed by its scope claim", async () => {
    const principal = await authenticate(
      {
        apiKey: undefined,
        authorization: `Bearer ${await token({ sub: "partner", scope: "order:read order:write" })}`,
      },
      clients,
    );
    expect(principal.scopes).toEqual(["order:read"]); // order:write is not the client's to claim
    expect(() => requireScope(principal, "finance:read")).toThrow(/finance:read/);
  });

  it("refuses missing credentials, expired, foreign, forged and unknown-subject tokens", async () => {
    const bearer = async (t: Promise<string> | string) =>
      refusal(authenticate({ apiKey: undefined, authorization: `Bearer ${await t}` }, clients));
    expect(await refusal(authenticate({ apiKey: undefined, authorization: undefined }, clients))).toEqual({
      code: Code.Unauthenticated,
      reason: "CREDENTIALS_MISSING",
    });
    expect(await bearer(token({ sub: "partner" }, "-1m"))).toEqual({
      code: Code.Unauthenticated,
      reason: "TOKEN_EXPIRED",
    });
    expect(await bearer(token({ sub: "partner" }, "5m", "https://evil.example"))).toEqual({
      code: Code.Unauthenticated,
      reason: "TOKEN_INVALID",
    });
    const other = await generateKeyPair("RS256");
    const forged = await new SignJWT({ sub: "partner" })
      .setProtectedHeader({ alg: "RS256" })
      .setIssuer("https://id.example")
      .setAudience("retail-mesh")
      .setExpirationTime("5m")
      .sign(other.privateKey);
    expect(await bearer(forged)).toEqual({ code: Code.Unauthenticated, reason: "TOKEN_INVALID" });
    expect(await bearer(token({ sub: "nobody" }))).toEqual({
      code: Code.Unauthenticated,
      reason: "TOKEN_INVALID",
    });
  });

  it("checks scopes with wildcards", async () => {
    const principal = await authenticate({ apiKey: "new-key", authorization: undefined }, clients);
    expect(() => requireScope(principal, "order:write")).not.toThrow();
    expect(() => requireScope(principal, "inventory:read")).not.toThrow();
    expect(() => requireScope(principal, "inventory:write")).toThrow(ConnectError);
  });

  it("refuses a clients file with a bad entry, naming it", () => {
    expect(() =>
      parseClientsFile(JSON.stringify({ clients: [{ id: "Bad Id", scopes: ["orders"] }] }), "clients.json"),
    ).toThrow(
      /clients\.json: clients\.0\.id: lower-case letters, digits and dashes; clients\.0\.scopes\.0: like "order:read"/,
    );
    // An issuer may not be trusted with unsigned tokens.
    const unsigned = {
      issuer: "https://id.test",
      audience: "a",
      secret: "x".repeat(32),
      algorithms: ["none"],
    };
    expect(() =>
      parseClientsFile(JSON.stringify({ clients: [], jwtIssuers: [unsigned] }), "clients.json"),
    ).toThrow(/jwtIssuers\.0\.algorithms\.0: must be a signature algorithm/);
  });
});
