import { isDuplicateKey } from "@retail/platform/store";
import type { Db } from "mongodb";
import type { KeyClaim, MatchKeyIndex } from "../../app/ports.js";

interface KeyDocument {
  _id: string;
  customerId: string;
  claimedAt: Date;
}

/**
 * The match-key index as a collection keyed by the normalised key ("email:jane@example.com"): a claim
 * is an insert, so of two registrations claiming one key exactly one succeeds, on MongoDB and FerretDB.
 */
export function createMatchKeyIndex(db: Db): MatchKeyIndex & { ensureIndexes(): Promise<void> } {
  const keys = db.collection<KeyDocument>("match_keys");
  const toClaim = (doc: KeyDocument): KeyClaim => ({ customerId: doc.customerId, claimedAt: doc.claimedAt });
  return {
    async ensureIndexes() {
      await keys.createIndex({ customerId: 1 }, { name: "customer" });
    },
    async owner(keyId) {
      const doc = await keys.findOne({ _id: keyId });
      return doc ? toClaim(doc) : undefined;
    },
    async claim(keyId, customerId) {
      const doc = { _id: keyId, customerId, claimedAt: new Date() };
      try {
        await keys.insertOne(doc);
        return toClaim(doc);
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        const held = await keys.findOne({ _id: keyId });
        // Released between the insert and the read: whoever asks again will find it free.
        return held ? toClaim(held) : { customerId: "", claimedAt: new Date(0) };
      }
    },
    async release(keyId, customerId) {
      await keys.deleteOne({ _id: keyId, customerId });
    },
    async releaseAll(customerId) {
      await keys.deleteMany({ customerId });
    },
  };
}
