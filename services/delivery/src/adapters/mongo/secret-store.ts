import { createHash, randomBytes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { SigningSecretSchema } from "@retail/contracts/retail/delivery/v1/delivery_pb";
import { isDuplicateKey } from "@retail/platform/store";
import type { Db } from "mongodb";
import type { SecretStore } from "../../app/ports.js";

interface SecretDocument {
  _id: string;
  subscriptionId: string;
  text: string;
  createdAt: Date;
}

/**
 * Signing secrets in their own collection (`signing_secrets`): "whsec_" and the base64 of 32 random
 * bytes. A secret's id follows from the request that asked for it, so a retried request finds the
 * secret it made, and the events name secrets by id only.
 */
export function createSecretStore(db: Db): SecretStore {
  const secrets = db.collection<SecretDocument>("signing_secrets");
  return {
    async issue(subscriptionId, requestKey, now) {
      const id = `sec_${createHash("sha256").update(`${subscriptionId}\n${requestKey}`).digest("hex").slice(0, 24)}`;
      const fresh: SecretDocument = {
        _id: id,
        subscriptionId,
        text: `whsec_${randomBytes(32).toString("base64")}`,
        createdAt: now,
      };
      let stored = fresh;
      try {
        await secrets.insertOne(fresh);
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        const found = await secrets.findOne({ _id: id });
        if (!found) throw error;
        stored = found;
      }
      return {
        secret: create(SigningSecretSchema, {
          secretId: id,
          createTime: timestampFromDate(stored.createdAt),
        }),
        text: stored.text,
      };
    },
    async texts(secretIds) {
      if (secretIds.length === 0) return [];
      const found = await secrets.find({ _id: { $in: [...secretIds] } }).toArray();
      const byId = new Map(found.map((s) => [s._id, s.text]));
      return secretIds.flatMap((id) => {
        const text = byId.get(id);
        return text ? [text] : [];
      });
    },
  };
}
