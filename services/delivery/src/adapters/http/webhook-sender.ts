import { eventJson } from "@retail/platform/domain-events";
import { parseTraceparent } from "@retail/platform/rpc";
import { SpanKind, startSpan } from "@retail/platform/telemetry";
import { Webhook } from "standardwebhooks";
import type { DeliveryRecord, Rendered, SendOutcome, WebhookSender } from "../../app/ports.js";
import { retryAfterMs } from "../../domain/retry-schedule.js";

/**
 * The body of a delivery: Standard Webhooks' `type`, `timestamp` and `data` (the event's protobuf JSON
 * form), with the envelope a receiver needs to order and trace it: the event id (also `webhook-id`),
 * the aggregate and its stream version, the source service and the correlation id.
 */
export function webhookBody(delivery: DeliveryRecord): string {
  const data = eventJson(delivery.type, delivery.data);
  return JSON.stringify({
    type: delivery.type,
    timestamp: delivery.eventTime.toISOString(),
    data: data ?? { undecodedBase64: Buffer.from(delivery.data).toString("base64") },
    id: delivery.eventId,
    routingKey: delivery.routingKey,
    subject: delivery.aggregateId,
    sequence: delivery.sequence,
    source: delivery.source,
    correlationId: delivery.correlationId,
  });
}

/**
 * POSTs deliveries with `fetch`: `webhook-id` (the event id, the same on every attempt, so receivers
 * deduplicate), `webhook-timestamp` and `webhook-signature` with one `v1,` signature per secret given
 * (two during a rotation), computed by the `standardwebhooks` library over the body as rendered. Each
 * attempt has its timeout.
 */
export function createWebhookSender(options: { timeoutMs: number; userAgent: string }): WebhookSender {
  const signers = new Map<string, Webhook>();
  const signerOf = (secret: string) => {
    let signer = signers.get(secret);
    if (!signer) {
      signer = new Webhook(secret);
      signers.set(secret, signer);
    }
    return signer;
  };
  return {
    async send(url, webhookId, rendered, secrets, now, attempt): Promise<SendOutcome> {
      // The attempt is a span of the trace its event came in (its order's, say).
      const span = startSpan(
        `deliver ${attempt?.delivery.routingKey ?? webhookId}`,
        SpanKind.CLIENT,
        parseTraceparent(attempt?.delivery.traceparent),
        {
          "http.request.method": "POST",
          "messaging.message.id": webhookId,
          ...(attempt && {
            "webhook.subscription_id": attempt.delivery.subscriptionId,
            "webhook.attempt": attempt.attempt,
          }),
        },
      );
      const outcome = await post(url, webhookId, rendered, secrets, now);
      span.end(outcome.ok ? undefined : outcome.error, {
        attributes: { "http.response.status_code": outcome.status },
      });
      return outcome;
    },
  };

  async function post(
    url: string,
    webhookId: string,
    rendered: Rendered,
    secrets: readonly string[],
    now: Date,
  ): Promise<SendOutcome> {
    const { body } = rendered;
    const signature = secrets.map((secret) => signerOf(secret).sign(webhookId, now, body)).join(" ");
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": rendered.contentType,
          "user-agent": options.userAgent,
          "webhook-id": webhookId,
          "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
          "webhook-signature": signature,
        },
        body,
        redirect: "manual",
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      await response.body?.cancel().catch(() => {});
      const ok = response.status >= 200 && response.status < 300;
      return {
        ok,
        status: response.status,
        error: ok ? "" : `HTTP ${response.status}`,
        retryAfterMs: retryAfterMs(response.headers.get("retry-after"), now),
      };
    } catch (error) {
      const timedOut = error instanceof Error && error.name === "TimeoutError";
      const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
      return {
        ok: false,
        status: 0,
        error: timedOut ? `no answer within ${options.timeoutMs} ms` : `${String(error)}${cause}`,
        retryAfterMs: 0,
      };
    }
  }
}
