import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ConsentChangedSchema } from "@retail/contracts/retail/customer/v1/customer_events_pb";
import type { Consent, Customer } from "@retail/contracts/retail/customer/v1/customer_pb";
import { event, type RequestRef } from "@retail/platform/store";
import { alreadyRecorded, effectiveConsents } from "../domain/consent.js";
import type { ConsentChange } from "../domain/customer.js";
import { changeCustomer } from "./change-customer.js";
import type { CustomerDeps } from "./ports.js";

export interface UpdateConsent {
  readonly request: RequestRef;
  readonly customerId: string;
  /** Validated: purpose, channel, status and a known source system. */
  readonly consent: Consent;
}

/**
 * Records one source's consent statement. History keeps every statement; the event carries the
 * statement and the consent now in force for its purpose and channel (strictest recent opt-out wins).
 * The same statement sent again changes nothing.
 */
export async function updateConsent(deps: CustomerDeps, command: UpdateConsent): Promise<Customer> {
  const { consent } = command;
  const change: ConsentChange = {
    purpose: consent.purpose,
    channel: consent.channel,
    status: consent.status,
    sourceSystem: consent.sourceSystem,
    changedAt: consent.changeTime ? timestampDate(consent.changeTime) : deps.clock.now(),
  };
  return changeCustomer(deps, {
    scope: "customer.UpdateConsent",
    action: "record consent",
    request: command.request,
    customerId: command.customerId,
    decide(profile) {
      const history = profile.members.flatMap((m) => m.consentChanges);
      if (alreadyRecorded(history, change)) return [];
      const inForce = effectiveConsents([...history, change]).find(
        (c) => c.purpose === change.purpose && c.channel === change.channel,
      );
      const toConsent = (c: ConsentChange) => ({
        purpose: c.purpose,
        channel: c.channel,
        status: c.status,
        sourceSystem: c.sourceSystem,
        changeTime: timestampFromDate(c.changedAt),
      });
      const changed = create(ConsentChangedSchema, {
        customerId: profile.root.customerId,
        consent: toConsent(change),
        ...(inForce ? { effectiveConsent: toConsent(inForce) } : {}),
      });
      return [event(ConsentChangedSchema, changed)];
    },
  });
}
