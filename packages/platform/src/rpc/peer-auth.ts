// Service-to-service authentication: a service answers only peers that prove they hold one of the
// mesh's service keys. The caller signs a short-lived token (a JWT, HS256, five minutes, re-signed at
// half-life) naming itself as subject; the callee verifies it against its keyring and refuses anything
// else with UNAUTHENTICATED. The keyring comes from MESH_SERVICE_KEYS ("kid:secret,kid:secret", each
// secret base64url of at least 32 bytes): the first key signs, every key verifies, so a key is rotated
// by adding the new one second everywhere, then moving it first, then dropping the old one. Health
// checks need no token (probes carry none). A verified peer may act for someone (the caller header:
// the gateway's client): without peer authentication that header was anyone's to set.
import { randomBytes } from "node:crypto";
import { Code } from "@connectrpc/connect";
import { errors, jwtVerify, SignJWT } from "jose";
import { errorWithInfo } from "./errors.js";

export interface ServiceKeyring {
  readonly signing: { readonly kid: string; readonly secret: Uint8Array };
  readonly verifying: ReadonlyMap<string, Uint8Array>;
}

const audience = "retail-mesh";
const tokenSeconds = 300;
const healthService = "grpc.health.v1.Health";

/** A new keyring of one random key, as MESH_SERVICE_KEYS holds it (for a mesh started by a script or a test). */
export function newServiceKeys(kid = "local"): string {
  return `${kid}:${randomBytes(32).toString("base64url")}`;
}

/** Parses MESH_SERVICE_KEYS, or throws naming the rule a key breaks. */
export function parseServiceKeys(text: string): ServiceKeyring {
  const keys = text
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry, index) => {
      const [kid, encoded, ...rest] = entry.split(":");
      if (!kid || !encoded || rest.length > 0 || !/^[A-Za-z0-9._-]{1,64}$/.test(kid))
        throw new Error(`key ${index + 1}: must be kid:secret (kid of letters, digits, '.', '_', '-')`);
      const secret = Buffer.from(encoded, "base64url");
      if (secret.length < 32) throw new Error(`key ${kid}: the secret must be at least 32 bytes (base64url)`);
      return { kid, secret: new Uint8Array(secret) };
    });
  const [signing] = keys;
  if (!signing) throw new Error("at least one key is required");
  const verifying = new Map(keys.map((k) => [k.kid, k.secret]));
  if (verifying.size !== keys.length) throw new Error("key ids must be distinct");
  return { signing, verifying };
}

/**
 * The calling service's authorization header ("Bearer <token>"), signed once and re-signed once half
 * its life is gone: the header itself while it is fresh, a promise of it while (re)signing.
 */
export function peerTokenSource(keyring: ServiceKeyring, service: string): () => string | Promise<string> {
  let current: { header: string; renewAt: number } | undefined;
  let signing: Promise<string> | undefined;
  return () => {
    const now = Date.now();
    if (current && now < current.renewAt) return current.header;
    signing ??= new SignJWT({})
      .setProtectedHeader({ alg: "HS256", kid: keyring.signing.kid })
      .setSubject(service)
      .setAudience(audience)
      .setIssuedAt()
      .setExpirationTime(Math.floor(now / 1000) + tokenSeconds)
      .sign(keyring.signing.secret)
      .then((jwt) => {
        current = { header: `Bearer ${jwt}`, renewAt: now + (tokenSeconds * 1000) / 2 };
        return current.header;
      })
      .finally(() => {
        signing = undefined;
      });
    return signing;
  };
}

const refuse = (message: string) => errorWithInfo(Code.Unauthenticated, "PEER_UNAUTHENTICATED", message);

/**
 * Refuses a call without a valid peer token (throws UNAUTHENTICATED PEER_UNAUTHENTICATED); health
 * needs none. Verified tokens are remembered until they expire (a caller sends the same one for
 * minutes), so a call costs a map lookup, not an HMAC.
 */
export function peerTokenCheck(
  keyring: ServiceKeyring,
): (service: string, authorization: string | null | undefined) => Promise<void> | undefined {
  const verified = new Map<string, { peer: string; expiresAt: number }>();
  const verify = async (jwt: string | undefined) => {
    if (!jwt) throw refuse("a service token is required (authorization: Bearer)");
    const { payload } = await jwtVerify(
      jwt,
      (header) => {
        const secret = header.kid === undefined ? undefined : keyring.verifying.get(header.kid);
        if (!secret) throw refuse(`the service token's key ${header.kid ?? "(none)"} is not trusted`);
        return secret;
      },
      { audience, algorithms: ["HS256"], requiredClaims: ["sub", "exp"] },
    ).catch((error: unknown) => {
      throw error instanceof errors.JOSEError
        ? refuse(`the service token does not verify: ${error.message}`)
        : error;
    });
    if (verified.size >= 1_000) verified.clear();
    verified.set(jwt, { peer: String(payload.sub), expiresAt: Number(payload.exp) * 1000 });
  };
  return (service, authorization) => {
    if (service === healthService) return undefined;
    const jwt = authorization?.startsWith("Bearer ") ? authorization.slice(7) : undefined;
    const known = jwt === undefined ? undefined : verified.get(jwt);
    if (known && known.expiresAt > Date.now()) return undefined;
    return verify(jwt);
  };
}
