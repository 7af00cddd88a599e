import type { Logger } from "../log/index.js";

/** One step of a shutdown, run in the order given (server, consumers, outbox flush, connections). */
export interface ShutdownStep {
  readonly name: string;
  run(): Promise<unknown>;
}

/**
 * Runs the steps once, in order, each failure logged and the rest still run. Returns whether all
 * succeeded. A second call returns the first call's promise.
 */
export function createShutdown(logger: Logger, steps: readonly ShutdownStep[]): () => Promise<boolean> {
  let running: Promise<boolean> | undefined;
  return () => {
    running ??= (async () => {
      let ok = true;
      for (const step of steps) {
        try {
          await step.run();
          logger.info({ step: step.name }, "shutdown step done");
        } catch (error) {
          ok = false;
          logger.error({ step: step.name, err: error }, "shutdown step failed");
        }
      }
      return ok;
    })();
    return running;
  };
}

/** Runs shutdown on SIGTERM or SIGINT, then exits (non-zero when a step failed). */
export function exitOnSignals(logger: Logger, shutdown: () => Promise<boolean>): void {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      logger.info({ signal }, "shutting down");
      shutdown().then(
        (ok) => process.exit(ok ? 0 : 1),
        () => process.exit(1),
      );
    });
  }
}
