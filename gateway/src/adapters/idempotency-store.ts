// Idempotency-Key records (draft-ietf-httpapi-idempotency-key-header) in the gateway's MongoDB
// database, shared by every gateway replica. The first request with a key inserts an in-flight record
// (an insert against the unique _id: of concurrent firsts exactly one wins); the response is stored
// when it is final and replayed for every repeat. A repeat with another request fingerprint is refused,
// a repeat while the first is in flight is told so. A record left in flight by a gateway that died is
// taken over after `staleAfterMs`: the services dedupe by the same request id, so the take-over cannot
// apply the operation twice. Completed records are deleted after `retentionMs` by a periodic sweep
// (FerretDB has no TTL indexes).
//
// An attempt's last write (storing the answer, or letting go of the key) can meet a database that is
// away for a moment; the answer is still the client's, so the write is retried in the background, and
// an insert whose reply was lost is taken back by its attempt's token. A key is not held for
// `staleAfterMs` by an attempt that has already ended, so the client's retry runs once the database is
// back.
import { randomUUID } from "node:crypto";
import { escapeRegExp, isDuplicateKey } from "@retail/platform/store";
import type { Collection, Db } from "mongodb";

export interface StoredResponse {
  readonly status: number;
  readonly body: string;
}

export type IdempotencyStart =
  | { readonly kind: "started" }
  | { readonly kind: "replay"; readonly response: StoredResponse }
  | { readonly kind: "fingerprint-mismatch" }
  | { readonly kind: "in-flight" };

export interface IdempotencyStore {
  start(scopedKey: string, fingerprint: string): Promise<IdempotencyStart>;
  /** Stores the final answer; never fails (a write the database refuses now is retried later). */
  complete(scopedKey: string, response: StoredResponse): Promise<void>;
  /**
   * Forgets a started key whose outcome may change on retry (unavailable, timeout, conflict); never
   * fails, likewise.
   */
  abandon(scopedKey: string): Promise<void>;
  /** Deletes completed records older than the retention; returns how many. */
  purge(now?: Date): Promise<number>;
  /**
   * Drops every stored answer that names a customer (erasure: an order or customer answer carries the
   * person's details). A repeat of such a key runs again, and the service answers it from its own
   * request-id record, so nothing applies twice. Returns how many were dropped.
   */
  forgetAnswersNaming(customerId: string): Promise<number>;
}

interface IdempotencyRecord {
  _id: string;
  fingerprint: string;
  /** The attempt holding the key in flight. */
  token?: string;
  state: "in-flight" | "done";
  startedAt: Date;
  completedAt?: Date;
  response?: StoredResponse;
}

export function createIdempotencyStore(
  db: Db,
  options: { staleAfterMs: number; retentionMs: number },
): IdempotencyStore {
  const records: Collection<IdempotencyRecord> = db.collection("idempotency_keys");
  /** This gateway's attempt on each key it holds in flight. */
  const tokens = new Map<string, string>();
  /**
   * Runs a write; while the database refuses it, tries again in the background (every second at most,
   * for as long as the record could otherwise hold the key), and resolves at once either way.
   */
  const settle = async (write: () => Promise<unknown>): Promise<void> => {
    const giveUpAt = Date.now() + options.staleAfterMs;
    const attempt = async (delayMs: number): Promise<void> => {
      try {
        await write();
      } catch {
        if (Date.now() + delayMs > giveUpAt) return;
        setTimeout(() => void attempt(Math.min(delayMs * 2, 1_000)), delayMs).unref();
      }
    };
    await attempt(50);
  };
  const start = async (
    scopedKey: string,
    fingerprint: string,
    takeOver = true,
  ): Promise<IdempotencyStart> => {
    const token = randomUUID();
    try {
      await records.insertOne({
        _id: scopedKey,
        fingerprint,
        token,
        state: "in-flight",
        startedAt: new Date(),
      });
      tokens.set(scopedKey, token);
      return { kind: "started" };
    } catch (error) {
      if (!isDuplicateKey(error)) {
        // The insert may have landed with its reply lost: take it back, so it holds nothing.
        void settle(() => records.deleteOne({ _id: scopedKey, token }));
        throw error;
      }
    }
    const existing = await records.findOne({ _id: scopedKey });
    if (!existing) return takeOver ? start(scopedKey, fingerprint, false) : { kind: "in-flight" };
    if (existing.fingerprint !== fingerprint) return { kind: "fingerprint-mismatch" };
    if (existing.state === "done" && existing.response)
      return { kind: "replay", response: existing.response };
    if (takeOver && Date.now() - existing.startedAt.getTime() > options.staleAfterMs) {
      await records.deleteOne({ _id: scopedKey, state: "in-flight", startedAt: existing.startedAt });
      return start(scopedKey, fingerprint, false);
    }
    return { kind: "in-flight" };
  };
  return {
    start: (scopedKey, fingerprint) => start(scopedKey, fingerprint),
    async complete(scopedKey, response) {
      const token = tokens.get(scopedKey);
      tokens.delete(scopedKey);
      await settle(() =>
        records.updateOne(
          { _id: scopedKey, ...(token && { token }) },
          { $set: { state: "done", response, completedAt: new Date() }, $unset: { token: "" } },
        ),
      );
    },
    async abandon(scopedKey) {
      const token = tokens.get(scopedKey);
      tokens.delete(scopedKey);
      await settle(() => records.deleteOne({ _id: scopedKey, state: "in-flight", ...(token && { token }) }));
    },
    async forgetAnswersNaming(customerId) {
      const result = await records.deleteMany({ "response.body": { $regex: escapeRegExp(customerId) } });
      return result.deletedCount;
    },
    async purge(now = new Date()) {
      const result = await records.deleteMany({
        state: "done",
        completedAt: { $lt: new Date(now.getTime() - options.retentionMs) },
      });
      return result.deletedCount;
    },
  };
}
