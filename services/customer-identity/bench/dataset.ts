// A reproducible population of people and the source records channels would send about them, with the
// variations real data has: email case and Gmail dots and tags, phone formats, loyalty numbers typed
// with dashes, people known to several systems, households sharing a phone, marketplace relay emails.
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { SourceRecordSchema } from "@retail/contracts/retail/customer/v1/customer_pb";

export interface LabelledRecord {
  /** The person the record is truly about: the truth the resolution is scored against. */
  readonly person: number;
  readonly record: MessageInitShape<typeof SourceRecordSchema> & { sourceSystem: string; sourceId: string };
}

/** mulberry32: a small seeded generator, so every run resolves the same records. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const givenNames = [
  "Jane",
  "John",
  "Maria",
  "Wei",
  "Aisha",
  "Carlos",
  "Emma",
  "Liam",
  "Olivia",
  "Noah",
  "Sofia",
  "Arjun",
  "Chloe",
  "Mateo",
  "Yuki",
  "Fatima",
];
const familyNames = [
  "Smith",
  "Garcia",
  "Chen",
  "Khan",
  "Muller",
  "Rossi",
  "Silva",
  "Kim",
  "Nguyen",
  "Okafor",
  "Novak",
  "Haddad",
  "Larsen",
  "Dubois",
  "Ivanova",
  "Tanaka",
];
const domains = ["gmail.com", "example.com", "outlook.com", "icloud.com", "example.org"];
const areaCodes = ["212", "415", "312", "617", "206", "303", "512", "404"];

/**
 * `count` records about people: ~65% of people are known to one system, the rest to two to four (about
 * a third of all records are duplicates of a person already seen); 3% of people share a home phone
 * with the person before them.
 */
export function generateRecords(count: number, seed = 42): LabelledRecord[] {
  const rand = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;
  const records: LabelledRecord[] = [];
  let sourceSeq = 0;
  let previousPhone = "";
  for (let person = 0; records.length < count; person++) {
    const given = pick(givenNames);
    const family = pick(familyNames);
    const domain = pick(domains);
    const local = `${given}.${family}${person}`.toLowerCase();
    const email = `${local}@${domain}`;
    const household = person > 0 && rand() < 0.03;
    const line = String(2_000_000 + person).padStart(7, "0");
    const phoneDigits = household ? previousPhone : `${pick(areaCodes)}${line}`;
    previousPhone = phoneDigits;
    const loyalty = rand() < 0.6 ? `LY${String(person).padStart(8, "0")}` : "";
    const roll = rand();
    const copies = roll < 0.65 ? 1 : roll < 0.9 ? 2 : roll < 0.98 ? 3 : 4;

    const area = phoneDigits.slice(0, 3);
    const exchange = phoneDigits.slice(3, 6);
    const rest = phoneDigits.slice(6);
    const formats = [
      `(${area}) ${exchange}-${rest}`,
      `+1 ${area} ${exchange} ${rest}`,
      `+1-${area}-${exchange}-${rest}`,
      `${area}.${exchange}.${rest}`,
    ];
    const emailVariant = () => {
      const r = rand();
      if (r < 0.3) return email.toUpperCase();
      if (r < 0.5 && domain === "gmail.com") return `${local.replace(".", "")}+shop@googlemail.com`;
      if (r < 0.6) return `${given}.${family}${person}@${domain}`;
      return email;
    };
    const systems = ["shopify-web", "pos", "mobile-app", "service-desk", "amazon"];
    const first = Math.floor(rand() * 3);
    for (let c = 0; c < copies && records.length < count; c++) {
      const sourceSystem = systems[(first + c) % systems.length] as string;
      const sourceId = `${sourceSystem}-${++sourceSeq}`;
      const base = { sourceSystem, sourceId, givenName: given, familyName: family };
      switch (sourceSystem) {
        case "shopify-web":
          records.push({
            person,
            record: { ...base, email: emailVariant(), phone: rand() < 0.5 ? pick(formats) : "" },
          });
          break;
        case "pos":
          records.push({
            person,
            record: {
              ...base,
              phone: pick(formats),
              loyaltyNumber: loyalty ? `${loyalty.slice(0, 2).toLowerCase()}-${loyalty.slice(2)}` : "",
              email: rand() < 0.5 ? emailVariant() : "",
            },
          });
          break;
        case "mobile-app":
          records.push({ person, record: { ...base, email: emailVariant(), loyaltyNumber: loyalty } });
          break;
        case "service-desk":
          records.push({
            person,
            record: { ...base, phone: pick(formats), email: rand() < 0.5 ? emailVariant() : "" },
          });
          break;
        default:
          // Marketplaces relay mail through an address of their own: only the phone can match.
          records.push({
            person,
            record: {
              ...base,
              email: `${sourceId}@marketplace.example.net`,
              phone: rand() < 0.7 ? pick(formats) : "",
            },
          });
      }
    }
  }
  return records;
}

/** Pairwise precision and recall of a clustering against the truth (pairs of records put together). */
export function pairwiseScores(truth: readonly number[], predicted: readonly string[]) {
  const pairs = (n: number) => (n * (n - 1)) / 2;
  const count = <K>(keys: readonly K[]) => {
    const counts = new Map<K, number>();
    for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
    return counts;
  };
  const sum = (counts: Map<unknown, number>) => [...counts.values()].reduce((s, n) => s + pairs(n), 0);
  const together = sum(count(predicted));
  const same = sum(count(truth));
  const both = sum(count(truth.map((t, i) => `${t}|${predicted[i]}`)));
  return {
    precision: together === 0 ? 1 : both / together,
    recall: same === 0 ? 1 : both / same,
    truePairs: same,
    truePeople: count(truth).size,
    customers: count(predicted).size,
  };
}

/**
 * Pairs of records about one person that share a match key, directly or through that person's other
 * records: the most any deterministic resolver could link (a record sharing nothing with the rest
 * of its person cannot be linked without guessing).
 */
export function linkablePairs(people: readonly number[], keysOf: (i: number) => readonly string[]): number {
  const parent = people.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i] as number] as number;
      i = parent[i] as number;
    }
    return i;
  };
  const firstWithKey = new Map<string, number>();
  people.forEach((person, i) => {
    for (const key of keysOf(i)) {
      const scoped = `${person}|${key}`;
      const other = firstWithKey.get(scoped);
      if (other === undefined) firstWithKey.set(scoped, i);
      else parent[find(i)] = find(other);
    }
  });
  const sizes = new Map<number, number>();
  for (let i = 0; i < people.length; i++) sizes.set(find(i), (sizes.get(find(i)) ?? 0) + 1);
  return [...sizes.values()].reduce((sum, n) => sum + (n * (n - 1)) / 2, 0);
}
