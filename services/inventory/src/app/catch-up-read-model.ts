import type { AvailabilityView, StockLedger } from "./ports.js";

/**
 * Brings this instance's read model up to the ledger: every position with an entry recorded since
 * `since` is read from the ledger and applied where it is newer than what the read model holds. Events
 * missed while the instance was away from the broker are found this way; the count says how many
 * positions were behind.
 */
export async function catchUpReadModel(
  deps: { readonly ledger: StockLedger; readonly readModel: AvailabilityView },
  since: Date,
): Promise<number> {
  let corrected = 0;
  for (const position of await deps.ledger.changedSince(since)) {
    if (deps.readModel.apply(position)) corrected++;
  }
  return corrected;
}

/**
 * Runs catch-ups one at a time, each from shortly before the previous one started (`overlapMs` covers
 * clocks of other instances running behind and entries recorded while the last one ran). A request
 * while one runs is served by one more run after it. `stop` starts no more runs and waits for the one
 * in flight, so the database can close after it.
 */
export function createReadModelCatchUp(
  deps: Parameters<typeof catchUpReadModel>[0],
  options: { from: Date; overlapMs: number; onDone(corrected: number): void; onError(error: unknown): void },
): { run(): Promise<void>; stop(): Promise<void> } {
  let from = options.from;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  const runAll = async (): Promise<void> => {
    do {
      again = false;
      const started = new Date();
      try {
        options.onDone(await catchUpReadModel(deps, new Date(from.getTime() - options.overlapMs)));
        from = started;
      } catch (error) {
        options.onError(error);
      }
    } while (again && !stopped);
  };
  return {
    run() {
      if (stopped) return Promise.resolve();
      if (running) {
        again = true;
        return running;
      }
      running = runAll().finally(() => {
        running = undefined;
      });
      return running;
    },
    async stop() {
      stopped = true;
      await running;
    },
  };
}
