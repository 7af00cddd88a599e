// The outbound side of a proving day: a subscriber of every order event (a real HTTP server, signatures
// checked with the `standardwebhooks` verifier), subscribed through the gateway as an ERP would be,
// and judged at the end of the day against each order's stream: every version delivered (nothing
// lost), first arrivals in version order (ordered per aggregate), repeats counted (delivery is at least
// once, a receiver deduplicates by webhook-id).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import type { Rest } from "./rest.js";

export interface WebhookVerdict {
  /** Order events the subscriber should have had (every version of every order of the day). */
  readonly expected: number;
  readonly delivered: number;
  /** Versions never delivered. */
  readonly lost: number;
  /** Orders whose versions first arrived out of order. */
  readonly outOfOrder: number;
  /** Deliveries of a webhook-id already received (a retry after a lost answer, a crash). */
  readonly repeats: number;
  /** Deliveries whose signature did not verify. */
  readonly unverified: number;
  /** From the end of the day until the last event arrived. */
  readonly drainMs: number;
  readonly problems: readonly string[];
}

interface Received {
  readonly id: string;
  readonly subject: string;
  readonly sequence: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts the subscriber and subscribes it to `order.#` through the gateway (scope delivery:write). */
export async function startWebhookSubscriber(rest: Rest, run: string) {
  const received: Received[] = [];
  const seen = new Set<string>();
  let repeats = 0;
  let unverified = 0;
  let verifier: Webhook | undefined;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const headers = Object.fromEntries(
        ["webhook-id", "webhook-timestamp", "webhook-signature"].map((h) => [
          h,
          String(request.headers[h] ?? ""),
        ]),
      );
      try {
        if (!verifier) throw new Error("no secret yet");
        const event = verifier.verify(body, headers) as { subject: string; sequence: number };
        const id = headers["webhook-id"] ?? "";
        if (seen.has(id)) repeats++;
        else {
          seen.add(id);
          received.push({ id, subject: event.subject, sequence: event.sequence });
        }
        response.writeHead(204).end();
      } catch {
        unverified++;
        response.writeHead(401).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const subscriptionId = `proving-${run}`.toLowerCase().replace(/[^a-z0-9-]/g, "-");
  const created = await rest.ok(
    "POST",
    "/v1/subscriptions",
    {
      subscriptionId,
      url: `http://127.0.0.1:${port}/webhooks`,
      description: "the proving day's ERP: every order event",
      filter: { eventTypes: ["order.#"] },
      maxPerSecond: 1000,
    },
    `subscribe-${subscriptionId}`,
  );
  verifier = new Webhook(String(created.signingSecret));

  return {
    subscriptionId,
    /**
     * Waits (up to `timeoutMs`) until every version of every order was delivered, then judges. The
     * orders' versions are read back through the gateway.
     */
    async judge(orderIds: readonly string[], timeoutMs = 180_000): Promise<WebhookVerdict> {
      const versions = new Map<string, number>();
      for (const orderId of orderIds) {
        const { order } = (await rest.ok("GET", `/v1/orders/${orderId}`)) as { order?: { version?: string } };
        versions.set(`order:${orderId}`, Number(order?.version ?? 0));
      }
      const expected = [...versions.values()].reduce((a, b) => a + b, 0);
      const started = Date.now();
      const ofOurs = () => received.filter((r) => versions.has(r.subject)).length;
      while (ofOurs() < expected && Date.now() - started < timeoutMs) await sleep(500);
      const drainMs = Date.now() - started;
      const bySubject = new Map<string, number[]>();
      for (const r of received) bySubject.set(r.subject, [...(bySubject.get(r.subject) ?? []), r.sequence]);
      const problems: string[] = [];
      let lost = 0;
      let outOfOrder = 0;
      for (const [subject, version] of versions) {
        const got = bySubject.get(subject) ?? [];
        const missing = Array.from({ length: version }, (_, i) => i + 1).filter((v) => !got.includes(v));
        lost += missing.length;
        if (missing.length > 0 && problems.length < 10)
          problems.push(`${subject}: versions ${missing.join(", ")} of ${version} never delivered`);
        if (got.some((v, i) => i > 0 && v < (got[i - 1] ?? 0))) {
          outOfOrder++;
          if (problems.length < 10) problems.push(`${subject}: arrived as ${got.join(", ")}`);
        }
      }
      return {
        expected,
        delivered: ofOurs(),
        lost,
        outOfOrder,
        repeats,
        unverified,
        drainMs,
        problems,
      };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
