import { Code, type ConnectError } from "@connectrpc/connect";
import { errorWithInfo } from "@retail/platform/rpc";
import { KeyClaimInFlight } from "../app/key-owners.js";
import {
  CustomerNotLive,
  MergeRefused,
  statusName,
  UnknownCustomer,
  UnknownMergeCandidate,
} from "../domain/errors.js";

/** Customer identity's domain errors as callers see them: a code, an ErrorInfo reason and the facts. */
export function mapCustomerError(error: unknown): ConnectError | undefined {
  if (error instanceof UnknownCustomer) {
    return errorWithInfo(Code.NotFound, "CUSTOMER_NOT_FOUND", error.message);
  }
  if (error instanceof UnknownMergeCandidate) {
    return errorWithInfo(Code.NotFound, "MERGE_CANDIDATE_NOT_FOUND", error.message, {
      merge_candidate_id: error.candidateId,
    });
  }
  if (error instanceof CustomerNotLive) {
    return errorWithInfo(Code.FailedPrecondition, "CUSTOMER_NOT_LIVE", error.message, {
      customer_id: error.customerId,
      status: statusName(error.status),
    });
  }
  if (error instanceof MergeRefused) {
    return errorWithInfo(Code.FailedPrecondition, error.reason, error.message);
  }
  if (error instanceof KeyClaimInFlight) {
    return errorWithInfo(
      Code.Aborted,
      "REGISTRATION_IN_FLIGHT",
      "the same person is being registered concurrently; retry",
    );
  }
  return undefined;
}
