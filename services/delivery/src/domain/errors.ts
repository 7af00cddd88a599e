/** No subscription has this id (NOT_FOUND). */
export class UnknownSubscription extends Error {
  readonly kind = "unknown-subscription";
  constructor(readonly subscriptionId: string) {
    super(`subscription ${subscriptionId} does not exist`);
  }
}

/** A subscription with this id exists already (ALREADY_EXISTS). */
export class SubscriptionExists extends Error {
  readonly kind = "subscription-exists";
  constructor(readonly subscriptionId: string) {
    super(`subscription ${subscriptionId} exists already`);
  }
}

/** The change is not allowed in the subscription's state: a deleted one stays deleted (FAILED_PRECONDITION). */
export class SubscriptionDeleted extends Error {
  readonly kind = "subscription-deleted";
  constructor(readonly subscriptionId: string) {
    super(`subscription ${subscriptionId} is deleted`);
  }
}
