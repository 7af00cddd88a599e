/** A change the ledger's state does not allow (FAILED_PRECONDITION, ErrorInfo reason = rule). */
export class RuleViolated extends Error {
  readonly kind = "rule-violated";
  constructor(
    readonly rule: string,
    message: string,
    readonly facts: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/** Something that does not exist (NOT_FOUND). */
export class NotFound extends Error {
  readonly kind = "not-found";
  constructor(
    readonly what: string,
    readonly id: string,
  ) {
    super(`no ${what} ${id}`);
  }
}

/** An adapter's rate limit was reached (RESOURCE_EXHAUSTED, retry after the given time). */
export class RateLimited extends Error {
  readonly kind = "rate-limited";
  constructor(
    readonly adapter: string,
    readonly retryAfterSeconds: number,
  ) {
    super(`adapter ${adapter} takes no more batches now; retry in ${retryAfterSeconds} s`);
  }
}
