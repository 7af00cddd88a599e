import { create } from "@bufbuild/protobuf";
import {
  CustomerDeactivatedSchema,
  CustomerErasedSchema,
} from "@retail/contracts/retail/customer/v1/customer_events_pb";
import { type Customer, CustomerStatus } from "@retail/contracts/retail/customer/v1/customer_pb";
import { event, type RequestRef, requestKey } from "@retail/platform/store";
import { changeCustomer } from "./change-customer.js";
import type { CustomerDeps } from "./ports.js";
import { loadProfile, requireRoot } from "./profile.js";

export interface DeactivateCustomer {
  readonly request: RequestRef;
  readonly customerId: string;
  readonly reason: string;
}

/** Deactivates a customer (a deactivated one stays as it is); its links and history stay. */
export async function deactivateCustomer(deps: CustomerDeps, command: DeactivateCustomer): Promise<Customer> {
  return changeCustomer(deps, {
    scope: "customer.DeactivateCustomer",
    action: "deactivate",
    request: command.request,
    customerId: command.customerId,
    decide(profile) {
      if (profile.root.status === CustomerStatus.DEACTIVATED) return [];
      const deactivated = create(CustomerDeactivatedSchema, {
        customerId: profile.root.customerId,
        reason: command.reason,
      });
      return [event(CustomerDeactivatedSchema, deactivated)];
    },
  });
}

export interface EraseCustomer {
  readonly request: RequestRef;
  readonly customerId: string;
  readonly reason: string;
}

/**
 * Erases a person: the customer an id resolves to and every customer merged into it. Each stream
 * records CustomerErased (which tells every other service to redact its copies), then its stored
 * history is rewritten without personal data and its match keys are released, so nothing here can
 * find or show the person again; only the pseudonymous customer ids remain. Safe to repeat: a retry
 * after a crash redacts whatever the first attempt did not reach.
 */
export async function eraseCustomer(deps: CustomerDeps, command: EraseCustomer): Promise<string> {
  const root = await requireRoot(deps, command.customerId);
  const { members } = await loadProfile(deps, root);
  const scope = requestKey("customer.EraseCustomer", command.request.id);
  // Merged-in customers first and the survivor last: while any of them is unerased, a retry starts over.
  for (const member of [...members].reverse()) {
    if (member.status !== CustomerStatus.ERASED) {
      const erased = create(CustomerErasedSchema, { customerId: member.customerId, reason: command.reason });
      await deps.streams.append(member.customerId, member.version, [event(CustomerErasedSchema, erased)], {
        request: { key: `${scope}:${member.customerId}`, fingerprint: command.request.fingerprint },
      });
    }
    await deps.streams.redact(member.customerId);
    await deps.keys.releaseAll(member.customerId);
  }
  return root.customerId;
}
