import type { TaxRate } from "@retail/contracts/retail/order/v1/order_pb";
import {
  ConcurrencyConflict,
  everyPage,
  internalRequest,
  type RequestRef,
  requestKey,
  retryOnConflict,
} from "@retail/platform/store";
import { RuleViolated } from "../domain/errors.js";
import { decideCreate, decideSupersede, parseTaxRateId, rateAt } from "../domain/tax-rates.js";
import type { OrderDeps } from "./ports.js";

export interface SetTaxRate {
  readonly request: RequestRef;
  readonly jurisdiction: string;
  readonly taxCode: string;
  readonly ratePpm: bigint;
  readonly effectiveTime: Date | undefined;
}

type TaxDeps = Pick<OrderDeps, "taxRates" | "clock" | "caller">;

/** Sets the first rate of a jurisdiction and tax code, once per request id; audited with the caller. */
export function createTaxRate(deps: TaxDeps, command: SetTaxRate): Promise<TaxRate> {
  const request = {
    key: requestKey("order.CreateTaxRate", command.request.id),
    fingerprint: command.request.fingerprint,
  };
  // Another call creating the first rate at the same moment stands; the retry refuses this one.
  return retryOnConflict(
    async () => {
      const now = deps.clock.now();
      const history = await deps.taxRates.load(command.jurisdiction, command.taxCode);
      const first = history?.rates[0];
      if (first && (await deps.taxRates.applied(request))) return first; // this request created it
      const set = decideCreate(history, {
        ...command,
        effectiveTime: command.effectiveTime ?? now,
        createdBy: deps.caller(),
        now,
      });
      const { history: after } = await deps.taxRates.append(history, set, request);
      return after.rates.at(-1) as TaxRate;
    },
    (error) => error instanceof ConcurrencyConflict,
  );
}

/** Replaces a jurisdiction's newest rate from a later moment on, once per request id. */
export function supersedeTaxRate(
  deps: TaxDeps,
  command: { request: RequestRef; taxRateId: string; ratePpm: bigint; effectiveTime: Date | undefined },
): Promise<TaxRate> {
  const named = parseTaxRateId(command.taxRateId);
  if (!named) throw new RuleViolated("TAX_RATE_NOT_FOUND", `no tax rate ${command.taxRateId}`);
  const request = {
    key: requestKey("order.SupersedeTaxRate", command.request.id),
    fingerprint: command.request.fingerprint,
  };
  return retryOnConflict(
    async () => {
      const now = deps.clock.now();
      const history = await deps.taxRates.load(named.jurisdiction, named.taxCode);
      if (!history) throw new RuleViolated("TAX_RATE_NOT_FOUND", `no tax rate ${command.taxRateId}`);
      if (await deps.taxRates.applied(request)) {
        const target = history.rates.find((r) => r.taxRateId === command.taxRateId);
        const made = history.rates.find((r) => r.taxRateId === target?.supersededBy);
        if (made) return made;
      }
      const set = decideSupersede(history, command.taxRateId, {
        ...named,
        ratePpm: command.ratePpm,
        effectiveTime: command.effectiveTime ?? now,
        createdBy: deps.caller(),
        now,
      });
      const { history: after } = await deps.taxRates.append(history, set, request);
      return after.rates.at(-1) as TaxRate;
    },
    (error) => error instanceof ConcurrencyConflict,
  );
}

/**
 * The rate of a tax code in force at a moment in a jurisdiction, or in its country when the
 * subdivision has none of its own ("GB-ENG" -> "GB").
 */
export async function taxRateAt(
  deps: Pick<OrderDeps, "taxRates">,
  jurisdiction: string,
  taxCode: string,
  at: Date,
): Promise<TaxRate | undefined> {
  if (!jurisdiction) return undefined;
  const own = rateAt(await deps.taxRates.load(jurisdiction, taxCode), at);
  if (own) return own;
  const country = jurisdiction.split("-")[0] ?? "";
  return country !== jurisdiction ? rateAt(await deps.taxRates.load(country, taxCode), at) : undefined;
}

/**
 * Gives a fresh installation the built-in rates, each as the first rate of its jurisdiction and tax
 * code, effective from the start of time, set by "seed". A jurisdiction and code that has any rate
 * already is left alone, so seeding again (every start, every instance) changes nothing.
 */
export async function seedTaxRates(
  deps: TaxDeps,
  table: Readonly<Record<string, Readonly<Record<string, number>>>>,
): Promise<void> {
  const listed = await everyPage(async (pageToken) => {
    const page = await deps.taxRates.list(
      { jurisdiction: "", taxCode: "", includeSuperseded: true },
      500,
      pageToken,
    );
    return { items: page.rates, nextPageToken: page.nextPageToken };
  });
  const present = new Set(listed.map((rate) => `${rate.jurisdiction}/${rate.taxCode}`));
  for (const [jurisdiction, codes] of Object.entries(table)) {
    for (const [taxCode, ppm] of Object.entries(codes)) {
      // One listing instead of a stream read per rate; a rate missing from it is checked by its stream.
      if (present.has(`${jurisdiction}/${taxCode}`)) continue;
      if (await deps.taxRates.load(jurisdiction, taxCode)) continue;
      await createTaxRate(
        { ...deps, caller: () => "seed" },
        {
          request: internalRequest(`seed:${jurisdiction}:${taxCode}`, String(ppm)),
          jurisdiction,
          taxCode,
          ratePpm: BigInt(ppm),
          effectiveTime: new Date(0),
        },
      ).catch((error: unknown) => {
        if (!(error instanceof RuleViolated)) throw error; // set meanwhile by another instance
      });
    }
  }
}
