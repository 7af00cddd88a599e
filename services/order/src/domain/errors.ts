/** A change the order's state does not allow (FAILED_PRECONDITION, ErrorInfo reason = rule). */
export class RuleViolated extends Error {
  readonly kind = "rule-violated";
  constructor(
    /** Upper-snake name of the rule: "LINE_NOT_OPEN", "REFUND_EXCEEDS_CAPTURED" … */
    readonly rule: string,
    message: string,
    readonly facts: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/** A request names a line the order does not have (INVALID_ARGUMENT on that field). */
export class UnknownLine extends Error {
  readonly kind = "unknown-line";
  constructor(
    readonly field: string,
    readonly lineId: string,
  ) {
    super(`order has no line ${lineId}`);
  }
}

/** No order with this id (NOT_FOUND). */
export class UnknownOrder extends Error {
  readonly kind = "unknown-order";
  constructor(readonly orderId: string) {
    super(`no order ${orderId}`);
  }
}

/** No tax rate for a line's jurisdiction and tax code (INVALID_ARGUMENT on that field). */
export class NoTaxRate extends Error {
  readonly kind = "no-tax-rate";
  constructor(
    readonly field: string,
    description: string,
  ) {
    super(description);
  }
}
