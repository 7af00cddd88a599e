import { Channel } from "@retail/contracts/retail/common/v1/common_pb";

/** A system allowed to send source records, and how far its data is trusted. */
export interface SourceSystem {
  readonly id: string;
  readonly channel: Channel;
  /** Higher wins survivorship; ties go to the most recent observation. */
  readonly trust: number;
  /** Per-attribute trust overriding `trust` ("addresses": the ERP knows billing addresses best). */
  readonly attributeTrust?: Readonly<Partial<Record<GoldenAttribute, number>>> | undefined;
  /**
   * The source relays mail through per-buyer masked addresses (marketplaces): they are kept as
   * received but never matched, never used to tell people apart and never the golden email.
   */
  readonly masksEmails?: boolean | undefined;
  /** ISO 3166-1 alpha-2 region for phone numbers without a country prefix (a record's own wins). */
  readonly defaultRegion: string;
}

export const goldenAttributes = [
  "email",
  "phone",
  "given_name",
  "family_name",
  "loyalty_number",
  "addresses",
] as const;
export type GoldenAttribute = (typeof goldenAttributes)[number];

/**
 * The source systems a retailer starts with. Identity checked at a desk beats self-typed web data,
 * which beats a marketplace's masked buyer record. Replaced through SOURCE_SYSTEMS (config.ts).
 */
export const defaultSourceSystems: readonly SourceSystem[] = [
  { id: "service-desk", channel: Channel.SERVICE_DESK, trust: 50, defaultRegion: "US" },
  { id: "erp", channel: Channel.B2B, trust: 45, attributeTrust: { addresses: 60 }, defaultRegion: "US" },
  { id: "b2b-portal", channel: Channel.B2B, trust: 40, defaultRegion: "US" },
  { id: "pos", channel: Channel.POS, trust: 30, defaultRegion: "US" },
  { id: "shopify-web", channel: Channel.WEB, trust: 20, defaultRegion: "US" },
  { id: "mobile-app", channel: Channel.APP, trust: 20, defaultRegion: "US" },
  { id: "amazon", channel: Channel.MARKETPLACE, trust: 10, masksEmails: true, defaultRegion: "US" },
];

export function trustOf(source: SourceSystem | undefined, attribute: GoldenAttribute): number {
  return source?.attributeTrust?.[attribute] ?? source?.trust ?? 0;
}
