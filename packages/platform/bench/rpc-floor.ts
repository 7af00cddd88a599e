// The RPC floor under every call in the mesh (a script, not a test):
//   npm run bench:rpc -w @retail/platform [-- --seconds 5 --rounds 3 --concurrency 32]
// A grpc.health.v1 Check, the server in a process of its own, the client in this one, `concurrency`
// calls in flight, each stack measured `rounds` times in turn (the machine is noisy: the median is
// reported). Stacks:
//   http2        bare node:http2 request/response (a floor under any HTTP/2 RPC)
//   grpc-js      @grpc/grpc-js server and client, no interceptors
//   connect      connect-node server and client over the gRPC protocol
//   platform     the platform's createRpcServer and createServiceClient with everything a service runs:
//                the server interceptor (call context, a log line per call at info, RED metrics, the
//                NUL walk), peer tokens signed and verified, retries, deadlines
// and the ratio platform / grpc-js, which #15 asks to be at least 0.9.
import { fork } from "node:child_process";
import { openSync } from "node:fs";
import { connect, constants, createServer } from "node:http2";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { connectNodeAdapter, createGrpcTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import {
  Health,
  HealthCheckRequestSchema,
  HealthCheckResponse_ServingStatus,
  HealthCheckResponseSchema,
} from "@retail/contracts/grpc/health/v1/health_pb";
import { createLogger } from "../src/log/index.js";
import { createMetrics } from "../src/metrics/index.js";
import { measurePhase, quantile } from "../src/processes/index.js";
import { createServiceClient, newServiceKeys, parseServiceKeys } from "../src/rpc/index.js";
import { createRpcServer } from "../src/server/index.js";

const stacks = ["http2", "grpc-js", "connect", "platform"] as const;
type Stack = (typeof stacks)[number];

const serving = { status: HealthCheckResponse_ServingStatus.SERVING };
const answerBytes = toBinary(HealthCheckResponseSchema, create(HealthCheckResponseSchema, serving));
const checkPath = "/grpc.health.v1.Health/Check";

/** Serves one stack on a free port and returns the port. Runs in the child process. */
async function serveStack(stack: Stack, keys: string): Promise<number> {
  if (stack === "http2") {
    const server = createServer((request, response) => {
      request.resume();
      request.on("end", () => {
        response.writeHead(200, { "content-type": "application/octet-stream" });
        response.end(answerBytes);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return (server.address() as AddressInfo).port;
  }
  if (stack === "grpc-js") {
    const server = new grpc.Server();
    server.addService(
      {
        check: {
          path: checkPath,
          requestStream: false,
          responseStream: false,
          requestSerialize: (m: unknown) => Buffer.from(toBinary(HealthCheckRequestSchema, m as never)),
          requestDeserialize: (b: Buffer) => fromBinary(HealthCheckRequestSchema, b),
          responseSerialize: (m: unknown) => Buffer.from(toBinary(HealthCheckResponseSchema, m as never)),
          responseDeserialize: (b: Buffer) => fromBinary(HealthCheckResponseSchema, b),
        },
      },
      {
        check: (_call: unknown, callback: grpc.sendUnaryData<unknown>) =>
          callback(null, create(HealthCheckResponseSchema, serving)),
      },
    );
    return new Promise((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, port) =>
        error ? reject(error) : resolve(port),
      ),
    );
  }
  if (stack === "connect") {
    const handler = connectNodeAdapter({
      routes: (router) => router.service(Health, { check: () => create(HealthCheckResponseSchema, serving) }),
    });
    const server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return (server.address() as AddressInfo).port;
  }
  const server = createRpcServer({
    name: "rpc-floor",
    port: 0,
    host: "127.0.0.1",
    services: [],
    logger: createLogger({ service: "rpc-floor" }),
    metrics: createMetrics("rpc_floor"),
    peerKeys: parseServiceKeys(keys),
  });
  await server.start();
  return server.port;
}

/** One call of the stack against the port, as its client makes it. Runs in this process. */
function clientOf(stack: Stack, port: number, keys: string): { call: () => Promise<unknown>; close(): void } {
  const url = `http://127.0.0.1:${port}`;
  if (stack === "http2") {
    const session = connect(url);
    const body = toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema));
    return {
      call: () =>
        new Promise((resolve, reject) => {
          const stream = session.request({
            [constants.HTTP2_HEADER_METHOD]: "POST",
            [constants.HTTP2_HEADER_PATH]: checkPath,
            "content-type": "application/octet-stream",
          });
          const chunks: Buffer[] = [];
          stream.on("data", (chunk: Buffer) => chunks.push(chunk));
          stream.on("end", () => resolve(fromBinary(HealthCheckResponseSchema, Buffer.concat(chunks))));
          stream.on("error", reject);
          stream.end(body);
        }),
      close: () => session.close(),
    };
  }
  if (stack === "grpc-js") {
    const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const request = create(HealthCheckRequestSchema);
    return {
      call: () =>
        new Promise((resolve, reject) =>
          client.makeUnaryRequest(
            checkPath,
            (m: typeof request) => Buffer.from(toBinary(HealthCheckRequestSchema, m)),
            (b: Buffer) => fromBinary(HealthCheckResponseSchema, b),
            request,
            (error, response) => (error ? reject(error) : resolve(response)),
          ),
        ),
      close: () => client.close(),
    };
  }
  const client =
    stack === "connect"
      ? createClient(Health, createGrpcTransport({ baseUrl: url }))
      : createServiceClient(Health, {
          baseUrl: url,
          caller: "rpc-floor",
          peerAuth: { keys: parseServiceKeys(keys), service: "rpc-floor" },
        });
  return { call: () => client.check({}), close: () => undefined };
}

if (process.argv[2] === "--serve") {
  const port = await serveStack(process.argv[3] as Stack, process.argv[4] ?? "");
  process.send?.({ port });
  // CPU used between "start" and "stop" (user + system, microseconds), for CPU per call.
  let from = process.cpuUsage();
  process.on("message", (message: string) => {
    if (message === "start") from = process.cpuUsage();
    else {
      const used = process.cpuUsage(from);
      process.send?.({ cpu: used.user + used.system });
    }
  });
  // Told to go: exit normally (a --cpu-prof profile is written on a normal exit, not on a signal).
  process.once("disconnect", () => process.exit(0));
} else {
  const { values } = parseArgs({
    options: {
      seconds: { type: "string", default: "5" },
      rounds: { type: "string", default: "3" },
      concurrency: { type: "string", default: "32" },
      only: { type: "string" },
    },
  });
  const seconds = Number(values.seconds);
  const concurrency = Number(values.concurrency);
  const chosen = values.only ? (values.only.split(",") as Stack[]) : [...stacks];
  const keys = newServiceKeys();
  const rates = new Map<Stack, number[]>(chosen.map((s) => [s, []]));
  const p99s = new Map<Stack, number[]>(chosen.map((s) => [s, []]));
  const clientCpu = new Map<Stack, number[]>(chosen.map((s) => [s, []]));
  const serverCpu = new Map<Stack, number[]>(chosen.map((s) => [s, []]));
  // The server's log lines go where a container's stdout would: not to this terminal.
  const sink = openSync("/dev/null", "w");
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const stack of chosen) {
      const child = fork(fileURLToPath(import.meta.url), ["--serve", stack, keys], {
        execArgv: ["--conditions=source", "--import", "tsx"],
        stdio: ["ignore", sink, "inherit", "ipc"],
      });
      const port = await new Promise<number>((resolve, reject) => {
        child.once("message", (m: { port: number }) => resolve(m.port));
        child.once("exit", (code) => reject(new Error(`${stack} server exited ${code}`)));
      });
      const client = clientOf(stack, port, keys);
      await measurePhase({ name: "warm-up", seconds: 1, concurrency }, client.call);
      child.send("start");
      const clientFrom = process.cpuUsage();
      const phase = await measurePhase({ name: stack, seconds, concurrency }, client.call);
      const clientUsed = process.cpuUsage(clientFrom);
      const serverUsed = new Promise<number>((resolve) =>
        child.once("message", (m: { cpu: number }) => resolve(m.cpu)),
      );
      child.send("stop");
      const perCall = (micros: number) => micros / (phase.calls + phase.errors);
      const cpu = { client: perCall(clientUsed.user + clientUsed.system), server: perCall(await serverUsed) };
      client.close();
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.disconnect();
      await exited;
      if (phase.errors > 0) throw new Error(`${stack}: ${phase.errors} calls failed`);
      rates.get(stack)?.push(phase.perSecond);
      p99s.get(stack)?.push(phase.p99);
      clientCpu.get(stack)?.push(cpu.client);
      serverCpu.get(stack)?.push(cpu.server);
      console.log(
        `round ${round} ${stack.padEnd(9)} ${phase.perSecond.toFixed(0).padStart(7)} calls/s  p50 ${phase.p50.toFixed(2)} ms  p99 ${phase.p99.toFixed(2)} ms  CPU/call client ${cpu.client.toFixed(0)} µs server ${cpu.server.toFixed(0)} µs`,
      );
    }
  }
  const median = (xs: number[]) =>
    quantile(
      [...xs].sort((a, b) => a - b),
      0.5,
    );
  console.log(`\nmedian of ${values.rounds} rounds, ${concurrency} in flight, ${seconds} s each:`);
  const cpuOf = (stack: Stack) => ({
    client: median(clientCpu.get(stack) ?? []),
    server: median(serverCpu.get(stack) ?? []),
  });
  for (const stack of chosen) {
    const rate = median(rates.get(stack) ?? [])
      .toFixed(0)
      .padStart(7);
    const cpu = cpuOf(stack);
    console.log(
      `  ${stack.padEnd(9)} ${rate} calls/s  p99 ${median(p99s.get(stack) ?? []).toFixed(2)} ms  CPU/call client ${cpu.client.toFixed(0)} µs server ${cpu.server.toFixed(0)} µs`,
    );
  }
  const grpcJs = rates.get("grpc-js") ?? [];
  const platform = rates.get("platform") ?? [];
  if (grpcJs.length && platform.length) {
    // Each round's two stacks ran minutes apart at most: their ratio is less noisy than the medians'.
    const ratios = platform.map((rate, i) => rate / (grpcJs[i] ?? Number.NaN));
    const cpu = { grpcJs: cpuOf("grpc-js"), platform: cpuOf("platform") };
    const cpuRatio = (cpu.grpcJs.client + cpu.grpcJs.server) / (cpu.platform.client + cpu.platform.server);
    console.log(
      `  platform / grpc-js: ${median(ratios).toFixed(2)} of the rate (rounds: ${ratios.map((r) => r.toFixed(2)).join(", ")}); CPU per call (client + server), grpc-js / platform: ${cpuRatio.toFixed(2)} (target >= 0.9)`,
    );
  }
}
