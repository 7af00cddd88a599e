import type { Db } from "mongodb";
import { isDuplicateKey } from "./errors.js";
import { startJanitor } from "./inbox.js";

/**
 * Plans kept once per request: what a step decided to ask of other services, made from what it read
 * first. Every attempt of the same request (a redelivery, a caller's retry, a second instance at the
 * same moment) carries out the first plan kept, with calls keyed by the request, so they all get the
 * same answers; none decides afresh on state an earlier attempt already changed half-way.
 */
export interface PlanStore<Plan> {
  /** The plan kept for `key`, else the one `make` makes, kept (a plan kept meanwhile wins). */
  once(key: string, make: () => Promise<Plan>): Promise<Plan>;
  /** Deletes plans older than the cutoff (FerretDB has no TTL indexes, so a janitor calls this). */
  purgeOlderThan(cutoff: Date): Promise<number>;
}

/**
 * A plan store in its own collection. Plans are stored as documents: numbers and strings, not bigints.
 * Retention (a week, as the inbox's) outlasts every retry of a request.
 */
export async function openPlanStore<Plan>(
  db: Db,
  collection: string,
  janitor: Parameters<typeof startJanitor>[1] = {},
): Promise<PlanStore<Plan> & { close(): void }> {
  const plans = db.collection<{ _id: string; plan: Plan; createdAt: Date }>(collection);
  await plans.createIndex({ createdAt: 1 }, { name: "age" });
  const kept = async (key: string) => (await plans.findOne({ _id: key }))?.plan;
  const store: PlanStore<Plan> = {
    async once(key, make) {
      const earlier = await kept(key);
      if (earlier !== undefined) return earlier;
      const plan = await make();
      try {
        await plans.insertOne({ _id: key, plan, createdAt: new Date() });
        return plan;
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        return (await kept(key)) ?? plan;
      }
    },
    async purgeOlderThan(cutoff) {
      return (await plans.deleteMany({ createdAt: { $lt: cutoff } })).deletedCount;
    },
  };
  return { ...store, close: startJanitor(store, janitor) };
}
