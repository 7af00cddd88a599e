// How a channel calls the gateway: JSON over HTTP with its API key, an Idempotency-Key of its own on
// every write, and retries of the same key when the answer is not final (a 5xx, a 409 in flight, a
// 429, a connection that failed), as a real integration would.

export interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  /** Sends it took, first one included. */
  readonly attempts: number;
}

export class RefusedCall extends Error {
  constructor(
    readonly call: string,
    readonly answer: Answer,
  ) {
    super(`${call}: HTTP ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
  }
}

export interface Rest {
  send(method: string, path: string, body?: unknown, idempotencyKey?: string): Promise<Answer>;
  /** Calls the gateway and throws RefusedCall unless the answer is 2xx. */
  ok(method: string, path: string, body?: unknown, idempotencyKey?: string): Promise<Record<string, unknown>>;
  /**
   * Delivers a channel's own request (a signed webhook) as the channel does: the same body again
   * until a 2xx, with headers made anew for each delivery (a fresh signature). Throws RefusedCall.
   */
  deliver(
    path: string,
    body: string,
    headers: () => Record<string, string>,
  ): Promise<Record<string, unknown>>;
  /** Posts a file (a settlement report) with the API key under an Idempotency-Key; throws RefusedCall. */
  upload(
    path: string,
    body: string,
    contentType: string,
    idempotencyKey: string,
  ): Promise<Record<string, unknown>>;
  /** How many sends were retries, over all calls so far. */
  retries(): number;
}

const retryable = (status: number) => status === 0 || status === 409 || status === 429 || status >= 500;

export function restClient(baseUrl: string, apiKey: string, maxAttempts = 8): Rest {
  let retried = 0;
  async function once(
    method: string,
    path: string,
    body: string | undefined,
    headers: Record<string, string>,
  ): Promise<Answer> {
    try {
      const response = await fetch(`${baseUrl}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
      });
      const text = await response.text();
      return {
        status: response.status,
        body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
        attempts: 1,
      };
    } catch (error) {
      return { status: 0, body: { error: String(error) }, attempts: 1 };
    }
  }
  /** Sends until the answer is final; `repeatable`: whether a failed send may be sent again. */
  async function untilFinal(
    method: string,
    path: string,
    body: string | undefined,
    headers: () => Record<string, string>,
    repeatable: boolean,
  ): Promise<Answer> {
    let answer = await once(method, path, body, headers());
    let attempts = 1;
    while (retryable(answer.status) && attempts < maxAttempts && repeatable) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 50 * 2 ** attempts)));
      answer = await once(method, path, body, headers());
      attempts++;
      retried++;
    }
    return { ...answer, attempts };
  }
  function send(method: string, path: string, body?: unknown, key?: string): Promise<Answer> {
    const headers: Record<string, string> = { "x-api-key": apiKey };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (key) headers["idempotency-key"] = key;
    // Only a call that is safe to repeat is repeated: a read, or a write under its Idempotency-Key.
    const text = body === undefined ? undefined : JSON.stringify(body);
    return untilFinal(method, path, text, () => headers, method === "GET" || key !== undefined);
  }
  const final = (call: string, answer: Answer) => {
    if (answer.status < 200 || answer.status > 299) throw new RefusedCall(call, answer);
    return answer.body;
  };
  return {
    send,
    ok: async (method, path, body, key) => final(`${method} ${path}`, await send(method, path, body, key)),
    deliver: async (path, body, headers) =>
      final(`POST ${path}`, await untilFinal("POST", path, body, headers, true)),
    upload: async (path, body, contentType, key) => {
      const headers = { "x-api-key": apiKey, "content-type": contentType, "idempotency-key": key };
      return final(`POST ${path}`, await untilFinal("POST", path, body, () => headers, true));
    },
    retries: () => retried,
  };
}
