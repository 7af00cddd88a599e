import type { Customer } from "@retail/contracts/retail/customer/v1/customer_pb";
import {
  ConcurrencyConflict,
  type NewEvent,
  type RequestRef,
  requestKey,
  retryOnConflict,
} from "@retail/platform/store";
import { isLive } from "../domain/customer.js";
import { CustomerNotLive } from "../domain/errors.js";
import { getCustomer } from "./get-customer.js";
import type { CustomerDeps } from "./ports.js";
import { loadProfile, type Profile, requireRoot } from "./profile.js";

export interface CustomerChange {
  /** The operation, for the request key and error messages ("customer.UpdateConsent"). */
  readonly scope: string;
  readonly action: string;
  readonly request: RequestRef;
  readonly customerId: string;
  /** The events the change makes of the profile as it is; none when it would change nothing. */
  decide(profile: Profile): NewEvent[];
}

/**
 * A change to one live customer (the survivor an id resolves to): decide on its profile, append to its
 * stream at the version read, and try again from a fresh read when another writer got there first. A
 * repeated request id returns the customer as it is now, without deciding again.
 */
export async function changeCustomer(deps: CustomerDeps, change: CustomerChange): Promise<Customer> {
  const request = {
    key: requestKey(change.scope, change.request.id),
    fingerprint: change.request.fingerprint,
  };
  const earlier = await deps.streams.findRequest(request);
  if (earlier) return getCustomer(deps, earlier.customerId);
  return retryOnConflict(
    async () => {
      const root = await requireRoot(deps, change.customerId);
      if (!isLive(root)) throw new CustomerNotLive(root.customerId, root.status, change.action);
      const events = change.decide(await loadProfile(deps, root));
      if (events.length > 0) await deps.streams.append(root.customerId, root.version, events, { request });
      return getCustomer(deps, root.customerId);
    },
    (error) => error instanceof ConcurrencyConflict,
  );
}
