/** Someone else appended to the stream first: re-read and decide again, or give up (ABORTED). */
export class ConcurrencyConflict extends Error {
  readonly kind = "concurrency-conflict";
  constructor(
    readonly streamId: string,
    readonly expectedVersion: number,
  ) {
    super(`stream ${streamId} moved past version ${expectedVersion}`);
  }
}

/** A request id already used for a different payload (INVALID_ARGUMENT, reason IDEMPOTENCY_KEY_REUSED). */
export class IdempotencyKeyReused extends Error {
  readonly kind = "idempotency-key-reused";
  constructor(readonly requestKey: string) {
    super(`request id ${requestKey} was already used with a different payload`);
  }
}

/** True for MongoDB's (and FerretDB's) duplicate-key error. */
export function isDuplicateKey(error: unknown): boolean {
  return (
    typeof error === "object" &&
    error !== null &&
    "code" in error &&
    (error as { code: unknown }).code === 11000
  );
}

/** Lets a duplicate-key error pass (the document is there already); throws any other. For `.catch`. */
export function ignoreDuplicateKey(error: unknown): void {
  if (!isDuplicateKey(error)) throw error;
}
