import { createHmac } from "node:crypto";
import { isDuplicateKey } from "@retail/platform/store";
import type { Db } from "mongodb";
import type { KeyClaim, MatchKeyIndex } from "../../app/ports.js";

interface KeyDocument {
  _id: string;
  customerId: string;
  claimedAt: Date;
}

/**
 * The stored id of a normalised key: an HMAC under the service's secret, so the index finds a key
 * without holding emails and phone numbers in clear (the events hold them; erasure rewrites those).
 */
export function matchKeyId(secret: string, keyId: string): string {
  return createHmac("sha256", secret).update(keyId).digest("base64url");
}

/**
 * The match-key index as a collection keyed by the (keyed hash of the) normalised key: a claim is an
 * insert, so of two registrations claiming one key exactly one succeeds, on MongoDB and FerretDB.
 */
export function createMatchKeyIndex(
  db: Db,
  secret: string,
): MatchKeyIndex & { ensureIndexes(): Promise<void> } {
  const keys = db.collection<KeyDocument>("match_keys");
  const idOf = (keyId: string) => matchKeyId(secret, keyId);
  const toClaim = (doc: KeyDocument): KeyClaim => ({ customerId: doc.customerId, claimedAt: doc.claimedAt });
  return {
    async ensureIndexes() {
      await keys.createIndex({ customerId: 1 }, { name: "customer" });
    },
    async owner(keyId) {
      const doc = await keys.findOne({ _id: idOf(keyId) });
      return doc ? toClaim(doc) : undefined;
    },
    async claim(keyId, customerId) {
      const doc = { _id: idOf(keyId), customerId, claimedAt: new Date() };
      try {
        await keys.insertOne(doc);
        return toClaim(doc);
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        const held = await keys.findOne({ _id: doc._id });
        // Released between the insert and the read: whoever asks again will find it free.
        return held ? toClaim(held) : { customerId: "", claimedAt: new Date(0) };
      }
    },
    async release(keyId, customerId) {
      await keys.deleteOne({ _id: idOf(keyId), customerId });
    },
    async releaseAll(customerId) {
      await keys.deleteMany({ customerId });
    },
  };
}
