import { Code, type ConnectError } from "@connectrpc/connect";
import { errorWithInfo } from "@retail/platform/rpc";
import { SubscriptionDeleted, SubscriptionExists, UnknownSubscription } from "../domain/errors.js";

/** Delivery's domain errors as callers see them: a code, an ErrorInfo reason and the subscription. */
export function mapDeliveryError(error: unknown): ConnectError | undefined {
  if (error instanceof UnknownSubscription)
    return errorWithInfo(Code.NotFound, "SUBSCRIPTION_NOT_FOUND", error.message, {
      subscription_id: error.subscriptionId,
    });
  if (error instanceof SubscriptionExists)
    return errorWithInfo(Code.AlreadyExists, "SUBSCRIPTION_EXISTS", error.message, {
      subscription_id: error.subscriptionId,
    });
  if (error instanceof SubscriptionDeleted)
    return errorWithInfo(Code.FailedPrecondition, "SUBSCRIPTION_DELETED", error.message, {
      subscription_id: error.subscriptionId,
    });
  return undefined;
}
