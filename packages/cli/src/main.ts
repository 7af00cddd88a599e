#!/usr/bin/env node
// mesh: the operators' command line, over the gateway's REST API with an operator key.
//   mesh status | exceptions | trace <id> | parked | replay | rebuild | export | import <file>
// Human output by default, --json for scripts; exit codes in gateway.ts (exitCodes).
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { parseArgs } from "node:util";
import { SingleBar } from "cli-progress";
import { CommandFailed, createGateway, exitCodes, type Gateway } from "./gateway.ts";

const usage = `mesh: see and repair the retail integration mesh from a terminal

  mesh status                                   services, queues, outboxes, exception counts, last hour
  mesh exceptions [--kind K] [--older-than 10m] [--source S] [--resolved]
  mesh trace <id> [--by order|customer|correlation]   what happened, in time order (default: order)
  mesh parked [--service S]                     parked messages, decoded, with their reasons
  mesh replay --service S --queue Q (--event ID ... | --all) --reason TEXT
  mesh rebuild --service S --read-model NAME --reason TEXT
  mesh export --subscription ID [--since ISO-TIME]    send a subscriber (an ERP) its dead deliveries
                                                      again, or every one since a time
  mesh import <file> --as amazon-settlement|stripe-payouts|x12|pos|amazon-order
                     [--idempotency-key K]      (default: the file's SHA-256: the same file is one import)

  --url URL     the gateway (MESH_URL, default http://127.0.0.1:8080)
  --key KEY     an API key with the operations scopes (MESH_API_KEY)
  --json        the answer as JSON, for scripts
  --progress    a progress bar even when stderr is not a terminal

Exit codes: 0 done; 1 the mesh answered with trouble (a refusal, rejected rows, a service away);
2 usage; 3 the gateway cannot be reached or refuses the key; 4 the mesh failed (5xx).`;

const imports: Record<string, { path: string; contentType: string }> = {
  "amazon-settlement": {
    path: "/imports/amazon/settlement-report",
    contentType: "text/tab-separated-values",
  },
  "stripe-payouts": { path: "/imports/stripe/payout-reconciliation", contentType: "text/csv" },
  x12: { path: "/imports/x12", contentType: "application/edi-x12" },
  pos: { path: "/imports/pos/transactions", contentType: "application/json" },
  "amazon-order": { path: "/imports/amazon/orders", contentType: "application/json" },
};

type Flags = Record<string, string | boolean | Array<string | boolean> | undefined>;

interface Output {
  json: boolean;
  line(text?: string): void;
}

/** Columns padded to their widest cell. */
function table(rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  const cells = rows.map((row) => row.map(String));
  const widths = cells[0]?.map((_, i) => Math.max(...cells.map((row) => row[i]?.length ?? 0))) ?? [];
  return cells
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** "3 min", "2.5 h", "4 d" since an RFC 3339 time. */
export function age(since: string | undefined, now = Date.now()): string {
  if (!since) return "";
  const ms = Math.max(0, now - Date.parse(since));
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 86_400_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${(ms / 86_400_000).toFixed(1)} d`;
}

/** "10m", "2h", "90s", "1d" as seconds for the API's durations. */
function seconds(text: string): number {
  const match = /^(\d+)([smhd])$/.exec(text);
  if (!match)
    throw new CommandFailed(
      `--older-than: "${text}" is not a duration like 90s, 10m, 2h or 1d`,
      exitCodes.usage,
    );
  return Number(match[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as "s" | "m" | "h" | "d"];
}

function required(flags: Flags, name: string): string {
  const value = flags[name];
  if (typeof value !== "string" || value.trim() === "")
    throw new CommandFailed(`--${name} is required`, exitCodes.usage);
  return value;
}

const kindName = (kind: string) => kind.replace(/^EXCEPTION_KIND_/, "");

async function status(gateway: Gateway, out: Output): Promise<number> {
  const { json } = await gateway.get("/v1/status");
  const away = json.services.filter((s: { error: string }) => s.error);
  if (out.json) out.line(JSON.stringify(json, null, 2));
  else {
    const rows: Array<Array<string | number>> = [
      ["SERVICE", "INSTANCE", "OUTBOX", "READY", "RETRYING", "PARKED", "CONSUMERS"],
    ];
    for (const s of json.services) {
      if (s.error) {
        rows.push([s.service, `not answering: ${s.error}`, "", "", "", "", ""]);
        continue;
      }
      const queues = s.status.queues as Array<Record<string, string | number>>;
      const total = (field: string) => queues.reduce((n, q) => n + Math.max(0, Number(q[field] ?? 0)), 0);
      rows.push([
        s.service,
        s.status.instance,
        Number(s.status.outboxBacklog ?? 0),
        total("ready"),
        total("retrying"),
        total("parked"),
        queues.map((q) => q.consumers ?? 0).join("/") || "-",
      ]);
    }
    out.line(table(rows));
    out.line();
    const open = json.exceptions.filter((e: { open: number }) => e.open > 0);
    out.line(
      open.length === 0
        ? "No open exceptions."
        : table([
            ["EXCEPTIONS", "OPEN", "OLDEST"],
            ...open.map((e: { kind: string; open: number; oldestSince?: string }) => [
              kindName(e.kind),
              e.open,
              age(e.oldestSince),
            ]),
          ]),
    );
    const samples = json.samples as Array<{ events?: number; maxLagSeconds?: number; parked?: string }>;
    if (samples.length > 0) {
      const events = samples.reduce((n, s) => n + (s.events ?? 0), 0);
      const lag = Math.max(...samples.map((s) => s.maxLagSeconds ?? 0));
      out.line();
      out.line(
        `Last ${samples.length} samples: ${events} events received, longest wait ${lag.toFixed(1)} s.`,
      );
    }
  }
  return away.length > 0 ? exitCodes.trouble : exitCodes.ok;
}

async function exceptions(gateway: Gateway, flags: Flags, out: Output): Promise<number> {
  const query = new URLSearchParams({ pageSize: "200" });
  if (typeof flags.kind === "string")
    query.set("kind", `EXCEPTION_KIND_${flags.kind.toUpperCase().replace(/^EXCEPTION_KIND_/, "")}`);
  if (typeof flags["older-than"] === "string") query.set("olderThan", `${seconds(flags["older-than"])}s`);
  if (typeof flags.source === "string") query.set("sourceSystem", flags.source);
  if (flags.resolved) query.set("includeResolved", "true");
  const { json } = await gateway.get(`/v1/operationalExceptions?${query}`);
  const items = json.exceptions as Array<Record<string, string>>;
  if (out.json) out.line(JSON.stringify(items, null, 2));
  else if (items.length === 0) out.line("No exceptions.");
  else
    out.line(
      table([
        ["AGE", "KIND", "SUBJECT", "REASON", "CORRELATION"],
        ...items.map((e) => [
          e.resolveTime ? "resolved" : age(e.since),
          kindName(e.kind ?? ""),
          e.subject ?? "",
          e.reason ?? "",
          e.correlationId ?? "",
        ]),
      ]),
    );
  return exitCodes.ok;
}

async function trace(gateway: Gateway, id: string | undefined, flags: Flags, out: Output): Promise<number> {
  if (!id) throw new CommandFailed("trace needs an id: mesh trace <order id>", exitCodes.usage);
  const by = typeof flags.by === "string" ? flags.by : "order";
  const param = { order: "orderId", customer: "customerId", correlation: "correlationId" }[by];
  if (!param) throw new CommandFailed(`--by: "${by}" is not order, customer or correlation`, exitCodes.usage);
  const { json } = await gateway.get(`/v1/traces?${new URLSearchParams({ [param]: id })}`);
  const events = json.events as Array<Record<string, string>>;
  if (out.json) out.line(JSON.stringify(events, null, 2));
  else if (events.length === 0) out.line(`Nothing recorded for ${by} ${id}.`);
  else {
    const first = Date.parse(events[0]?.occurTime ?? "");
    out.line(
      table([
        ["+MS", "WHEN", "EVENT", "FROM", "AGGREGATE"],
        ...events.map((e) => [
          String(Date.parse(e.occurTime ?? "") - first),
          e.occurTime ?? "",
          e.routingKey ?? "",
          e.source ?? "",
          e.aggregateId ?? "",
        ]),
      ]),
    );
    if (json.truncated) out.line("(more events than shown)");
  }
  return exitCodes.ok;
}

async function parked(gateway: Gateway, flags: Flags, out: Output): Promise<number> {
  const query = new URLSearchParams();
  if (typeof flags.service === "string") query.set("service", flags.service);
  const { json } = await gateway.get(`/v1/parkedMessages?${query}`);
  if (out.json) out.line(JSON.stringify(json, null, 2));
  else {
    const messages = json.messages as Array<{ service: string; message: Record<string, string | number> }>;
    out.line(
      messages.length === 0
        ? "Nothing parked."
        : table([
            ["SERVICE", "QUEUE", "EVENT", "TYPE", "ATTEMPTS", "REASON"],
            ...messages.map(({ service, message: m }) => [
              service,
              m.queue ?? "",
              m.eventId ?? "",
              m.type ?? "",
              m.attempts ?? 0,
              String(m.failureReason ?? "").slice(0, 120),
            ]),
          ]),
    );
    for (const s of json.services as Array<{ service: string; error: string }>)
      if (s.error) out.line(`${s.service}: not answering: ${s.error}`);
  }
  return (json.services as Array<{ error: string }>).some((s) => s.error) ? exitCodes.trouble : exitCodes.ok;
}

async function replay(gateway: Gateway, flags: Flags, out: Output): Promise<number> {
  const events = ((flags.event as Array<string | boolean> | undefined) ?? []).map(String);
  if (events.length === 0 && !flags.all)
    throw new CommandFailed(
      "name the parked events (--event ID, repeatable) or replay them all (--all)",
      exitCodes.usage,
    );
  const body = {
    service: required(flags, "service"),
    queue: required(flags, "queue"),
    eventIds: events,
    reason: required(flags, "reason"),
  };
  const { json, headers } = await gateway.post("/v1/parkedMessages:replay", body, requestKey(flags, body));
  if (out.json) out.line(JSON.stringify(json));
  else
    out.line(
      headers.get("idempotent-replayed") === "true"
        ? `Already replayed under this key: ${json.replayed ?? 0} message(s) went back then; nothing moved now.`
        : `Replayed ${json.replayed ?? 0} message(s) to ${body.service}'s consumer; ${json.kept ?? 0} left parked.`,
    );
  return exitCodes.ok;
}

async function rebuild(gateway: Gateway, flags: Flags, out: Output): Promise<number> {
  const body = {
    service: required(flags, "service"),
    readModel: required(flags, "read-model"),
    reason: required(flags, "reason"),
  };
  const { json } = await gateway.post("/v1/readModels:rebuild", body, requestKey(flags, body));
  if (out.json) out.line(JSON.stringify(json));
  else
    out.line(
      json.repeatedRequest
        ? "Already asked under this key: nothing asked again."
        : `Every ${body.service} instance rebuilds its ${body.readModel} read model now (audited).`,
    );
  return exitCodes.ok;
}

async function exportAgain(gateway: Gateway, flags: Flags, out: Output): Promise<number> {
  const subscription = encodeURIComponent(required(flags, "subscription"));
  const since = typeof flags.since === "string" ? flags.since : undefined;
  if (since && Number.isNaN(Date.parse(since)))
    throw new CommandFailed(`--since: "${since}" is not a time (2026-11-28T09:00:00Z)`, exitCodes.usage);
  const dead = since
    ? undefined
    : (
        await gateway.get(
          `/v1/subscriptions/${subscription}/deliveries?state=DELIVERY_STATE_DEAD&pageSize=200`,
        )
      ).json;
  const body = since ? { since } : { deadLetters: true };
  const { json } = await gateway.post(
    `/v1/subscriptions/${subscription}/deliveries:replay`,
    body,
    requestKey(flags, { subscription, ...body }),
  );
  if (out.json) out.line(JSON.stringify({ ...json, dead: dead?.deliveries ?? undefined }));
  else {
    for (const d of (dead?.deliveries ?? []) as Array<Record<string, string | number>>)
      out.line(
        `dead: ${d.eventType} ${d.aggregateId} (${d.attempts} attempts, last: ${d.lastError || d.lastStatusCode})`,
      );
    out.line(`Sent ${json.count ?? 0} deliveries back to pending for ${decodeURIComponent(subscription)}.`);
  }
  return exitCodes.ok;
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** What an import applied, skipped and rejected, from whichever answer its endpoint gives. */
export function importSummary(json: Record<string, unknown>, replayed: boolean) {
  const list = (value: unknown) => (Array.isArray(value) ? value : []);
  const rejected: string[] = [
    ...list(json.rejectedRows).map((r) => describeRow(r)),
    ...list(json.transactions)
      .filter((t) => (t as { outcome?: string }).outcome === "refused")
      .map((t) => {
        const tx = t as { transactionId?: string; reason?: string; message?: string };
        return `transaction ${tx.transactionId}: ${tx.reason ? `${tx.reason}: ` : ""}${tx.message ?? ""}`;
      }),
  ];
  const applied =
    list(json.settlements).length +
    list(json.orders).length +
    list(json.shipments).length +
    list(json.counts).length +
    (typeof json.recorded === "number" ? json.recorded : 0) +
    (json.order || json.settlement || Array.isArray(json.items) ? 1 : 0);
  const ignored = list(json.ignored).map((i) => (typeof i === "string" ? i : JSON.stringify(i)));
  // A settlement's reconciliation: how many of its items came out each way.
  const items = [
    ...list(json.items),
    ...list(json.settlements).flatMap((s) => list((s as { items?: unknown }).items)),
  ];
  const reconciliation: Record<string, number> = {};
  for (const item of items) {
    const status = String((item as { status?: string }).status ?? "").replace(/^RECONCILIATION_STATUS_/, "");
    if (status) reconciliation[status] = (reconciliation[status] ?? 0) + 1;
  }
  return { applied: replayed ? 0 : applied, duplicate: replayed, rejected, ignored, reconciliation };
}

function describeRow(row: unknown): string {
  const r = row as {
    row?: number;
    line?: number;
    field?: string;
    column?: string;
    description?: string;
    reason?: string;
  };
  const where = r.row ?? r.line;
  return `${where === undefined ? "" : `row ${where}: `}${r.field ?? r.column ?? ""} ${r.description ?? r.reason ?? JSON.stringify(row)}`.trim();
}

async function importFile(
  gateway: Gateway,
  file: string | undefined,
  flags: Flags,
  out: Output,
): Promise<number> {
  if (!file) throw new CommandFailed("import needs a file: mesh import <file> --as KIND", exitCodes.usage);
  const kind = required(flags, "as");
  const target = imports[kind];
  if (!target)
    throw new CommandFailed(
      `--as: "${kind}" is not one of ${Object.keys(imports).join(", ")}`,
      exitCodes.usage,
    );
  let idempotencyKey: string;
  try {
    idempotencyKey =
      typeof flags["idempotency-key"] === "string"
        ? flags["idempotency-key"]
        : `mesh-import:${kind}:${await sha256Of(file)}`;
  } catch (error) {
    throw new CommandFailed(`cannot read ${file}: ${(error as Error).message}`, exitCodes.usage);
  }
  const bar =
    flags.progress || process.stderr.isTTY
      ? new SingleBar({
          format: "sending {bar} {percentage}% | {value}/{total} bytes",
          stream: process.stderr,
          noTTYOutput: !process.stderr.isTTY,
          notTTYSchedule: 200,
          hideCursor: true,
        })
      : undefined;
  let started = false;
  let answer: Awaited<ReturnType<Gateway["upload"]>>;
  try {
    answer = await gateway.upload(target.path, file, {
      contentType: target.contentType,
      idempotencyKey,
      onSent(bytes, total) {
        if (!bar) return;
        if (!started) bar.start(total, 0);
        started = true;
        bar.update(bytes);
      },
    });
  } finally {
    bar?.stop();
  }
  const replayed = answer.headers.get("idempotent-replayed") === "true";
  const summary = importSummary(answer.json ?? {}, replayed);
  if (out.json) out.line(JSON.stringify({ ...summary, answer: answer.json }, null, 2));
  else {
    out.line(
      replayed
        ? `Already imported under key ${idempotencyKey}: nothing applied again.`
        : `Applied ${summary.applied}; rejected ${summary.rejected.length}; ignored ${summary.ignored.length}.`,
    );
    const reconciled = Object.entries(summary.reconciliation).map(([status, n]) => `${n} ${status}`);
    if (reconciled.length > 0) out.line(`Reconciliation: ${reconciled.join(", ")}.`);
    for (const reason of summary.rejected) out.line(`  rejected: ${reason}`);
    for (const reason of summary.ignored) out.line(`  ignored: ${reason}`);
  }
  return summary.rejected.length > 0 ? exitCodes.trouble : exitCodes.ok;
}

/** A change's Idempotency-Key: given, or derived from what it asks (the same command twice is one change). */
function requestKey(flags: Flags, body: unknown): string {
  if (typeof flags["idempotency-key"] === "string") return flags["idempotency-key"];
  return `mesh-cli:${createHash("sha256").update(JSON.stringify(body)).digest("hex").slice(0, 32)}`;
}

export async function run(argv: readonly string[], write: (text: string) => void): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        url: { type: "string" },
        key: { type: "string" },
        json: { type: "boolean" },
        progress: { type: "boolean" },
        help: { type: "boolean", short: "h" },
        kind: { type: "string" },
        "older-than": { type: "string" },
        source: { type: "string" },
        resolved: { type: "boolean" },
        by: { type: "string" },
        service: { type: "string" },
        queue: { type: "string" },
        event: { type: "string", multiple: true },
        all: { type: "boolean" },
        reason: { type: "string" },
        "read-model": { type: "string" },
        subscription: { type: "string" },
        since: { type: "string" },
        as: { type: "string" },
        "idempotency-key": { type: "string" },
      },
    });
  } catch (error) {
    write(`${(error as Error).message}\n\n${usage}\n`);
    return exitCodes.usage;
  }
  const { values: flags, positionals } = parsed;
  const [command, argument] = positionals;
  if (flags.help || !command) {
    write(`${usage}\n`);
    return flags.help ? exitCodes.ok : exitCodes.usage;
  }
  const out: Output = { json: Boolean(flags.json), line: (text = "") => write(`${text}\n`) };
  const key = (flags.key as string | undefined) ?? process.env.MESH_API_KEY;
  if (!key) {
    write("an operator API key is required: --key or MESH_API_KEY\n");
    return exitCodes.usage;
  }
  const gateway = createGateway({
    url: (flags.url as string | undefined) ?? process.env.MESH_URL ?? "http://127.0.0.1:8080",
    key,
    timeoutMs: command === "import" ? 3_600_000 : 60_000,
  });
  const commands: Record<string, () => Promise<number>> = {
    status: () => status(gateway, out),
    exceptions: () => exceptions(gateway, flags, out),
    trace: () => trace(gateway, argument, flags, out),
    parked: () => parked(gateway, flags, out),
    replay: () => replay(gateway, flags, out),
    rebuild: () => rebuild(gateway, flags, out),
    export: () => exportAgain(gateway, flags, out),
    import: () => importFile(gateway, argument, flags, out),
  };
  const chosen = commands[command];
  if (!chosen) {
    write(`unknown command "${command}"\n\n${usage}\n`);
    return exitCodes.usage;
  }
  try {
    return await chosen();
  } catch (error) {
    if (!(error instanceof CommandFailed)) throw error;
    if (out.json && error.body !== undefined) out.line(JSON.stringify(error.body));
    process.stderr.write(`mesh ${command}: ${error.message}\n`);
    return error.exitCode;
  }
}

if (import.meta.main) {
  process.exitCode = await run(process.argv.slice(2), (text) => process.stdout.write(text));
}
