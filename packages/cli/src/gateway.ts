// The gateway's REST API as the CLI calls it: the operator's key on every call, an Idempotency-Key on
// every change, and answers turned into what a script can branch on (the exit codes of main.ts).
import { randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { Readable } from "node:stream";

/** Why a command failed, and the exit code that says so. */
export class CommandFailed extends Error {
  readonly exitCode: number;
  readonly body: unknown;
  constructor(message: string, exitCode: number, body?: unknown) {
    super(message);
    this.exitCode = exitCode;
    this.body = body;
  }
}

/** Exit codes a script can trust. */
export const exitCodes = {
  ok: 0,
  /** The mesh answered, and what it said is trouble: a refusal (4xx), rows rejected, a service away. */
  trouble: 1,
  /** The command line itself is wrong. */
  usage: 2,
  /** The gateway cannot be reached, or refuses the key (401/403). */
  unreachable: 3,
  /** The mesh failed (5xx). */
  failed: 4,
} as const;

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: answers are read as the API documents them
  readonly json: any;
}

export interface Gateway {
  get(path: string): Promise<Answer>;
  post(path: string, body: unknown, idempotencyKey?: string): Promise<Answer>;
  /** Streams a file as the body; `onSent` is told the bytes sent so far. */
  upload(
    path: string,
    file: string,
    options: { contentType: string; idempotencyKey: string; onSent(bytes: number, total: number): void },
  ): Promise<Answer>;
}

/** A google.rpc.Status body as one line: the message and each field violation. */
export function describeError(json: unknown): string {
  const status = json as {
    message?: string;
    details?: Array<{ reason?: string; fieldViolations?: Array<{ field: string; description: string }> }>;
  };
  const violations = (status?.details ?? []).flatMap((d) => d.fieldViolations ?? []);
  const reason = status?.details?.find((d) => d.reason)?.reason;
  return [
    status?.message ?? "",
    reason ? `(${reason})` : "",
    ...violations.map((v) => `${v.field}: ${v.description}`),
  ]
    .filter(Boolean)
    .join("; ");
}

function checked(answer: Answer): Answer {
  if (answer.status < 400) return answer;
  const what = describeError(answer.json) || `HTTP ${answer.status}`;
  if (answer.status === 401 || answer.status === 403)
    throw new CommandFailed(`the gateway refused the key: ${what}`, exitCodes.unreachable, answer.json);
  if (answer.status >= 500)
    throw new CommandFailed(`the mesh failed: ${what}`, exitCodes.failed, answer.json);
  throw new CommandFailed(`refused: ${what}`, exitCodes.trouble, answer.json);
}

export function createGateway(options: { url: string; key: string; timeoutMs: number }): Gateway {
  const base = options.url.replace(/\/$/, "");
  const call = async (path: string, init: RequestInit & { duplex?: "half" }): Promise<Answer> => {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        ...init,
        headers: { "x-api-key": options.key, accept: "application/json", ...init.headers },
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
      throw new CommandFailed(`cannot reach the gateway at ${base}${cause}`, exitCodes.unreachable);
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = { message: text.slice(0, 500) };
    }
    return checked({ status: response.status, headers: response.headers, json });
  };
  return {
    get: (path) => call(path, { method: "GET" }),
    post: (path, body, idempotencyKey = randomUUID()) =>
      call(path, {
        method: "POST",
        headers: { "content-type": "application/json", "idempotency-key": idempotencyKey },
        body: JSON.stringify(body),
      }),
    async upload(path, file, upload) {
      const total = (await stat(file)).size;
      let sent = 0;
      const counted = Readable.from(
        (async function* () {
          for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024 })) {
            sent += (chunk as Buffer).length;
            upload.onSent(sent, total);
            yield chunk as Buffer;
          }
        })(),
      );
      return call(path, {
        method: "POST",
        headers: { "content-type": upload.contentType, "idempotency-key": upload.idempotencyKey },
        body: Readable.toWeb(counted) as ReadableStream,
        duplex: "half",
      });
    },
  };
}
