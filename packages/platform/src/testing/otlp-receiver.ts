// The OTLP/HTTP receiver of tools/otlp-receiver (the OpenTelemetry Collector's pdata decoding what the
// exporters send), built with Go when missing or older than its source, started on a free port.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** One span as the receiver keeps it. */
export interface ReceivedSpan {
  readonly service: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
  /** "Server", "Client", "Producer", "Consumer", "Internal". */
  readonly kind: string;
  /** "Unset", "Ok", "Error". */
  readonly status: string;
  readonly startUnixNano: number;
  readonly endUnixNano: number;
  readonly attributes: Record<string, unknown>;
}

export interface OtlpReceiver {
  /** What OTEL_EXPORTER_OTLP_ENDPOINT is set to ("http://127.0.0.1:<port>"). */
  readonly endpoint: string;
  /** The spans received so far, of one trace or of all. */
  spans(traceId?: string): Promise<ReceivedSpan[]>;
  stop(): Promise<void>;
}

const source = fileURLToPath(new URL("../../../../tools/otlp-receiver/", import.meta.url));
const binary = fileURLToPath(new URL("../../../../.mesh/bin/otlp-receiver", import.meta.url));

function build(): void {
  const built = existsSync(binary) ? statSync(binary).mtimeMs : 0;
  const newest = Math.max(...["main.go", "go.mod", "go.sum"].map((f) => statSync(join(source, f)).mtimeMs));
  if (built >= newest) return;
  mkdirSync(join(binary, ".."), { recursive: true });
  const result = spawnSync("go", ["build", "-o", binary, "."], { cwd: source, encoding: "utf8" });
  if (result.error || result.status !== 0)
    throw new Error(
      `building tools/otlp-receiver needs Go 1.26 and the Go module proxy: ${result.error?.message ?? ""}${result.stdout}${result.stderr}`,
    );
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  build();
  const child: ChildProcess = spawn(binary, ["-listen", "127.0.0.1:0"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const address = await new Promise<string>((resolve, reject) => {
    let said = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      said += chunk.toString();
      const match = /listening on (\S+)/.exec(said);
      if (match?.[1]) resolve(match[1]);
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      said += chunk.toString();
    });
    child.once("exit", (code) => reject(new Error(`otlp-receiver exited (${code}): ${said}`)));
  });
  const endpoint = `http://${address}`;
  return {
    endpoint,
    async spans(traceId) {
      const query = traceId ? `?traceId=${traceId}` : "";
      const answer = (await (await fetch(`${endpoint}/spans${query}`)).json()) as { spans: ReceivedSpan[] };
      return answer.spans;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
