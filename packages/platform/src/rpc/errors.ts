import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { BadRequestSchema, ErrorInfoSchema } from "@retail/contracts/google/rpc/error_details_pb";

/** ErrorInfo domain of every error the mesh raises. */
export const errorDomain = "retail.mesh";

/** One broken rule on one field, named by its proto path ("source_record.email", "lines[2].quantity"). */
export interface FieldViolation {
  readonly field: string;
  readonly description: string;
}

/** A request that breaks field rules; maps to INVALID_ARGUMENT with BadRequest field violations. */
export class RequestInvalid extends Error {
  readonly kind = "request-invalid";
  constructor(readonly violations: readonly FieldViolation[]) {
    super(`invalid request: ${violations.map((v) => `${v.field}: ${v.description}`).join("; ")}`);
  }
}

/** Collects violations across a whole request, so the caller learns every problem at once. */
export class Violations {
  readonly #list: FieldViolation[] = [];

  add(field: string, description: string): this {
    this.#list.push({ field, description });
    return this;
  }

  /** Adds "is required" when value is empty (undefined, "", 0n-length list). */
  require(field: string, value: unknown): boolean {
    const missing =
      value === undefined || value === null || value === "" || (Array.isArray(value) && value.length === 0);
    if (missing) this.add(field, "is required");
    return !missing;
  }

  get size(): number {
    return this.#list.length;
  }

  throwIfAny(): void {
    if (this.#list.length > 0) throw new RequestInvalid([...this.#list]);
  }
}

export function invalidArgument(violations: readonly FieldViolation[], message?: string): ConnectError {
  return new ConnectError(
    message ?? `invalid request: ${violations.map((v) => `${v.field} ${v.description}`).join("; ")}`,
    Code.InvalidArgument,
    undefined,
    [{ desc: BadRequestSchema, value: create(BadRequestSchema, { fieldViolations: [...violations] }) }],
  );
}

/** A ConnectError carrying google.rpc.ErrorInfo: callers branch on code and reason, never on text. */
export function errorWithInfo(
  code: Code,
  reason: string,
  message: string,
  metadata: Record<string, string> = {},
): ConnectError {
  return new ConnectError(message, code, undefined, [
    { desc: ErrorInfoSchema, value: create(ErrorInfoSchema, { reason, domain: errorDomain, metadata }) },
  ]);
}
