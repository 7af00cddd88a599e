import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { MergeCandidateRaisedSchema } from "@retail/contracts/retail/customer/v1/customer_events_pb";
import { type MergeCandidate, MergeCandidateSchema } from "@retail/contracts/retail/customer/v1/customer_pb";
import {
  ConcurrencyConflict,
  event,
  findPage,
  isDuplicateKey,
  type StreamStore,
} from "@retail/platform/store";
import type { Db } from "mongodb";
import type { MergeCandidates } from "../../app/ports.js";
import { mergeCandidateIdOf } from "../../domain/merge-rules.js";

interface CandidateDocument {
  _id: string;
  customerIds: string[];
  matchedKeys: string[];
  reason: string;
  createdAt: Date;
  open: boolean;
}

function toCandidate(doc: CandidateDocument): MergeCandidate {
  return create(MergeCandidateSchema, {
    candidateId: doc._id,
    customerIds: doc.customerIds,
    matchedKeys: doc.matchedKeys,
    reason: doc.reason,
    createTime: timestampFromDate(doc.createdAt),
  });
}

/**
 * Merge candidates in their own collection, one per set of customers (the id is a hash of the sorted
 * ids, so raising the same set again finds the first). Each raise is announced once on its own stream.
 */
export function createMergeCandidateStore(
  db: Db,
  store: StreamStore,
): MergeCandidates & { ensureIndexes(): Promise<void> } {
  const candidates = db.collection<CandidateDocument>("merge_candidates");
  return {
    async ensureIndexes() {
      await candidates.createIndex({ open: 1, createdAt: 1 }, { name: "open_by_age" });
    },

    async raise(customerIds, matchedKeys, reason) {
      const ids = [...new Set(customerIds)].sort();
      const candidateId = mergeCandidateIdOf(ids);
      const doc: CandidateDocument = {
        _id: candidateId,
        customerIds: ids,
        matchedKeys: [...matchedKeys],
        reason,
        createdAt: new Date(),
        open: true,
      };
      const stored = await candidates.insertOne(doc).then(
        () => doc,
        async (error: unknown) => {
          if (!isDuplicateKey(error)) throw error;
          return (await candidates.findOne({ _id: candidateId })) ?? doc;
        },
      );
      const candidate = toCandidate(stored);
      const raised = create(MergeCandidateRaisedSchema, { mergeCandidate: candidate });
      await store
        .append(`merge-candidate:${candidateId}`, 0, [event(MergeCandidateRaisedSchema, raised)])
        .catch((error: unknown) => {
          if (!(error instanceof ConcurrencyConflict)) throw error; // announced before
        });
      return candidate;
    },

    async get(candidateId) {
      const doc = await candidates.findOne({ _id: candidateId });
      return doc ? toCandidate(doc) : undefined;
    },

    async listOpen(pageSize, pageToken) {
      const page = await findPage(candidates, { open: true }, "createdAt", pageSize, pageToken);
      return { candidates: page.docs.map(toCandidate), nextPageToken: page.nextPageToken };
    },

    async resolve(candidateId) {
      await candidates.updateOne({ _id: candidateId }, { $set: { open: false } });
    },
  };
}
