// A webhook receiver as its own process, for the delivery tests: it verifies every delivery's
// Standard Webhooks signature with the `standardwebhooks` verifier against the secrets it was given,
// records what came, and answers as it is told: 204 (401 when no secret verifies), 500, or never (a
// hang the sender must time out). PORT=0 picks a port; the first stdout line is `listening <port>`.
// Each endpoint key (one per subscription under test) has its own mode, secrets and record:
//   POST /hooks/<key>                 a delivery
//   POST /control/<key> {"mode": "ok" | "fail" | "hang", "secrets": ["whsec_…"]}
//   GET  /received/<key> -> [{ id, type, subject, sequence, verified, body }]
import { createServer, type IncomingMessage } from "node:http";
import { Webhook, WebhookVerificationError } from "standardwebhooks";

type Mode = "ok" | "fail" | "hang";
interface Delivered {
  id: string;
  type: string;
  subject: string;
  sequence: number;
  verified: boolean;
  body: unknown;
}
interface Endpoint {
  mode: Mode;
  verifiers: Webhook[];
  received: Delivered[];
}

const endpoints = new Map<string, Endpoint>();
function endpoint(key: string): Endpoint {
  let found = endpoints.get(key);
  if (!found) {
    found = { mode: "ok", verifiers: [], received: [] };
    endpoints.set(key, found);
  }
  return found;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

/**
 * Whether a secret verifies the delivery. The library's verify() parses the body as JSON once the
 * signature checks out: for an X12 body that parse fails after the signature passed, which counts.
 */
function verifies(at: Endpoint, body: string, headers: Record<string, string>): boolean {
  return at.verifiers.some((verifier) => {
    try {
      verifier.verify(body, headers);
      return true;
    } catch (error) {
      return !(error instanceof WebhookVerificationError);
    }
  });
}

const server = createServer(async (request, response) => {
  const body = await readBody(request);
  const [, route = "", key = ""] = (request.url ?? "").split("/");
  const at = endpoint(key);
  if (route === "control") {
    const control = JSON.parse(body) as { mode?: Mode; secrets?: string[] };
    if (control.mode) at.mode = control.mode;
    if (control.secrets) at.verifiers = control.secrets.map((s) => new Webhook(s));
    response.writeHead(204).end();
    return;
  }
  if (route === "received") {
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(at.received));
    return;
  }
  if (at.mode === "hang") return; // never answered: the sender's timeout ends it
  if (at.mode === "fail") {
    response.writeHead(500, { "retry-after": "0" }).end("down for maintenance");
    return;
  }
  const headers = Object.fromEntries(
    ["webhook-id", "webhook-timestamp", "webhook-signature"].map((h) => [
      h,
      String(request.headers[h] ?? ""),
    ]),
  );
  const verified = verifies(at, body, headers);
  // A JSON delivery is read; any other (an X12 document) is kept as its text.
  const json = String(request.headers["content-type"] ?? "").startsWith("application/json");
  const parsed = json
    ? (JSON.parse(body) as { type: string; subject: string; sequence: number })
    : { type: String(request.headers["content-type"]), subject: "", sequence: 0, raw: body };
  at.received.push({
    id: headers["webhook-id"] ?? "",
    type: parsed.type,
    subject: parsed.subject,
    sequence: parsed.sequence,
    verified,
    body: parsed,
  });
  response.writeHead(verified ? 204 : 401).end();
});

server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  const address = server.address();
  console.log(`listening ${typeof address === "object" && address ? address.port : 0}`);
});
process.on("SIGTERM", () => {
  server.closeAllConnections();
  process.exit(0);
});
