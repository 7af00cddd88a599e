import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  CreateTaxRateRequestSchema,
  type OrderService,
  ReleaseTaxHoldRequestSchema,
  SupersedeTaxRateRequestSchema,
} from "@retail/contracts/retail/order/v1/order_service_pb";
import { checkPageRequest, requestOf } from "@retail/platform/store";
import type { OrderDeps } from "../app/ports.js";
import { releaseTaxHold } from "../app/tax-hold.js";
import { createTaxRate, supersedeTaxRate } from "../app/tax-rates.js";
import { checkId, Violations } from "./validation.js";

const jurisdictionPattern = /^[A-Z]{2}(-[A-Z0-9]{1,3})?$/;
const taxCodePattern = /^[a-z0-9_]{1,32}$/;

function checkJurisdiction(v: Violations, jurisdiction: string): void {
  if (!jurisdictionPattern.test(jurisdiction))
    v.add("jurisdiction", 'must be an ISO 3166 country ("GB") or subdivision ("US-NY") code');
}

function checkTaxCode(v: Violations, taxCode: string): void {
  if (!taxCodePattern.test(taxCode)) v.add("tax_code", "must be 1-32 lower-case letters, digits or _");
}

function checkRate(v: Violations, ratePpm: bigint): void {
  if (ratePpm < 0n || ratePpm > 1_000_000n)
    v.add("rate_ppm", "must be 0-1000000 parts per million (8.875 % is 88750)");
}

type TaxRpcs = Pick<
  ServiceImpl<typeof OrderService>,
  "createTaxRate" | "listTaxRates" | "supersedeTaxRate" | "releaseTaxHold"
>;

/**
 * The tax RPCs of OrderService: rates are data, set and superseded through the API, and orders held
 * for tax review are released through it.
 */
export function createTaxHandler(deps: OrderDeps): TaxRpcs {
  return {
    async createTaxRate(request) {
      const v = new Violations();
      checkId(v, "request_id", request.requestId);
      checkJurisdiction(v, request.jurisdiction);
      checkTaxCode(v, request.taxCode);
      checkRate(v, request.ratePpm);
      v.throwIfAny();
      const taxRate = await createTaxRate(deps, {
        request: requestOf(CreateTaxRateRequestSchema, request),
        jurisdiction: request.jurisdiction,
        taxCode: request.taxCode,
        ratePpm: request.ratePpm,
        effectiveTime: request.effectiveTime ? timestampDate(request.effectiveTime) : undefined,
      });
      return { taxRate };
    },

    async listTaxRates(request) {
      const v = new Violations();
      // Both filters are optional: empty lists every jurisdiction or tax code.
      if (request.jurisdiction) checkJurisdiction(v, request.jurisdiction);
      if (request.taxCode) checkTaxCode(v, request.taxCode);
      const pageSize = checkPageRequest(v, request);
      v.throwIfAny();
      const page = await deps.taxRates.list(request, pageSize, request.pageToken);
      return { taxRates: page.rates, nextPageToken: page.nextPageToken };
    },

    async releaseTaxHold(request) {
      const v = new Violations();
      checkId(v, "request_id", request.requestId);
      checkId(v, "order_id", request.orderId);
      if (request.note.length > 500) v.add("note", "must be at most 500 characters");
      v.throwIfAny();
      return {
        order: await releaseTaxHold(deps, {
          request: requestOf(ReleaseTaxHoldRequestSchema, request),
          orderId: request.orderId,
          note: request.note,
        }),
      };
    },

    async supersedeTaxRate(request) {
      const v = new Violations();
      checkId(v, "request_id", request.requestId);
      v.require("tax_rate_id", request.taxRateId);
      checkRate(v, request.ratePpm);
      v.throwIfAny();
      const taxRate = await supersedeTaxRate(deps, {
        request: requestOf(SupersedeTaxRateRequestSchema, request),
        taxRateId: request.taxRateId,
        ratePpm: request.ratePpm,
        effectiveTime: request.effectiveTime ? timestampDate(request.effectiveTime) : undefined,
      });
      return { taxRate };
    },
  };
}
