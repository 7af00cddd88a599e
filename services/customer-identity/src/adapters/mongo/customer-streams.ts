import { type DescMessage, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  BillingAccountLinkedSchema,
  ConsentChangedSchema,
  CustomerCreatedSchema,
  CustomerDeactivatedSchema,
  CustomerErasedSchema,
  CustomersMergedSchema,
  CustomerUnmergedSchema,
  CustomerUpdatedSchema,
  SourceRecordLinkedSchema,
  SourceRecordUpdatedSchema,
} from "@retail/contracts/retail/customer/v1/customer_events_pb";
import type { StreamStore } from "@retail/platform/store";
import type { CustomerStreams } from "../../app/ports.js";
import { type CustomerEvent, type CustomerState, emptyCustomer, evolve } from "../../domain/customer.js";
import { redactEvent } from "../../domain/erasure.js";

const streamPrefix = "customer:";

export function customerStreamId(customerId: string): string {
  return `${streamPrefix}${customerId}`;
}

const schemas = new Map<string, DescMessage>(
  [
    CustomerCreatedSchema,
    CustomerUpdatedSchema,
    SourceRecordLinkedSchema,
    SourceRecordUpdatedSchema,
    ConsentChangedSchema,
    BillingAccountLinkedSchema,
    CustomersMergedSchema,
    CustomerUnmergedSchema,
    CustomerDeactivatedSchema,
    CustomerErasedSchema,
  ].map((s) => [s.typeName, s]),
);

function decode(type: string, data: Uint8Array): CustomerEvent | undefined {
  const schema = schemas.get(type);
  return schema ? (fromBinary(schema, data) as CustomerEvent) : undefined;
}

/** Customer streams on the platform stream store: "customer:<id>", folded by the domain's evolve. */
export function createCustomerStreams(store: StreamStore): CustomerStreams {
  return {
    async load(customerId) {
      // Customer streams are short and never snapshotted: one read, no snapshot lookup.
      const tail = await store.read(customerStreamId(customerId));
      if (tail.length === 0) return undefined;
      let state: CustomerState = emptyCustomer(customerId);
      for (const stored of tail) {
        const decoded = decode(stored.type, stored.data);
        state = decoded
          ? evolve(state, decoded, stored.version, stored.occurredAt)
          : { ...state, version: stored.version };
      }
      return state;
    },

    append(customerId, expectedVersion, events, options) {
      return store.append(customerStreamId(customerId), expectedVersion, events, options);
    },

    async findRequest(request) {
      const earlier = await store.findRequest(request);
      const streamId = earlier?.events[0]?.streamId;
      return earlier && streamId
        ? { customerId: streamId.slice(streamPrefix.length), result: earlier.result }
        : undefined;
    },

    async redact(customerId) {
      await store.rewrite(customerStreamId(customerId), (e) => {
        const decoded = decode(e.type, e.data);
        if (!decoded) return undefined;
        const schema = schemas.get(e.type) as DescMessage;
        return toBinary(schema, redactEvent(decoded) as never);
      });
    },
  };
}
