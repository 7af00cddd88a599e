import { ConsentStatus } from "@retail/contracts/retail/customer/v1/customer_pb";
import type { ConsentChange } from "./customer.js";

/**
 * The consent in force for each purpose and channel. Each source's latest statement counts (an older
 * statement arriving late never overrides a newer one from the same source), and across sources the
 * strictest wins: one source's current opt-out stands until that same source opts in again. Of
 * several current opt-outs the most recent is reported; with none, the most recent opt-in.
 */
export function effectiveConsents(changes: readonly ConsentChange[]): ConsentChange[] {
  const latestPerSource = new Map<string, ConsentChange>();
  for (const change of changes) {
    const key = `${change.purpose}/${change.channel}/${change.sourceSystem}`;
    const held = latestPerSource.get(key);
    if (!held || change.changedAt >= held.changedAt) latestPerSource.set(key, change);
  }
  const byScope = new Map<string, ConsentChange>();
  for (const change of latestPerSource.values()) {
    const scope = `${change.purpose}/${change.channel}`;
    const held = byScope.get(scope);
    if (!held || stricterOrNewer(change, held)) byScope.set(scope, change);
  }
  return [...byScope.values()].sort((a, b) => a.purpose - b.purpose || a.channel - b.channel);
}

function stricterOrNewer(a: ConsentChange, b: ConsentChange): boolean {
  const deniedA = a.status === ConsentStatus.DENIED;
  const deniedB = b.status === ConsentStatus.DENIED;
  if (deniedA !== deniedB) return deniedA;
  return a.changedAt > b.changedAt;
}

/** Whether a change is already in the history (a re-sent statement has no second effect). */
export function alreadyRecorded(changes: readonly ConsentChange[], change: ConsentChange): boolean {
  return changes.some(
    (c) =>
      c.purpose === change.purpose &&
      c.channel === change.channel &&
      c.sourceSystem === change.sourceSystem &&
      c.status === change.status &&
      c.changedAt.getTime() === change.changedAt.getTime(),
  );
}
