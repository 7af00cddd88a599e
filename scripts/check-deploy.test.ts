// deploy/ checked offline: every overlay rendered by `kubectl kustomize`, every object validated against
// the Kubernetes schemas kubernetes-models bundles (and its prometheus-operator and KEDA packages), the
// operators' resources against the operators' own CRDs (deploy/crds) refusing unknown fields as the API
// server does, and the policies a platform team expects of every workload. The same checks run on
// broken copies, to show they fail.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv, type ValidateFunction } from "ajv";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { prometheusRule, prometheusRuleFile, rulesFile } from "./generate-prometheusrule.ts";

type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: manifests are read as the API documents them
  spec?: any;
  // biome-ignore lint/suspicious/noExplicitAny: manifests are read as the API documents them
  [field: string]: any;
};

const deploy = join(dirname(fileURLToPath(import.meta.url)), "..", "deploy");
const overlays = readdirSync(join(deploy, "overlays"));

const rendered = new Map<string, K8sObject[]>();

/** An overlay's objects as `kubectl kustomize` renders them (once per overlay; callers get a copy). */
function render(dir: string): K8sObject[] {
  const known = rendered.get(dir);
  if (known) return structuredClone(known);
  const result = spawnSync("kubectl", ["kustomize", dir], { encoding: "utf8" });
  if (result.error) throw new Error(`kubectl is needed to render ${dir}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`kubectl kustomize ${dir} failed:\n${result.stderr}`);
  const objects = parseAllDocuments(result.stdout).map((doc) => doc.toJS() as K8sObject);
  rendered.set(dir, objects);
  return structuredClone(objects);
}

// Built-in and add-on kinds: the model class of each, by apiVersion and kind.
const modules: Record<string, string> = {
  v1: "kubernetes-models/v1",
  "apps/v1": "kubernetes-models/apps/v1",
  "policy/v1": "kubernetes-models/policy/v1",
  "networking.k8s.io/v1": "kubernetes-models/networking.k8s.io/v1",
  "autoscaling/v2": "kubernetes-models/autoscaling/v2",
  "monitoring.coreos.com/v1": "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1",
  "keda.sh/v1alpha1": "@kubernetes-models/keda/keda.sh/v1alpha1",
};

/** A CRD's openAPIV3Schema made strict: an object with properties takes no others unless it says so. */
function strict(schema: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith("x-kubernetes-")) continue;
    if (key === "properties" && value && typeof value === "object")
      out[key] = Object.fromEntries(
        Object.entries(value as Record<string, Record<string, unknown>>).map(([k, v]) => [k, strict(v)]),
      );
    else if ((key === "items" || key === "additionalProperties") && value && typeof value === "object")
      out[key] = strict(value as Record<string, unknown>);
    else out[key] = value;
  }
  if (
    schema.properties &&
    schema.additionalProperties === undefined &&
    !schema["x-kubernetes-preserve-unknown-fields"]
  )
    out.additionalProperties = false;
  return out;
}

const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
const crdValidators = new Map<string, ValidateFunction>(
  readdirSync(join(deploy, "crds"))
    .filter((f) => f.endsWith(".yaml"))
    .flatMap((file) => {
      const crd = parse(readFileSync(join(deploy, "crds", file), "utf8"));
      return crd.spec.versions.map(
        (v: { name: string; schema: { openAPIV3Schema: Record<string, unknown> } }) => {
          const schema = strict(v.schema.openAPIV3Schema);
          // metadata is the API server's, not the CRD's to describe.
          (schema.properties as Record<string, unknown>).metadata = { type: "object" };
          return [`${crd.spec.group}/${v.name}/${crd.spec.names.kind}`, ajv.compile(schema)] as [
            string,
            ValidateFunction,
          ];
        },
      );
    }),
);

/** Every schema problem of the objects, as "<Kind>/<name>: <what>". */
async function schemaProblems(objects: readonly K8sObject[]): Promise<string[]> {
  const problems: string[] = [];
  for (const object of objects) {
    const where = `${object.kind}/${object.metadata?.name}`;
    const crd = crdValidators.get(`${object.apiVersion}/${object.kind}`);
    if (crd) {
      if (!crd(object))
        for (const e of crd.errors ?? [])
          problems.push(
            `${where}: ${e.instancePath || "/"} ${e.message}${e.params && "additionalProperty" in e.params ? ` (${e.params.additionalProperty})` : ""}`,
          );
      continue;
    }
    const path = modules[object.apiVersion];
    if (!path) {
      problems.push(`${where}: ${object.apiVersion} has no schema here`);
      continue;
    }
    const Model = (await import(path))[object.kind];
    if (!Model) {
      problems.push(`${where}: no ${object.kind} in ${object.apiVersion}`);
      continue;
    }
    try {
      new Model(object).validate();
    } catch (error) {
      problems.push(`${where}: ${(error as Error).message.split("\n")[0]}`);
    }
  }
  return problems;
}

const matches = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined) =>
  selector !== undefined &&
  Object.keys(selector).length > 0 &&
  Object.entries(selector).every(([k, v]) => labels?.[k] === v);

/** What a platform team's review would refuse, as "<Kind>/<name>: <rule>". */
function policyProblems(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  const of = (kind: string) => objects.filter((o) => o.kind === kind);
  const configMaps = of("ConfigMap");
  for (const d of of("Deployment")) {
    const where = `Deployment/${d.metadata.name}`;
    const pod = d.spec.template.spec;
    const labels = d.spec.template.metadata.labels;
    if (!matches(d.spec.selector.matchLabels, labels))
      problems.push(`${where}: selector does not match its pods`);
    if (pod.securityContext?.runAsNonRoot !== true) problems.push(`${where}: pods not runAsNonRoot`);
    if (pod.securityContext?.seccompProfile?.type !== "RuntimeDefault")
      problems.push(`${where}: no RuntimeDefault seccomp`);
    if (pod.automountServiceAccountToken !== false) problems.push(`${where}: service account token mounted`);
    if (!of("ServiceAccount").some((s) => s.metadata.name === pod.serviceAccountName))
      problems.push(`${where}: service account ${pod.serviceAccountName} not in the tree`);
    for (const c of pod.containers) {
      const at = `${where} container ${c.name}`;
      const sc = c.securityContext ?? {};
      if (sc.allowPrivilegeEscalation !== false) problems.push(`${at}: privilege escalation allowed`);
      if (sc.readOnlyRootFilesystem !== true) problems.push(`${at}: root file system writable`);
      if (!sc.capabilities?.drop?.includes("ALL")) problems.push(`${at}: capabilities not all dropped`);
      for (const kind of ["requests", "limits"])
        for (const resource of ["cpu", "memory"])
          if (!c.resources?.[kind]?.[resource]) problems.push(`${at}: no ${resource} ${kind}`);
      if (!c.readinessProbe || !c.livenessProbe) problems.push(`${at}: readiness and liveness probes needed`);
      const tag = /^[^@]+:([^:/]+)$/.exec(c.image)?.[1];
      if (!tag || tag === "latest") problems.push(`${at}: image ${c.image} not pinned by tag`);
      // The drain: preStop, then SHUTDOWN_GRACE_MS, within the grace period.
      const shutdownMs = Number(
        configMaps.find((m) =>
          c.envFrom?.some(
            (e: { configMapRef?: { name: string } }) => e.configMapRef?.name === m.metadata.name,
          ),
        )?.data?.SHUTDOWN_GRACE_MS ?? Number.NaN,
      );
      const preStop = Number(c.lifecycle?.preStop?.sleep?.seconds ?? 0);
      if (!(preStop > 0)) problems.push(`${at}: no preStop pause before the drain`);
      if (!(preStop + shutdownMs / 1000 < (pod.terminationGracePeriodSeconds ?? 30)))
        problems.push(`${at}: preStop ${preStop} s + drain ${shutdownMs / 1000} s exceeds the grace period`);
    }
    if (!of("PodDisruptionBudget").some((p) => matches(p.spec.selector?.matchLabels, labels)))
      problems.push(`${where}: no PodDisruptionBudget for its pods`);
    if (!of("NetworkPolicy").some((p) => matches(p.spec.podSelector?.matchLabels, labels)))
      problems.push(`${where}: no NetworkPolicy of its own`);
    for (const key of ["app.kubernetes.io/name", "app.kubernetes.io/part-of"])
      if (!d.metadata.labels?.[key]) problems.push(`${where}: no ${key} label`);
  }
  for (const s of of("Service")) {
    if (!of("Deployment").some((d) => matches(s.spec.selector, d.spec.template.metadata.labels)))
      problems.push(`Service/${s.metadata.name}: selector matches no Deployment's pods`);
    for (const port of s.spec.ports ?? [])
      if (!port.name) problems.push(`Service/${s.metadata.name}: port ${port.port} has no name`);
  }
  if (
    of("NetworkPolicy").length > 0 &&
    !of("NetworkPolicy").some((p) => Object.keys(p.spec.podSelector ?? {}).length === 0)
  )
    problems.push("NetworkPolicy: no default deny");
  for (const s of of("Secret"))
    if (s.data || s.stringData) problems.push(`Secret/${s.metadata.name}: secret values in the tree`);
  return problems;
}

/** Every YAML file under deploy/ (the tree itself holds no Secret objects or values). */
function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return entry === "crds" ? [] : yamlFiles(path);
    return entry.endsWith(".yaml") ? [path] : [];
  });
}

describe("deploy/", () => {
  it.each(overlays)(
    "overlay %s renders, validates against the schemas and passes the policies",
    async (overlay) => {
      const objects = render(join(deploy, "overlays", overlay));
      expect(objects.length).toBeGreaterThan(40);
      expect(await schemaProblems(objects)).toEqual([]);
      expect(policyProblems(objects)).toEqual([]);
      expect(new Set(objects.map((o) => o.metadata.namespace ?? "retail-mesh"))).toEqual(
        new Set(["retail-mesh"]),
      );
      // The operators' resources, wired to what the services read.
      const mongo = objects.find((o) => o.kind === "MongoDBCommunity");
      const deployments = objects.filter((o) => o.kind === "Deployment");
      for (const d of deployments) {
        const mongoUrl = d.spec.template.spec.containers[0].env.find(
          (e: { name: string }) => e.name === "MONGODB_URL",
        );
        const secret = mongoUrl.valueFrom.secretKeyRef.name;
        expect(
          mongo?.spec.users.map((u: { connectionStringSecretName: string }) => u.connectionStringSecretName),
        ).toContain(secret);
      }
      expect(objects.find((o) => o.kind === "RabbitmqCluster")?.metadata.name).toBe("mesh-rabbitmq");
    },
  );

  it("production runs three of each over zones, with autoscaling, monitoring and a three-node broker", () => {
    const objects = render(join(deploy, "overlays", "production"));
    const deployments = objects.filter((o) => o.kind === "Deployment");
    expect(deployments.map((d) => d.spec.replicas)).toEqual(deployments.map(() => 3));
    for (const d of deployments)
      expect(
        d.spec.template.spec.topologySpreadConstraints?.map((c: { topologyKey: string }) => c.topologyKey),
      ).toEqual(["topology.kubernetes.io/zone", "kubernetes.io/hostname"]);
    const scaled = [
      ...objects.filter((o) => o.kind === "HorizontalPodAutoscaler").map((h) => h.spec.scaleTargetRef.name),
      ...objects.filter((o) => o.kind === "ScaledObject").map((s) => s.spec.scaleTargetRef.name),
    ];
    expect(scaled.sort()).toEqual(deployments.map((d) => d.metadata.name).sort());
    expect(objects.find((o) => o.kind === "RabbitmqCluster")?.spec.replicas).toBe(3);
    expect(objects.find((o) => o.kind === "MongoDBCommunity")?.spec.members).toBe(3);
    expect(objects.some((o) => o.kind === "PrometheusRule")).toBe(true);
  });

  it("keeps the PrometheusRule generated from the rules promtool checks, and no Secret in the tree", () => {
    expect(readFileSync(prometheusRuleFile, "utf8")).toBe(prometheusRule(readFileSync(rulesFile, "utf8")));
    for (const file of yamlFiles(deploy))
      for (const doc of parseAllDocuments(readFileSync(file, "utf8")))
        expect((doc.toJS() as K8sObject | null)?.kind, file).not.toBe("Secret");
  });

  it("refuses broken manifests: a root pod, a latest image, a missing budget, an unknown or mistyped field", async () => {
    // A copy of its own (render hands out copies) to break.
    const broken = render(join(deploy, "overlays", "dev"));
    const order = broken.find((o) => o.kind === "Deployment" && o.metadata.name === "order") as K8sObject;
    order.spec.template.spec.securityContext.runAsNonRoot = false;
    order.spec.template.spec.containers[0].image = "retail-mesh/order:latest";
    const gateway = broken.find((o) => o.kind === "Deployment" && o.metadata.name === "gateway") as K8sObject;
    gateway.spec.replicas = "three";
    const withoutBudget = broken.filter(
      (o) => !(o.kind === "PodDisruptionBudget" && o.metadata.name === "inventory"),
    );
    const rabbit = withoutBudget.find((o) => o.kind === "RabbitmqCluster") as K8sObject;
    rabbit.spec.persistance = { storage: "5Gi" };
    const problems = [...(await schemaProblems(withoutBudget)), ...policyProblems(withoutBudget)];
    expect(problems).toEqual(
      expect.arrayContaining([
        "Deployment/order: pods not runAsNonRoot",
        "Deployment/order container order: image retail-mesh/order:latest not pinned by tag",
        "Deployment/inventory: no PodDisruptionBudget for its pods",
        "RabbitmqCluster/mesh-rabbitmq: /spec must NOT have additional properties (persistance)",
        expect.stringMatching(/^Deployment\/gateway: .*replicas/),
      ]),
    );
  });
});
