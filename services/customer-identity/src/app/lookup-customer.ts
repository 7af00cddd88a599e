import type { Customer } from "@retail/contracts/retail/customer/v1/customer_pb";
import { UnknownCustomer } from "../domain/errors.js";
import type { MatchKey } from "../domain/match-keys.js";
import { getCustomer } from "./get-customer.js";
import { liveOwner } from "./key-owners.js";
import type { CustomerDeps } from "./ports.js";

/** The customer holding a normalised match key (the survivor, when its holder was merged away). */
export async function lookupCustomer(deps: CustomerDeps, key: MatchKey): Promise<Customer> {
  const owner = await liveOwner(deps, key.id);
  if (!owner) throw new UnknownCustomer(`${key.kind} ${key.kind === "source" ? key.value : "[redacted]"}`);
  return getCustomer(deps, owner.customerId);
}
