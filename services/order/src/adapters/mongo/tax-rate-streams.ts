import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { type TaxRateSet, TaxRateSetSchema } from "@retail/contracts/retail/order/v1/order_events_pb";
import { type TaxRate, TaxRateSchema } from "@retail/contracts/retail/order/v1/order_pb";
import { event, findIdPage, type StreamStore } from "@retail/platform/store";
import { type Binary, type Db, Binary as MongoBinary } from "mongodb";
import type { TaxRateStreams } from "../../app/ports.js";
import { evolveTaxRates, type TaxRateHistory } from "../../domain/tax-rates.js";

const streamIdOf = (jurisdiction: string, taxCode: string) => `tax-rate:${jurisdiction}/${taxCode}`;

type RateDocument = { _id: string; jurisdiction: string; taxCode: string; current: boolean; rate: Binary };

/**
 * Tax rates on the platform stream store, one stream per jurisdiction and tax code (the audit trail:
 * who set which rate when), and a `tax_rates` projection of every rate for listing, written after each
 * append (rebuilt from the streams if it is ever lost).
 */
export function createTaxRateStreams(db: Db, store: StreamStore): TaxRateStreams {
  const projection = db.collection<RateDocument>("tax_rates");
  /** Writes the rates a set changed: the new one, and the one it superseded. */
  const save = async (history: TaxRateHistory, set: TaxRateSet) => {
    const changed = history.rates.filter(
      (r) => r.taxRateId === set.rate?.taxRateId || r.taxRateId === set.supersedes,
    );
    for (const rate of changed) {
      await projection.replaceOne(
        { _id: rate.taxRateId },
        {
          jurisdiction: rate.jurisdiction,
          taxCode: rate.taxCode,
          current: rate.supersededBy === "",
          rate: new MongoBinary(toBinary(TaxRateSchema, rate)),
        },
        { upsert: true },
      );
    }
  };
  return {
    async load(jurisdiction, taxCode) {
      let history: TaxRateHistory | undefined;
      for (const stored of await store.read(streamIdOf(jurisdiction, taxCode))) {
        if (stored.type !== TaxRateSetSchema.typeName) continue;
        history = evolveTaxRates(history, fromBinary(TaxRateSetSchema, stored.data), stored.version);
      }
      return history;
    },
    async append(history, set, request) {
      const rate = set.rate ?? create(TaxRateSchema);
      const version = history?.version ?? 0;
      const result = await store.append(
        streamIdOf(rate.jurisdiction, rate.taxCode),
        version,
        [event(TaxRateSetSchema, set)],
        {
          ...(request ? { request } : {}),
        },
      );
      if (result.replayed) {
        const current = await this.load(rate.jurisdiction, rate.taxCode);
        if (!current) throw new Error(`tax rate stream of ${rate.jurisdiction} ${rate.taxCode} vanished`);
        return { history: current, replayed: true };
      }
      const after = evolveTaxRates(history, set, result.version);
      await save(after, set);
      return { history: after, replayed: false };
    },
    async applied(request) {
      return (await store.findRequest(request)) !== undefined;
    },
    async list(filter, pageSize, pageToken) {
      const page = await findIdPage(
        projection,
        {
          ...(filter.jurisdiction ? { jurisdiction: filter.jurisdiction } : {}),
          ...(filter.taxCode ? { taxCode: filter.taxCode } : {}),
          ...(filter.includeSuperseded ? {} : { current: true }),
        },
        pageSize,
        pageToken,
      );
      return {
        rates: page.docs.map((d): TaxRate => fromBinary(TaxRateSchema, d.rate.buffer)),
        nextPageToken: page.nextPageToken,
      };
    },
  };
}
