// `npm run bench` (the proving ground): a seeded retail day through the gateway, then its scorecard
// and what one order cost.
//   --seed 1 --orders 300 --rate 4 --skus 40 --people 120    the day and the pace (orders/s, open loop)
//   --gateway http://127.0.0.1:8080 --api-key dev-admin-key  run on `npm start`'s mesh instead of one
//                                                            started here (no cost figures then)
//   --out .mesh/proving-ground                               where the scorecard JSON goes
//   --find-max --p99-bound 1000 --start-rate 2 --factor 1.5  the closed loop: days of --orders at rising
//                                                            rates until acceptance p99 passes the bound
//   --faults [--only broker-stop-30s,kill-order]            a day per fault, injected a third of the way
//                                                            in, then judged (nothing lost, applied twice
//                                                            or oversold; recovery time); a table to paste
// A soak is a long day: --orders 14400 --rate 4 is an hour.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { faultTable, runFaults } from "./fault-run.js";
import { findMaxRate } from "./max-rate.js";
import { proveDay } from "./prove.js";
import { report } from "./report.js";

const { values } = parseArgs({
  options: {
    seed: { type: "string", default: "1" },
    orders: { type: "string", default: "300" },
    rate: { type: "string", default: "4" },
    skus: { type: "string", default: "40" },
    people: { type: "string", default: "120" },
    gateway: { type: "string" },
    "api-key": { type: "string" },
    out: { type: "string", default: ".mesh/proving-ground" },
    "find-max": { type: "boolean", default: false },
    "p99-bound": { type: "string", default: "1000" },
    "start-rate": { type: "string", default: "2" },
    factor: { type: "string", default: "1.5" },
    faults: { type: "boolean", default: false },
    only: { type: "string", default: "" },
  },
});
const live = process.stderr.isTTY;
const common = {
  seed: Number(values.seed),
  orders: Number(values.orders),
  rate: Number(values.rate),
  skus: Number(values.skus),
  people: Number(values.people),
  ...(values.gateway ? { gatewayUrl: values.gateway } : {}),
  ...(values["api-key"] ? { apiKey: values["api-key"] } : {}),
  progress: (line: string) => process.stderr.write(live ? `\r\x1b[K${line}` : `${line}\n`),
};
mkdirSync(values.out, { recursive: true });
if (values.faults) {
  const rows = await runFaults({
    ...common,
    progress: (line) => process.stderr.write(`${line}\n`),
    only: values.only.split(",").filter(Boolean),
  });
  const file = join(values.out, `faults-${Date.now().toString(36)}.json`);
  writeFileSync(file, `${JSON.stringify(rows, null, 2)}\n`);
  console.log(`${faultTable(rows)}\n\nwritten: ${file}`);
  process.exit(rows.every((r) => r.invariantsHold && r.problems.length === 0) ? 0 : 1);
}
if (values["find-max"]) {
  const found = await findMaxRate({
    ...common,
    progress: (line) => process.stderr.write(`${line}\n`),
    p99BoundMs: Number(values["p99-bound"]),
    startRate: Number(values["start-rate"]),
    factor: Number(values.factor),
  });
  const file = join(values.out, `max-rate-${Date.now().toString(36)}.json`);
  writeFileSync(file, `${JSON.stringify(found, null, 2)}\n`);
  console.log(
    `highest rate with acceptance p99 under ${found.boundMs} ms: ${found.maxRate} orders/s\nwritten: ${file}`,
  );
  process.exit(0);
}
const result = await proveDay(common);
if (live) process.stderr.write("\n");
const { charts, ...scored } = result;
const file = join(values.out, `scorecard-${result.run}.json`);
writeFileSync(file, `${JSON.stringify(scored, null, 2)}\n`);
for (const [name, svg] of Object.entries(charts))
  writeFileSync(join(values.out, `${name}-${result.run}.svg`), svg);
console.log(report(result));
console.log(
  `\nwritten: ${file} and ${Object.keys(charts)
    .map((name) => `${name}-${result.run}.svg`)
    .join(", ")}`,
);
