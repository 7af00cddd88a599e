// The scorecard as a person reads it: business outcomes first, then speed and cost.
import type { ProvingResult } from "./prove.js";

const percent = (ratio: number) => `${(ratio * 100).toFixed(1)} %`;

export function report(result: ProvingResult): string {
  const { scorecard: s, performance: p, cost } = result;
  const lines = [
    `proving day ${result.run}: seed ${result.options.seed}, ${result.options.orders} orders at ${result.options.rate}/s`,
    "",
    "business outcomes",
    `  orders         ${s.orders.sent} sent, ${s.orders.accepted} accepted, ${s.orders.rejected} rejected, ${s.orders.failed} failed; the mesh holds ${s.orders.held} orders for ${s.orders.created} created`,
    `  order accuracy ${percent(s.orders.accuracy)} (${s.orders.accurate}/${s.orders.sent}); lines not picked: ${s.orders.repicksMoved} re-sourced, ${s.orders.repicksCancelled} cancelled`,
    `  oversold units ${s.stock.oversoldUnits}`,
    `  stock reliability ${percent(s.stock.reliability)} (${s.stock.reliable}/${s.stock.positions} SKU-locations: ledger = truth = read model, no hold left)`,
    `  identity       ${s.identity.people} people, ${s.identity.duplicatesLeft} duplicate customers left, precision ${percent(s.identity.precision)}, recall ${percent(s.identity.recall)}`,
    `  ledger         ${s.ledger.entries} entries, ${s.ledger.unbalancedEntries} unbalanced, balanced per currency: ${s.ledger.balancedPerCurrency}`,
    `  captures       ${s.ledger.capturesPosted}/${s.ledger.capturesExpected} posted exactly once (POS: ${s.ledger.posOrdersWithStoreLines}/${s.ledger.posOrders} orders in their store's lines${result.close ? ", each in a posted summary" : ""})`,
    `  refunds        ${s.ledger.refundsPosted}/${s.ledger.refundsExpected} posted, refund to ledger p50 ${s.ledger.refundToLedgerMs.p50} ms, p99 ${s.ledger.refundToLedgerMs.p99} ms`,
    result.settlement?.refused
      ? `  settlement     ${result.settlement.settlementId} of ${result.settlement.lines} lines REFUSED: ${result.settlement.refused}`
      : result.settlement
        ? `  settlement     ${result.settlement.settlementId}: ${result.settlement.lines} lines, unmatched ${JSON.stringify(result.settlement.unmatched)}, exactly the planted ones: ${result.settlement.plantedFound}`
        : "  settlement     not sent (a mesh not started here)",
    result.close
      ? `  period close   ${result.close.periodId} ${result.close.status} in ${result.close.ms} ms, trial balance of ${result.close.accounts} accounts balanced: ${result.close.trialBalanced}`
      : "  period close   not done (a mesh not started here)",
    `  sent           ${Object.entries(p.sent)
      .map(([what, n]) => `${what} ${n}`)
      .join(", ")}`,
    "",
    "speed",
    `  ${p.acceptedPerSecond} accepted orders/s over ${p.seconds.toFixed(1)} s; acceptance p50 ${p.acceptanceMs.p50} ms, p99 ${p.acceptanceMs.p99} ms, p99.9 ${p.acceptanceMs.p999} ms, max ${p.acceptanceMs.max} ms; ${p.retries} retries`,
  ];
  if (cost) {
    const byProcess = Object.entries(cost.cpuMsPerOrder)
      .sort(([, a], [, b]) => b - a)
      .map(([name, ms]) => `${name} ${ms}`)
      .join(", ");
    const commands = Object.entries(cost.mongoCommandsPerOrder)
      .map(([name, n]) => `${name} ${n}`)
      .join(", ");
    lines.push(
      "",
      "cost of one accepted order (the whole journey: submit, capture, shipments, returns, refunds, postings)",
      `  CPU ${cost.cpuMsPerOrderTotal} ms: ${byProcess}; ${cost.coresBusy} cores busy on average`,
      `  MongoDB commands ${cost.mongoCommandsPerOrderTotal}: ${commands}`,
      `    most: ${cost.mongoCommandsPerOrderBy
        .slice(0, 16)
        .map(([what, n]) => `${what} ${n}`)
        .join(", ")}`,
      `  events published ${cost.eventsPerOrder}`,
    );
  }
  if (result.parts && result.bounds) {
    const parts = result.parts;
    lines.push(
      "",
      "the parts alone, in this run",
      `  storage: ${parts.singleInsertsPerSecond} single inserts/s, ${parts.findsByIdPerSecond} finds by id/s, ${parts.batchedDocumentsPerSecond} documents/s in batches of 100; broker: ${parts.confirmedPublishesPerSecond} confirmed publishes/s`,
      `  movement to availability p99 at most ${result.lags.movementToAvailabilityP99Ms ?? "?"} ms (inventory's read model); the broker's own publish-to-consume p99 ${parts.publishToConsumeP99Ms} ms`,
      `  at this cost per order they alone would allow ${result.bounds.storageOrdersPerSecond} orders/s (storage) and ${result.bounds.brokerOrdersPerSecond} orders/s (broker); the mesh accepted ${p.acceptedPerSecond}/s`,
    );
  }
  if (result.reads) {
    const r = result.reads;
    const way = (l: { p50: number; p99: number }) => `p50 ${l.p50.toFixed(2)} ms, p99 ${l.p99.toFixed(2)} ms`;
    lines.push(
      "",
      `reads, one in flight, ${r.samples} each way (gateway REST / service RPC / the service's database)`,
      `  availability: gateway ${way(r.availability.gateway)}; direct RPC ${way(r.availability.directRpc)}; database find by id ${way(r.availability.database)}`,
      `  order:        gateway ${way(r.order.gateway)}; direct RPC ${way(r.order.directRpc)}; database find by id ${way(r.order.database)}`,
    );
  }
  for (const wrong of s.inaccurate)
    lines.push(`  inaccurate ${wrong.channelOrderId} (${wrong.orderId}): ${wrong.why}`);
  for (const m of s.stock.mismatches) lines.push(`  stock ${m}`);
  for (const m of s.stock.refusedMovements) lines.push(`  refused movement ${m}`);
  for (const m of s.ledger.problems) lines.push(`  ledger ${m}`);
  for (const m of result.settlement?.unmatchedItems ?? []) lines.push(`  settlement ${m}`);
  const { cpus, model, memoryGiB, node } = result.machine;
  lines.push("", `machine: ${cpus} × ${model}, ${memoryGiB} GiB, node ${node}`);
  const v = result.versions;
  if (v)
    lines.push(
      `versions: mesh ${v.mesh}, FerretDB ${v.ferretdb} (reports MongoDB ${v.storage}), PostgreSQL ${v.postgresql}, RabbitMQ ${v.rabbitmq}`,
    );
  return lines.join("\n");
}
