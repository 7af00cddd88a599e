/** One line that could not be reserved, with the numbers that explain it. */
export interface Shortage {
  readonly sku: string;
  readonly locationId: string;
  readonly requested: number;
  readonly available: number;
}

/** A reservation asks for more than is available (FAILED_PRECONDITION, INSUFFICIENT_STOCK). */
export class InsufficientStock extends Error {
  readonly kind = "insufficient-stock";
  constructor(
    readonly shortages: readonly Shortage[],
    message?: string,
  ) {
    super(
      message ??
        `insufficient stock: ${shortages
          .map(
            (s) =>
              `${s.sku} at ${s.locationId || "any location"} requested ${s.requested}, available ${s.available}`,
          )
          .join("; ")}`,
    );
  }
}

/** A release or commit beyond what a reservation line still holds (FAILED_PRECONDITION). */
export class HoldExceeded extends Error {
  readonly kind = "hold-exceeded";
  constructor(
    readonly reservationId: string,
    readonly lineId: string,
    readonly requested: number,
    readonly held: number,
  ) {
    super(`reservation ${reservationId} line ${lineId} holds ${held}, cannot take ${requested}`);
  }
}

/** A movement would take stock below zero without a stated reason (FAILED_PRECONDITION). */
export class NegativeStock extends Error {
  readonly kind = "negative-stock";
  constructor(
    readonly sku: string,
    readonly locationId: string,
    readonly rule: string,
    readonly current: number,
    readonly requested: number,
  ) {
    super(
      `${sku} at ${locationId}: ${rule} (have ${current}, movement ${requested}); give a reason to record it anyway`,
    );
  }
}

/** No such reservation (NOT_FOUND). */
export class UnknownReservation extends Error {
  readonly kind = "unknown-reservation";
  constructor(readonly reservationId: string) {
    super(`reservation ${reservationId} not found`);
  }
}

/**
 * A repeat of a ReserveStock whose first call is still placing its holds (UNAVAILABLE: asked again a
 * moment later, it answers what the first call decided).
 */
export class ReservationBeingPlaced extends Error {
  readonly kind = "reservation-being-placed";
  constructor(readonly reservationId: string) {
    super(`reservation ${reservationId} is still being placed by the first call of this request`);
  }
}

/** The reservation is no longer open for this change (FAILED_PRECONDITION). */
export class ReservationClosed extends Error {
  readonly kind = "reservation-closed";
  constructor(
    readonly reservationId: string,
    readonly status: string,
  ) {
    super(`reservation ${reservationId} is ${status}`);
  }
}

/** A reservation line asked for more than it has left (FAILED_PRECONDITION). */
export class LineQuantityExceeded extends Error {
  readonly kind = "line-quantity-exceeded";
  constructor(
    readonly reservationId: string,
    readonly lineId: string,
    readonly requested: number,
    readonly remaining: number,
  ) {
    super(`reservation ${reservationId} line ${lineId} has ${remaining} left, cannot take ${requested}`);
  }
}
