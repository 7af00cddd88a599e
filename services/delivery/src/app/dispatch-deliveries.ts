import type { Subscription } from "@retail/contracts/retail/delivery/v1/delivery_pb";
import { factsComplete, factsMatch, withAggregateFacts } from "../domain/filter.js";
import { nextAttemptDelayMs } from "../domain/retry-schedule.js";
import { signingSecretIds } from "../domain/subscription.js";
import type { DeliveryDeps, DeliveryRecord, DeliveryRenderer, WebhookSender } from "./ports.js";
import { filterOf } from "./record-event.js";

export interface DispatchDeps extends DeliveryDeps {
  readonly sender: WebhookSender;
  readonly renderer: DeliveryRenderer;
  /** Delay before each retry (the first try is at once); past the last, a delivery is dead. */
  readonly retryScheduleMs: readonly number[];
  readonly random: () => number;
  /** Told of every attempt: its outcome and how long the endpoint took (metrics). */
  readonly onAttempt?: (
    subscriptionId: string,
    outcome: "delivered" | "retry" | "dead",
    seconds: number,
  ) => void;
}

export interface DispatchOptions {
  /** How many pending deliveries one pass reads. */
  readonly batch: number;
  /** Aggregates sent to at once. */
  readonly concurrency: number;
  /** Resolves when the subscription's rate allows one more request. */
  readonly pace: () => Promise<void>;
  /** True once the pass should end early (shutdown, or the lease is about to lapse). */
  readonly stopping: () => boolean;
}

/** Deliveries of one aggregate, in stream order. */
function lanesOf(pending: readonly DeliveryRecord[]): DeliveryRecord[][] {
  const lanes = new Map<string, DeliveryRecord[]>();
  for (const delivery of pending) {
    const lane = lanes.get(delivery.aggregateId);
    if (lane) lane.push(delivery);
    else lanes.set(delivery.aggregateId, [delivery]);
  }
  for (const lane of lanes.values()) lane.sort((a, b) => a.sequence - b.sequence);
  return [...lanes.values()];
}

/**
 * What to do with a delivery recorded before its facts could decide its filter: send it, drop it
 * (the facts turned it down, or never came in time), or wait for them.
 */
async function factsVerdict(
  deps: DispatchDeps,
  subscription: Subscription,
  delivery: DeliveryRecord,
): Promise<"send" | "drop" | "wait"> {
  const filter = filterOf(subscription);
  const facts = withAggregateFacts(delivery.facts, await deps.facts.recall(delivery.aggregateId));
  if (factsComplete(filter, facts)) {
    if (!factsMatch(filter, facts)) return "drop";
    // The event that brought the facts may have been recorded after this pass read its deliveries:
    // this one waits for it to go first.
    const earlier = await deps.deliveries.pendingBefore(
      subscription.subscriptionId,
      delivery.aggregateId,
      delivery.sequence,
    );
    return earlier ? "wait" : "send";
  }
  return delivery.nextAttemptAt.getTime() > deps.clock.now().getTime() ? "wait" : "drop";
}

/**
 * One pass over a subscription's pending deliveries. Each aggregate's deliveries go out one after the
 * other in stream order: a delivery waiting for its retry holds back the later ones of its aggregate
 * (a dead one no longer does), while other aggregates go on. A 2xx is delivered; anything else (an
 * error status, no answer, a timeout) is retried on the schedule with jitter, honouring Retry-After,
 * and dead after the last try. Returns how many were sent (delivered or not).
 */
export async function dispatchSubscription(
  deps: DispatchDeps,
  subscription: Subscription,
  options: DispatchOptions,
): Promise<number> {
  const pending = await deps.deliveries.pending(subscription.subscriptionId, options.batch);
  if (pending.length === 0) return 0;
  const secrets = await deps.secrets.texts(signingSecretIds(subscription, deps.clock.now()));
  let sent = 0;
  const lanes = lanesOf(pending);
  const runLane = async (lane: DeliveryRecord[]) => {
    for (const delivery of lane) {
      if (options.stopping()) return;
      if (delivery.awaitingFacts) {
        const verdict = await factsVerdict(deps, subscription, delivery);
        if (verdict === "wait") return;
        if (verdict === "drop") {
          await deps.deliveries.drop(delivery.deliveryId);
          continue;
        }
        await deps.deliveries.settle(delivery.deliveryId);
      } else if (delivery.nextAttemptAt.getTime() > deps.clock.now().getTime()) return;
      const now = deps.clock.now();
      const rendered = await deps.renderer.render(subscription, delivery, now);
      if (!rendered) {
        // Nothing for this subscriber in it (a 940 for an order with no line at its warehouse).
        await deps.deliveries.drop(delivery.deliveryId);
        continue;
      }
      await options.pace();
      const started = performance.now();
      const outcome = await deps.sender.send(subscription.url, delivery.eventId, rendered, secrets, now, {
        delivery,
        attempt: delivery.attempts + 1,
      });
      const seconds = (performance.now() - started) / 1000;
      sent++;
      const attempts = delivery.attempts + 1;
      if (outcome.ok) {
        deps.onAttempt?.(subscription.subscriptionId, "delivered", seconds);
        await deps.deliveries.delivered(delivery.deliveryId, attempts, outcome.status, deps.clock.now());
        continue;
      }
      const delay = nextAttemptDelayMs(deps.retryScheduleMs, attempts, deps.random, outcome.retryAfterMs);
      const nextAttemptAt = delay === undefined ? undefined : new Date(now.getTime() + delay);
      deps.onAttempt?.(subscription.subscriptionId, nextAttemptAt ? "retry" : "dead", seconds);
      await deps.deliveries.failed(
        delivery.deliveryId,
        attempts,
        nextAttemptAt,
        outcome.status,
        outcome.error,
      );
      deps.logger.warn(
        {
          subscriptionId: subscription.subscriptionId,
          eventId: delivery.eventId,
          attempts,
          status: outcome.status,
          error: outcome.error,
          dead: nextAttemptAt === undefined,
        },
        "webhook delivery failed",
      );
      if (nextAttemptAt !== undefined) return;
    }
  };
  let next = 0;
  const workers = Array.from({ length: Math.min(options.concurrency, lanes.length) }, async () => {
    for (let lane = lanes[next++]; lane; lane = lanes[next++]) await runLane(lane);
  });
  await Promise.all(workers);
  return sent;
}
