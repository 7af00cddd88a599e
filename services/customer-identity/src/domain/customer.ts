import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Channel } from "@retail/contracts/retail/common/v1/common_pb";
import type {
  BillingAccountLinked,
  ConsentChanged,
  CustomerCreated,
  CustomerDeactivated,
  CustomerErased,
  CustomersMerged,
  CustomerUnmerged,
  CustomerUpdated,
  SourceRecordLinked,
  SourceRecordUpdated,
} from "@retail/contracts/retail/customer/v1/customer_events_pb";
import {
  type BillingAccount,
  ConsentPurpose,
  type ConsentStatus,
  CustomerStatus,
  type SourceRecord,
} from "@retail/contracts/retail/customer/v1/customer_pb";
import { sourceKey } from "./match-keys.js";

/** A source record linked to a customer, as received, and when it was linked. */
export interface LinkedSource {
  readonly record: SourceRecord;
  readonly linkedAt: Date;
}

/** One consent statement a source made, kept as history (the effective consent is derived). */
export interface ConsentChange {
  readonly purpose: ConsentPurpose;
  readonly channel: Channel;
  readonly status: ConsentStatus;
  readonly sourceSystem: string;
  readonly changedAt: Date;
}

/**
 * One customer stream folded: what this customer itself holds. A survivor's full profile also holds
 * the customers merged into it (`absorbed`), whose streams keep their own source links, so an unmerge
 * only has to stop including them.
 */
export interface CustomerState {
  readonly customerId: string;
  readonly version: number;
  readonly status: CustomerStatus;
  /** The status before a merge, restored by an unmerge. */
  readonly statusBeforeMerge: CustomerStatus;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  /** Keyed by the source match key id ("source:pos:123"). */
  readonly sources: ReadonlyMap<string, LinkedSource>;
  readonly consentChanges: readonly ConsentChange[];
  /** Keyed by "<erp system>/<account id>". */
  readonly billingAccounts: ReadonlyMap<string, BillingAccount>;
  readonly absorbed: readonly string[];
  readonly mergedInto: string;
}

export type CustomerEvent =
  | CustomerCreated
  | CustomerUpdated
  | SourceRecordLinked
  | SourceRecordUpdated
  | ConsentChanged
  | BillingAccountLinked
  | CustomersMerged
  | CustomerUnmerged
  | CustomerDeactivated
  | CustomerErased;

export function emptyCustomer(customerId: string): CustomerState {
  return {
    customerId,
    version: 0,
    status: CustomerStatus.UNSPECIFIED,
    statusBeforeMerge: CustomerStatus.UNSPECIFIED,
    createdAt: new Date(0),
    updatedAt: new Date(0),
    sources: new Map(),
    consentChanges: [],
    billingAccounts: new Map(),
    absorbed: [],
    mergedInto: "",
  };
}

export function sourceKeyOf(record: SourceRecord): string {
  return sourceKey(record.sourceSystem, record.sourceId).id;
}

export function billingKeyOf(account: BillingAccount): string {
  return `${account.erpSystem}/${account.accountId}`;
}

/** When a source observed its record (records without a time count as observed when linked). */
export function observedAt(source: LinkedSource): Date {
  return source.record.observedTime ? timestampDate(source.record.observedTime) : source.linkedAt;
}

/** Applies one event of this customer's stream; `at` is when it was recorded. */
export function evolve(state: CustomerState, event: CustomerEvent, version: number, at: Date): CustomerState {
  const next = { ...state, version, updatedAt: at };
  switch (event.$typeName) {
    case "retail.customer.v1.CustomerCreated":
      return { ...next, status: CustomerStatus.ACTIVE, createdAt: at };
    case "retail.customer.v1.SourceRecordLinked":
    case "retail.customer.v1.SourceRecordUpdated": {
      if (!event.sourceRecord) return next;
      const sources = new Map(state.sources);
      const key = sourceKeyOf(event.sourceRecord);
      sources.set(key, { record: event.sourceRecord, linkedAt: state.sources.get(key)?.linkedAt ?? at });
      return { ...next, sources };
    }
    case "retail.customer.v1.ConsentChanged": {
      const c = event.consent;
      if (!c) return next;
      const change: ConsentChange = {
        purpose: c.purpose,
        channel: c.channel,
        status: c.status,
        sourceSystem: c.sourceSystem,
        changedAt: c.changeTime ? timestampDate(c.changeTime) : at,
      };
      return { ...next, consentChanges: [...state.consentChanges, change] };
    }
    case "retail.customer.v1.BillingAccountLinked": {
      if (!event.billingAccount) return next;
      const billingAccounts = new Map(state.billingAccounts);
      billingAccounts.set(billingKeyOf(event.billingAccount), event.billingAccount);
      return { ...next, billingAccounts };
    }
    case "retail.customer.v1.CustomersMerged":
      return event.survivorCustomerId === state.customerId
        ? { ...next, absorbed: [...state.absorbed, ...event.mergedCustomerIds] }
        : {
            ...next,
            status: CustomerStatus.MERGED,
            statusBeforeMerge: state.status,
            mergedInto: event.survivorCustomerId,
          };
    case "retail.customer.v1.CustomerUnmerged":
      return event.customerId === state.customerId
        ? { ...next, absorbed: state.absorbed.filter((id) => id !== event.restoredCustomerId) }
        : { ...next, status: state.statusBeforeMerge, mergedInto: "" };
    case "retail.customer.v1.CustomerDeactivated":
      return { ...next, status: CustomerStatus.DEACTIVATED };
    case "retail.customer.v1.CustomerErased":
      return {
        ...emptyCustomer(state.customerId),
        version,
        status: CustomerStatus.ERASED,
        // Ids only: an erasure retried after a crash must still find every merged-in customer.
        absorbed: state.absorbed,
        mergedInto: state.mergedInto,
        createdAt: state.createdAt,
        updatedAt: at,
      };
    case "retail.customer.v1.CustomerUpdated":
      return next;
  }
}

/** Whether the customer takes new links, consents and accounts (active or deactivated, not gone). */
export function isLive(state: CustomerState): boolean {
  return state.status === CustomerStatus.ACTIVE || state.status === CustomerStatus.DEACTIVATED;
}

/** Consent purposes a change may name (the zero value is no purpose). */
export const consentPurposes = [
  ConsentPurpose.MARKETING_EMAIL,
  ConsentPurpose.MARKETING_SMS,
  ConsentPurpose.PROFILING,
] as const;
