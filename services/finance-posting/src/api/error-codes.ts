import { Code, type ConnectError } from "@connectrpc/connect";
import { errorWithInfo } from "@retail/platform/rpc";
import { NotFound, RateLimited, RuleViolated } from "../domain/errors.js";
import { NoPostingRule, UnbalancedPosting } from "../domain/posting.js";

/** Finance's domain errors as callers see them. */
export function mapFinanceError(error: unknown): ConnectError | undefined {
  if (error instanceof RuleViolated)
    return errorWithInfo(Code.FailedPrecondition, error.rule, error.message, { ...error.facts });
  if (error instanceof NotFound) {
    const what = error.what.toLowerCase().replaceAll(" ", "_");
    return errorWithInfo(Code.NotFound, `${what.toUpperCase()}_NOT_FOUND`, error.message, {
      [`${what}_id`]: error.id,
    });
  }
  if (error instanceof NoPostingRule || error instanceof UnbalancedPosting) {
    return errorWithInfo(Code.FailedPrecondition, "POSTING_RULES_INCOMPLETE", error.message);
  }
  if (error instanceof RateLimited) {
    const limited = errorWithInfo(Code.ResourceExhausted, "ERP_RATE_LIMITED", error.message, {
      retry_after_seconds: String(error.retryAfterSeconds),
    });
    limited.metadata.set("retry-after", String(error.retryAfterSeconds));
    return limited;
  }
  return undefined;
}
