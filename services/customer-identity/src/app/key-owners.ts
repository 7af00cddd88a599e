import { CustomerStatus } from "@retail/contracts/retail/customer/v1/customer_pb";
import type { CustomerState } from "../domain/customer.js";
import type { MatchKey } from "../domain/match-keys.js";
import type { CustomerDeps } from "./ports.js";

/**
 * A key is claimed by a registration that has not written its customer yet (or that crashed before
 * it could). Retried like a version conflict: the registration in flight finishes within milliseconds.
 */
export class KeyClaimInFlight extends Error {
  readonly kind = "key-claim-in-flight";
  constructor(readonly keyId: string) {
    super(`match key ${keyId} is being claimed by a registration in flight`);
  }
}

/**
 * The customer holding a key, when it exists and is not erased. A claim left by a crashed registration
 * (no customer after the grace period) or kept by an erased customer is released on the way.
 */
export async function liveOwner(deps: CustomerDeps, keyId: string): Promise<CustomerState | undefined> {
  const claim = await deps.keys.owner(keyId);
  if (!claim) return undefined;
  const state = await deps.streams.load(claim.customerId);
  if (state && state.status !== CustomerStatus.ERASED) return state;
  const abandoned = !state && deps.clock.now().getTime() - claim.claimedAt.getTime() > deps.claimGraceMs;
  if (!state && !abandoned) throw new KeyClaimInFlight(keyId);
  await deps.keys.release(keyId, claim.customerId);
  return undefined;
}

/**
 * Claims every key for a new customer, all or none: when another registration holds one, the keys
 * taken here are released and KeyClaimInFlight asks the caller to resolve the record again.
 */
export async function claimAll(
  deps: CustomerDeps,
  keys: readonly MatchKey[],
  customerId: string,
): Promise<void> {
  const claims = await Promise.all(keys.map((k) => deps.keys.claim(k.id, customerId)));
  const lost = keys.find((_, i) => claims[i]?.customerId !== customerId);
  if (!lost) return;
  await Promise.all(
    keys
      .filter((_, i) => claims[i]?.customerId === customerId)
      .map((k) => deps.keys.release(k.id, customerId)),
  );
  throw new KeyClaimInFlight(lost.id);
}

/** Claims the keys a linked record brings; returns the live customers already holding any of them. */
export async function claimForLink(
  deps: CustomerDeps,
  keys: readonly MatchKey[],
  customerId: string,
): Promise<Array<{ key: MatchKey; holder: string }>> {
  const claims = await Promise.all(keys.map((k) => deps.keys.claim(k.id, customerId)));
  return keys.flatMap((key, i) => {
    const holder = claims[i]?.customerId;
    return holder && holder !== customerId ? [{ key, holder }] : [];
  });
}
