import type { CustomerStatus } from "@retail/contracts/retail/customer/v1/customer_pb";

/** No customer has this id, or no customer matches this key (NOT_FOUND). */
export class UnknownCustomer extends Error {
  readonly kind = "unknown-customer";
  constructor(readonly reference: string) {
    super(`no customer found for ${reference}`);
  }
}

/** The customer's status does not allow the change (FAILED_PRECONDITION, CUSTOMER_NOT_LIVE). */
export class CustomerNotLive extends Error {
  readonly kind = "customer-not-live";
  constructor(
    readonly customerId: string,
    readonly status: CustomerStatus,
    readonly action: string,
  ) {
    super(`cannot ${action}: customer ${customerId} is ${statusName(status)}`);
  }
}

/** A merge or unmerge that does not fit the customers' current links (FAILED_PRECONDITION). */
export class MergeRefused extends Error {
  readonly kind = "merge-refused";
  constructor(
    readonly reason: "SELF_MERGE" | "NOT_MERGED_INTO" | "DUPLICATE_ID",
    message: string,
  ) {
    super(message);
  }
}

/** An unknown merge candidate (NOT_FOUND). */
export class UnknownMergeCandidate extends Error {
  readonly kind = "unknown-merge-candidate";
  constructor(readonly candidateId: string) {
    super(`no merge candidate ${candidateId}`);
  }
}

export function statusName(status: CustomerStatus): string {
  return ["unspecified", "active", "deactivated", "merged", "erased"][status] ?? String(status);
}
