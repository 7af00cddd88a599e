// `npm run bench` (the proving ground): a seeded retail day through the gateway, then its scorecard
// and what one order cost.
//   --seed 1 --orders 300 --rate 10 --skus 40 --people 120   the day and the pace (orders/s, open loop)
//   --gateway http://127.0.0.1:8080 --api-key dev-admin-key  run on `npm start`'s mesh instead of one
//                                                            started here (no cost figures then)
//   --out .mesh/proving-ground                               where the scorecard JSON goes
// A soak is a long day: --orders 36000 --rate 10 is an hour.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { proveDay } from "./prove.js";
import { report } from "./report.js";

const { values } = parseArgs({
  options: {
    seed: { type: "string", default: "1" },
    orders: { type: "string", default: "300" },
    rate: { type: "string", default: "10" },
    skus: { type: "string", default: "40" },
    people: { type: "string", default: "120" },
    gateway: { type: "string" },
    "api-key": { type: "string" },
    out: { type: "string", default: ".mesh/proving-ground" },
  },
});
const live = process.stderr.isTTY;
const result = await proveDay({
  seed: Number(values.seed),
  orders: Number(values.orders),
  rate: Number(values.rate),
  skus: Number(values.skus),
  people: Number(values.people),
  ...(values.gateway ? { gatewayUrl: values.gateway } : {}),
  ...(values["api-key"] ? { apiKey: values["api-key"] } : {}),
  progress: (line) => process.stderr.write(live ? `\r\x1b[K${line}` : `${line}\n`),
});
if (live) process.stderr.write("\n");
mkdirSync(values.out, { recursive: true });
const file = join(values.out, `scorecard-${result.run}.json`);
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
console.log(report(result));
console.log(`\nwritten: ${file}`);
