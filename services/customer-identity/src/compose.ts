import { CustomerIdentityService } from "@retail/contracts/retail/customer/v1/customer_service_pb";
import type { Logger } from "@retail/platform/log";
import { startRuntime } from "@retail/platform/runtime";
import { serve } from "@retail/platform/server";
import { createCustomerStreams } from "./adapters/mongo/customer-streams.js";
import { createMatchKeyIndex } from "./adapters/mongo/match-key-index.js";
import { createMergeCandidateStore } from "./adapters/mongo/merge-candidate-store.js";
import { createCustomerHandler } from "./api/customer-handler.js";
import { mapCustomerError } from "./api/error-codes.js";
import type { CustomerDeps } from "./app/ports.js";
import { type CustomerConfig, localMatchKeySecret } from "./config.js";
import type { SourceSystem } from "./domain/source-systems.js";

export interface RunningCustomerIdentity {
  readonly port: number;
  readonly metricsPort: number;
  readonly deps: CustomerDeps;
  /** Resolves once every stored event has been published. */
  flushOutbox(timeoutMs?: number): Promise<void>;
  /** Stops serving, flushes the outbox, closes connections. */
  stop(): Promise<boolean>;
}

/**
 * The only place that knows every concrete class: connects MongoDB and RabbitMQ, builds the customer
 * streams, the match-key index and the merge candidates, and starts the RPC server and outbox relay.
 */
export async function composeCustomerIdentity(
  config: CustomerConfig,
  logger: Logger,
): Promise<RunningCustomerIdentity> {
  const runtime = await startRuntime({
    name: "customer-identity",
    database: "customer_identity",
    config,
    logger,
  });
  if (config.MATCH_KEY_SECRET === localMatchKeySecret) {
    logger.warn(
      "MATCH_KEY_SECRET is the local development default: set a secret of your own outside a laptop",
    );
  }
  const keys = createMatchKeyIndex(runtime.db, config.MATCH_KEY_SECRET);
  const candidates = createMergeCandidateStore(runtime.db, runtime.store);
  await Promise.all([keys.ensureIndexes(), candidates.ensureIndexes()]);

  const sourceSystems = new Map<string, SourceSystem>(config.SOURCE_SYSTEMS.map((s) => [s.id, s]));
  const deps: CustomerDeps = {
    streams: createCustomerStreams(runtime.store),
    keys,
    candidates,
    sourceSystems: (id) => sourceSystems.get(id),
    mergeRules: config.MERGE_RULES,
    clock: { now: () => new Date() },
    logger,
    claimGraceMs: config.CLAIM_GRACE_MS,
  };
  const served = await runtime.serve({
    mapDomainError: mapCustomerError,
    services: [
      serve(CustomerIdentityService, createCustomerHandler(deps, { lookupRegion: config.LOOKUP_REGION })),
    ],
  });
  return { ...served, deps, flushOutbox: runtime.flushOutbox };
}
