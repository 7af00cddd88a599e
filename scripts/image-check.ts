// npm run image:check: builds each unit's image from the Dockerfile with buildah
// (chroot isolation, no Docker engine needed) on a Debian base made here with debootstrap (no registry
// needed), then starts what each image holds: the image mounted (`buildah mount`), its node run in a
// chroot as the image's non-root user against the local FerretDB and RabbitMQ, until each service answers
// its gRPC health check SERVING and the gateway's /readyz is SERVING with every service behind it.
// Prints each image's size and the times. Needs root (chroot, mounts) and installs buildah and
// debootstrap from Debian's packages where missing.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "@retail/platform/processes";
import { ensureDebianPackage } from "./debian-package.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const base = "localhost/retail-mesh-base:bookworm";
const units: Array<{ name: string; dir: string; url?: string }> = [
  { name: "customer-identity", dir: "services/customer-identity", url: "CUSTOMER_IDENTITY_URL" },
  { name: "inventory", dir: "services/inventory", url: "INVENTORY_URL" },
  { name: "order", dir: "services/order", url: "ORDER_URL" },
  { name: "finance-posting", dir: "services/finance-posting", url: "FINANCE_POSTING_URL" },
  { name: "delivery", dir: "services/delivery", url: "DELIVERY_URL" },
  { name: "operations", dir: "services/operations", url: "OPERATIONS_URL" },
  { name: "gateway", dir: "gateway" },
];

// Every unit: the gateway is checked against every service behind it, and order against its callees.
const started = units;

function run(command: string, args: string[], options: { quiet?: boolean } = {}): string {
  const result = spawnSync(command, args, {
    cwd: root,
    encoding: "utf8",
    stdio: options.quiet ? "pipe" : ["ignore", "pipe", "inherit"],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0)
    throw new Error(
      `${command} ${args.join(" ")} failed (${result.status}):\n${result.stdout}${result.stderr ?? ""}`,
    );
  return result.stdout.trim();
}

const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

function ensureBase(): void {
  if (spawnSync("buildah", ["inspect", "--type", "image", base], { stdio: "ignore" }).status === 0) return;
  const t = performance.now();
  const rootfs = mkdtempSync(join(tmpdir(), "mesh-rootfs-"));
  run("debootstrap", ["--variant=minbase", "bookworm", rootfs, "http://deb.debian.org/debian"], {
    quiet: true,
  });
  const container = run("buildah", ["from", "scratch"], { quiet: true });
  run("buildah", ["add", "--quiet", container, rootfs, "/"], { quiet: true });
  run("buildah", [
    "config",
    "--env",
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    container,
  ]);
  run("buildah", ["commit", "--quiet", container, base], { quiet: true });
  run("buildah", ["rm", container], { quiet: true });
  rmSync(rootfs, { recursive: true, force: true });
  console.log(`base image ${base} made with debootstrap in ${seconds(t)}`);
}

function build(unit: (typeof units)[number]): string {
  const image = `localhost/retail-mesh/${unit.name}:check`;
  const ca = process.env.NODE_EXTRA_CA_CERTS;
  const t = performance.now();
  run("buildah", [
    "bud",
    "--isolation",
    "chroot",
    "--layers",
    "--quiet",
    ...(ca ? ["--secret", `id=ca,src=${ca}`] : []),
    "--build-arg",
    `BASE=${base}`,
    "--build-arg",
    `SERVICE=${unit.name}`,
    "--build-arg",
    `DIR=${unit.dir}`,
    "-t",
    image,
    ".",
  ]);
  const size = run("buildah", ["images", "--format", "{{.Size}}", image], { quiet: true });
  console.log(`built ${image} in ${seconds(t)}: ${size}`);
  return image;
}

interface Running {
  readonly unit: (typeof units)[number];
  readonly port: number;
  readonly child: ChildProcess;
  readonly mount: string;
  readonly container: string;
  output: string;
}

/** Mounts the image and starts its entrypoint in a chroot as uid 10001, with /proc and /dev from here. */
async function start(
  unit: (typeof units)[number],
  image: string,
  env: Record<string, string>,
  prepare?: (mount: string) => void,
): Promise<Running> {
  // The image's own user, entrypoint and working directory, as a container runtime would take them.
  const config = (
    JSON.parse(run("buildah", ["inspect", "--type", "image", image], { quiet: true })) as {
      OCIv1: { config: { User?: string; WorkingDir?: string; Entrypoint?: string[] } };
    }
  ).OCIv1.config;
  const user = config.User ?? "";
  if (!user || user === "root" || user.split(":")[0] === "0")
    throw new Error(`${image} runs as root (${user || "no USER"})`);
  const command = `cd ${config.WorkingDir ?? "/"} && exec ${(config.Entrypoint ?? []).join(" ")}`;
  const container = run("buildah", ["from", "--quiet", image], { quiet: true });
  const mount = run("buildah", ["mount", container], { quiet: true });
  prepare?.(mount);
  run("mount", ["-t", "proc", "proc", join(mount, "proc")]);
  run("mount", ["--rbind", "/dev", join(mount, "dev")]);
  const port = await freePort();
  const child = spawn(chroot, [`--userspec=${user}`, mount, "/bin/sh", "-c", command], {
    env: {
      PATH: "/usr/local/bin:/usr/bin:/bin",
      NODE_ENV: "production",
      PORT: String(port),
      METRICS_PORT: String(await freePort()),
      LOG_LEVEL: "warn",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const running: Running = { unit, port, child, mount, container, output: "" };
  child.once("error", (error) => {
    running.output += `could not start: ${error.message}`;
  });
  child.stdout?.on("data", (chunk) => {
    running.output += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    running.output += chunk;
  });
  return running;
}

async function stop(running: Running): Promise<void> {
  if (running.child.exitCode === null) {
    const exited = new Promise((resolve) => running.child.once("exit", resolve));
    running.child.kill("SIGTERM");
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 30_000))]);
  }
  spawnSync("umount", ["-R", join(running.mount, "dev")]);
  spawnSync("umount", [join(running.mount, "proc")]);
  spawnSync("buildah", ["umount", running.container], { stdio: "ignore" });
  spawnSync("buildah", ["rm", running.container], { stdio: "ignore" });
}

/** A service's grpc.health.v1 Check, through the platform's own client (grpcurl-free). */
async function serving(port: number): Promise<boolean> {
  const { createClient } = await import("@connectrpc/connect");
  const { createGrpcTransport } = await import("@connectrpc/connect-node");
  const { Health, HealthCheckResponse_ServingStatus } = await import(
    "@retail/contracts/grpc/health/v1/health_pb"
  );
  const client = createClient(Health, createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}` }));
  try {
    const { status } = await client.check({ service: "" }, { timeoutMs: 1_000 });
    return status === HealthCheckResponse_ServingStatus.SERVING;
  } catch {
    return false;
  }
}

async function until(what: string, running: Running, check: () => Promise<boolean>, timeoutMs = 60_000) {
  const t = performance.now();
  while (performance.now() - t < timeoutMs) {
    if (running.child.exitCode !== null)
      throw new Error(`${what} exited (${running.child.exitCode}):\n${running.output}`);
    if (await check()) return seconds(t);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${what} not SERVING within ${timeoutMs / 1000} s:\n${running.output}`);
}

if (process.getuid?.() !== 0) throw new Error("image:check needs root (buildah mounts and chroot)");
for (const [pkg, command] of [
  ["buildah", "buildah"],
  ["debootstrap", "debootstrap"],
] as const)
  if (!ensureDebianPackage(pkg, () => !spawnSync(command, ["--version"]).error, `${command} is missing`))
    throw new Error(`install Debian's ${pkg} package`);

// The child's PATH is the image's: chroot is found here first.
const chroot = run("sh", ["-c", "command -v chroot"], { quiet: true });
const t0 = performance.now();
ensureBase();
const images = new Map(started.map((unit) => [unit.name, build(unit)]));
// One exchange, queue prefix and set of databases for every run: a check leaves nothing that grows.
const exchange = "image_check";
const keys = `check:${randomBytes(32).toString("base64url")}`;
const common = {
  MONGODB_URL: process.env.MONGODB_URL ?? "mongodb://127.0.0.1:27017/",
  AMQP_URL: process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672",
  EVENTS_EXCHANGE: exchange,
  QUEUE_PREFIX: `${exchange}.`,
  MESH_SERVICE_KEYS: keys,
};
const runningAll: Running[] = [];
try {
  const urls: Record<string, string> = {};
  for (const unit of started.filter((u) => u.name !== "gateway")) {
    const running = await start(unit, images.get(unit.name) as string, {
      ...common,
      MONGODB_DATABASE: `image_check_${unit.name.replaceAll("-", "_")}`,
      ...urls,
    });
    runningAll.push(running);
    console.log(
      `${unit.name} from its image: SERVING after ${await until(unit.name, running, () => serving(running.port))}`,
    );
    if (unit.url) urls[unit.url] = `http://127.0.0.1:${running.port}`;
  }
  if (started.some((u) => u.name === "gateway")) {
    const gateway = units.find((u) => u.name === "gateway") as (typeof units)[number];
    const running = await start(
      gateway,
      images.get("gateway") as string,
      {
        ...common,
        ...urls,
        MONGODB_DATABASE: "image_check_gateway",
        GATEWAY_CLIENTS_FILE: "/tmp/clients.json",
      },
      // The clients file a Secret would mount: the development one.
      (mount) => {
        mkdirSync(join(mount, "tmp"), { recursive: true });
        copyFileSync(join(root, "gateway", "config", "clients.dev.json"), join(mount, "tmp", "clients.json"));
      },
    );
    runningAll.push(running);
    const ready = async () => {
      const answer = await fetch(`http://127.0.0.1:${running.port}/readyz`).catch(() => undefined);
      return answer?.status === 200 && ((await answer.json()) as { status: string }).status === "SERVING";
    };
    console.log(`gateway from its image: /readyz SERVING after ${await until("gateway", running, ready)}`);
  }
  console.log(`image:check passed in ${seconds(t0)}`);
} finally {
  for (const running of runningAll.reverse()) await stop(running);
  // Build stages of earlier sources, no longer tagged: gone, so repeated checks do not fill the disk.
  spawnSync("buildah", ["rmi", "--prune"], { stdio: "ignore" });
}
