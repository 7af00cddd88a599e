import { Code, type ConnectError } from "@connectrpc/connect";
import { errorWithInfo, invalidArgument } from "@retail/platform/rpc";
import { TaxEngineUnavailable } from "../app/ports.js";
import { NoTaxRate, RuleViolated, UnknownLine, UnknownOrder } from "../domain/errors.js";

/** The order service's domain errors as callers see them. */
export function mapOrderError(error: unknown): ConnectError | undefined {
  if (error instanceof RuleViolated)
    return errorWithInfo(Code.FailedPrecondition, error.rule, error.message, { ...error.facts });
  if (error instanceof UnknownOrder)
    return errorWithInfo(Code.NotFound, "ORDER_NOT_FOUND", error.message, { order_id: error.orderId });
  if (error instanceof UnknownLine)
    return invalidArgument([
      { field: error.field, description: `is not a line of this order (${error.lineId})` },
    ]);
  if (error instanceof TaxEngineUnavailable)
    return errorWithInfo(
      Code.Unavailable,
      "TAX_ENGINE_UNAVAILABLE",
      `the tax engine ${error.message}; send the order again later`,
    );
  if (error instanceof NoTaxRate)
    return invalidArgument([{ field: error.field, description: error.message }]);
  return undefined;
}
