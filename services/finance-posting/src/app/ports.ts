import type {
  AccountingPeriod,
  JournalEntry,
  ReconciliationException,
  ReconciliationItem,
  Settlement,
  SettlementLine,
} from "@retail/contracts/retail/finance/v1/finance_pb";
import type { Logger } from "@retail/platform/log";
import type { PostedLine, Posting } from "../domain/posting.js";
import type { RuleSet } from "../domain/rules.js";

/** A posted entry with what queries and reconciliation need beside the entry itself. */
export interface StoredEntry {
  readonly entry: JournalEntry;
  readonly fact: string;
  readonly orderId: string;
  readonly provider: string;
  readonly providerReference: string;
  /** The fact's order-level amount (captures, refunds) or delivered total, for per-order state. */
  readonly amount: bigint;
  readonly reversedBy: string;
  /** The settlement that covered it, "" while none has. */
  readonly settledBy: string;
}

/** The journal: immutable entries, each posted once (its id is derived from what it posts). */
export interface Journal {
  /** Posts an entry; false when an entry with its id was posted before (nothing is written). */
  post(entry: JournalEntry, meta: Omit<StoredEntry, "entry" | "reversedBy" | "settledBy">): Promise<boolean>;
  get(entryId: string): Promise<StoredEntry | undefined>;
  list(
    filter: { periodId?: string; orderId?: string; accountCode?: string; eventId?: string },
    pageSize: number,
    pageToken: string,
  ): Promise<{ entries: StoredEntry[]; nextPageToken: string }>;
  forOrder(orderId: string): Promise<StoredEntry[]>;
  forPeriod(periodId: string): Promise<StoredEntry[]>;
  /** Entries of a fact kind posted for a processor reference (reconciliation). */
  byReference(providerReference: string): Promise<StoredEntry[]>;
  /** Entries with a processor reference, of any provider, posted up to a date, not yet settled. */
  unsettledUpTo(upTo: string): Promise<StoredEntry[]>;
  /** Entries with a processor reference, of a provider, up to a date, not yet settled. */
  unsettled(provider: string, upTo: string): Promise<StoredEntry[]>;
  markSettled(entryIds: readonly string[], settlementId: string): Promise<void>;
  markReversed(entryId: string, reversingEntryId: string): Promise<void>;
  /** Entries not yet exported to the ERP, oldest first. */
  unexported(limit: number): Promise<StoredEntry[]>;
}

/** POS-style lines waiting for their store's daily summary. */
export interface StoreLine {
  readonly key: string;
  readonly storeId: string;
  readonly postingDate: string;
  readonly currency: string;
  readonly orderId: string;
  readonly fact: string;
  readonly amount: bigint;
  readonly lines: readonly PostedLine[];
}

export interface StoreLedger {
  /** Records a store's lines once (by key); false when they were recorded before. */
  add(line: StoreLine): Promise<boolean>;
  forOrder(orderId: string): Promise<Array<StoreLine & { summaryKey: string }>>;
  /** A store's lines of one business day, with the summary that carries them (if assigned). */
  forStoreDay(storeId: string, postingDate: string): Promise<Array<StoreLine & { summaryKey: string }>>;
  /** Lines whose summary is not posted yet, for days before `before` (every day when undefined). */
  pending(before: string | undefined): Promise<Array<StoreLine & { summaryKey: string }>>;
  /** Puts lines into a summary before it is posted (a rerun posts the same summary). */
  assign(keys: readonly string[], summaryKey: string): Promise<void>;
  markPosted(keys: readonly string[]): Promise<void>;
}

/** What finance remembers of an order from its acceptance: channel, store and shipping charged. */
export interface OrderTerms {
  readonly orderId: string;
  readonly channel: string;
  readonly storeId: string;
  readonly currency: string;
  readonly shipping: bigint;
}

export interface OrderTermsStore {
  save(terms: OrderTerms): Promise<void>;
  get(orderId: string): Promise<OrderTerms | undefined>;
}

export interface Periods {
  /** The period, created OPEN when it does not exist yet. */
  ensure(periodId: string): Promise<AccountingPeriod>;
  get(periodId: string): Promise<AccountingPeriod | undefined>;
  list(): Promise<AccountingPeriod[]>;
  setStatus(periodId: string, status: AccountingPeriod["status"]): Promise<AccountingPeriod>;
}

export interface StoredSettlement {
  readonly settlement: Settlement;
  readonly items: readonly ReconciliationItem[];
  readonly periodId: string;
  /** How many parts it came in (0 or absent: one call). */
  readonly parts?: number;
}

/** One part of a settlement sent in parts, as reconciled. */
export interface SettlementPart {
  readonly settlementId: string;
  /** Numbered from 1. */
  readonly part: number;
  readonly lines: readonly SettlementLine[];
  readonly items: readonly ReconciliationItem[];
  /** What the part's lines add to the payout (signed amounts less fees withheld; payout lines aside). */
  readonly lineSum: bigint;
  /** Its items that matched. */
  readonly matched: number;
}

export interface Settlements {
  /**
   * Stores a settlement's reconciliation once (for one sent in parts, its completion: the settlement's
   * fields without lines and the payout's item); returns the stored one when it was imported before.
   */
  save(settlement: StoredSettlement): Promise<StoredSettlement>;
  /** The settlement as imported, its parts' lines and items first when it came in parts. */
  get(settlementId: string): Promise<StoredSettlement | undefined>;
  inPeriod(periodId: string): Promise<StoredSettlement[]>;
  /** Stores a part once; returns the stored one when it came before. */
  savePart(part: SettlementPart): Promise<SettlementPart>;
  part(settlementId: string, part: number): Promise<SettlementPart | undefined>;
  /** The parts received so far, without their lines and items. */
  partSummaries(
    settlementId: string,
  ): Promise<Array<Pick<SettlementPart, "part" | "lineSum" | "matched"> & { items: number }>>;
}

export interface Exceptions {
  raise(exception: ReconciliationException): Promise<ReconciliationException>;
  get(exceptionId: string): Promise<ReconciliationException | undefined>;
  list(
    includeResolved: boolean,
    pageSize: number,
    pageToken: string,
  ): Promise<{ exceptions: ReconciliationException[]; nextPageToken: string }>;
  /** Open exceptions of a period, not carried forward. */
  openInPeriod(periodId: string): Promise<ReconciliationException[]>;
  /** Open exceptions a period holds: its own not carried forward, and those carried into it. */
  openHeldBy(periodId: string): Promise<ReconciliationException[]>;
  save(exception: ReconciliationException): Promise<void>;
}

/** An ERP journal import, as a file or an API: one batch at a time, at most `ratePerMinute`. */
export interface ErpAdapter {
  readonly name: string;
  readonly maxEntries: number;
  readonly ratePerMinute: number;
  /** A batch of this adapter begun this long ago and not finished was left by an exporter that died. */
  readonly strandedAfterMs: number;
  /** Writes a batch; the same batch id written twice leaves one batch in the ERP. */
  write(
    batchId: string,
    entries: readonly JournalEntry[],
    accounts: Readonly<Record<string, string>>,
  ): Promise<string>;
}

export interface ExportBatch {
  readonly batchId: string;
  readonly adapter: string;
  readonly entryIds: readonly string[];
  readonly location: string;
  readonly exportedAt: Date;
}

/** A batch begun and not finished: its entries claimed (some or all), its file not yet written. */
export interface UnfinishedBatch {
  readonly requestKey: string;
  readonly batchId: string;
  readonly adapter: string;
  readonly startedAt: Date;
  /** The fingerprint of the request that began it ("" for batches begun before it was kept). */
  readonly fingerprint: string;
}

export interface ExportBatches {
  /** The batch a request made, if it finished one. */
  byRequest(requestKey: string): Promise<(ExportBatch & { readonly fingerprint?: string }) | undefined>;
  /** Records a batch before it claims anything, so a crash after claiming leaves it findable. */
  begin(batch: UnfinishedBatch): Promise<void>;
  /** Batches begun before a time and not finished (their exporter died or failed mid-way). */
  unfinished(before: Date): Promise<UnfinishedBatch[]>;
  /** Claims entries for a batch: returns the ids it got (others were claimed by another batch). */
  claim(batchId: string, entryIds: readonly string[]): Promise<string[]>;
  /** The entries a batch claimed so far. */
  claimedBy(batchId: string): Promise<string[]>;
  /** Marks a begun batch finished, with its entries and where it went. */
  save(requestKey: string, batch: ExportBatch): Promise<void>;
  /** Batches an adapter exported since a time (its rate limit). */
  countSince(adapter: string, since: Date): Promise<number>;
}

/** Publishes a finance event (through the outbox): the stream it belongs to and its message. */
export interface FinanceEvents {
  publish(streamId: string, message: import("@bufbuild/protobuf").Message): Promise<void>;
}

export interface Clock {
  now(): Date;
}

export interface FinanceDeps {
  readonly rules: RuleSet;
  readonly journal: Journal;
  readonly stores: StoreLedger;
  readonly terms: OrderTermsStore;
  readonly periods: Periods;
  readonly settlements: Settlements;
  readonly exceptions: Exceptions;
  readonly exports: ExportBatches;
  readonly erp: ReadonlyMap<string, ErpAdapter>;
  readonly events: FinanceEvents;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly lock: <T>(key: string, work: () => Promise<T>) => Promise<T>;
}

export type { Posting };
