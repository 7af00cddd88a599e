import { create, equals } from "@bufbuild/protobuf";
import { BillingAccountLinkedSchema } from "@retail/contracts/retail/customer/v1/customer_events_pb";
import {
  type BillingAccount,
  BillingAccountSchema,
  type Customer,
} from "@retail/contracts/retail/customer/v1/customer_pb";
import { event, type RequestRef } from "@retail/platform/store";
import { billingKeyOf } from "../domain/customer.js";
import { changeCustomer } from "./change-customer.js";
import type { CustomerDeps } from "./ports.js";

export interface LinkBillingAccount {
  readonly request: RequestRef;
  readonly customerId: string;
  /** Validated: account id, ERP system, non-negative credit limit, well-formed tax ids. */
  readonly account: BillingAccount;
}

/**
 * Links (or refreshes the copy of) an ERP billing account. The ERP stays its system of record; the
 * same account sent again unchanged changes nothing.
 */
export async function linkBillingAccount(deps: CustomerDeps, command: LinkBillingAccount): Promise<Customer> {
  return changeCustomer(deps, {
    scope: "customer.LinkBillingAccount",
    action: "link a billing account",
    request: command.request,
    customerId: command.customerId,
    decide(profile) {
      const key = billingKeyOf(command.account);
      const held = profile.members.map((m) => m.billingAccounts.get(key)).find((a) => a !== undefined);
      if (held && equals(BillingAccountSchema, held, command.account)) return [];
      const linked = create(BillingAccountLinkedSchema, {
        customerId: profile.root.customerId,
        billingAccount: command.account,
      });
      return [event(BillingAccountLinkedSchema, linked)];
    },
  });
}
