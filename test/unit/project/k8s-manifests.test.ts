import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, it, type TestContext } from "node:test";
import { parseAllDocuments } from "yaml";
import { configVariables } from "../../../src/config.ts";

// deploy/k8s rendered as `kubectl kustomize` renders it (kubectl with kustomize is installed on these
// machines; it renders offline), then every resource validated against the Kubernetes and KEDA schemas
// (@kubernetes-models/*), then checked for what the deployment promises: probes, requests, GPUs,
// autoscaling on the queue, budgets, policies, secrets by reference, and graceful termination.

interface Resource {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: rendered YAML; each check below narrows what it reads
  spec?: any;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

const OVERLAYS = ["cpu", "gpu", "demo"] as const;

/** Where @kubernetes-models keeps the model class of each apiVersion. */
function modelModule(apiVersion: string): string {
  if (apiVersion.startsWith("keda.sh/")) return `@kubernetes-models/keda/${apiVersion}`;
  return `kubernetes-models/${apiVersion}`;
}

function render(overlay: string): { text: string; resources: Resource[] } {
  let text: string;
  try {
    text = execFileSync("kubectl", ["kustomize", `deploy/k8s/overlays/${overlay}`], { encoding: "utf8" });
  } catch (error) {
    throw new Error(`kubectl kustomize deploy/k8s/overlays/${overlay} failed: ${(error as Error).message}`);
  }
  const resources = parseAllDocuments(text).map((doc) => doc.toJS() as Resource);
  return { text, resources };
}

const find = (resources: Resource[], kind: string, name: string) => {
  const found = resources.find((r) => r.kind === kind && r.metadata.name === name);
  assert.ok(found, `${kind}/${name} is rendered`);
  return found;
};

const matches = (selector: Record<string, string>, labels: Record<string, string> | undefined) =>
  Object.entries(selector).every(([k, v]) => labels?.[k] === v);

/** Settings a container gets from its env list and the ConfigMaps it reads. */
function settingsOf(container: { env?: { name: string; value?: string }[] }, configMaps: Resource[]) {
  const settings: Record<string, string> = {};
  for (const cm of configMaps) Object.assign(settings, cm.data);
  for (const e of container.env ?? []) if (e.value !== undefined) settings[e.name] = e.value;
  return settings;
}

for (const overlay of OVERLAYS) {
  describe(`deploy/k8s/overlays/${overlay}`, () => {
    const { text, resources } = render(overlay);
    const deployments = resources.filter((r) => r.kind === "Deployment");
    const configMaps = resources.filter((r) => r.kind === "ConfigMap");

    it("validates every resource against the Kubernetes and KEDA schemas", async (t: TestContext) => {
      for (const resource of resources) {
        const mod = (await import(modelModule(resource.apiVersion))) as Record<
          string,
          new (
            data: unknown,
          ) => { validate(): void }
        >;
        const Model = mod[resource.kind];
        assert.ok(Model, `a schema for ${resource.apiVersion} ${resource.kind}`);
        assert.doesNotThrow(
          () => new Model(resource).validate(),
          `${resource.kind}/${resource.metadata.name} is valid`,
        );
      }
      t.diagnostic(
        `${overlay}: ${Buffer.byteLength(text)} bytes rendered, ${resources.length} resources validated`,
      );
    });

    it("puts no secret value in the manifests: Secrets are referenced, never rendered", () => {
      assert.deepEqual(
        resources.filter((r) => r.kind === "Secret").map((r) => r.metadata.name),
        [],
      );
      for (const d of deployments) {
        for (const c of d.spec.template.spec.containers) {
          const refs = (c.envFrom ?? []).map((e: { secretRef?: { name: string } }) => e.secretRef?.name);
          assert.ok(
            refs.includes("support-gateway-secrets"),
            `${d.metadata.name} reads the Secret by reference`,
          );
          for (const e of c.env ?? []) {
            assert.doesNotMatch(e.name, /SECRET|TOKEN|PASSWORD/, `${e.name} must come from the Secret`);
          }
        }
      }
      for (const cm of configMaps) {
        for (const key of Object.keys(cm.data ?? {})) assert.doesNotMatch(key, /SECRET|TOKEN|PASSWORD/);
      }
    });

    it("sets only settings the configuration knows", () => {
      for (const cm of configMaps) {
        for (const key of Object.keys(cm.data ?? {})) {
          assert.ok((configVariables as string[]).includes(key), `ConfigMap key ${key} is a setting`);
        }
      }
      for (const d of deployments.filter((x) => x.metadata.name !== "redis")) {
        for (const e of d.spec.template.spec.containers[0].env ?? []) {
          assert.ok(
            (configVariables as string[]).includes(e.name),
            `${d.metadata.name}: ${e.name} is a setting`,
          );
        }
      }
    });

    it("probes, requests resources and terminates more slowly than SHUTDOWN_GRACE_MS", () => {
      for (const d of deployments) {
        const pod = d.spec.template.spec;
        const [c] = pod.containers;
        const settings = settingsOf(c, configMaps);
        const graceMs = Number(settings.SHUTDOWN_GRACE_MS ?? 30_000);
        const preStopMs = Number(c.lifecycle?.preStop?.exec?.command?.[1] ?? 0) * 1000;
        assert.ok(pod.terminationGracePeriodSeconds * 1000 > graceMs + preStopMs, `${d.metadata.name} grace`);
        assert.ok(c.resources?.requests?.cpu && c.resources?.requests?.memory, `${d.metadata.name} requests`);
        for (const probe of ["readinessProbe", "livenessProbe", "startupProbe"]) {
          assert.ok(c[probe]?.httpGet, `${d.metadata.name} has an HTTP ${probe}`);
        }
        const ports = Object.fromEntries(
          c.ports.map((p: { name: string; containerPort: number }) => [p.name, p.containerPort]),
        );
        assert.ok(ports[c.readinessProbe.httpGet.port], "the probe names a declared port");
        assert.equal(pod.securityContext?.runAsNonRoot, true);
        assert.equal(c.securityContext?.allowPrivilegeEscalation, false);
      }
      const gateway = find(resources, "Deployment", "gateway").spec.template.spec.containers[0];
      assert.equal(gateway.readinessProbe.httpGet.path, "/readyz", "Redis reachable and knowledge loaded");
      assert.equal(gateway.livenessProbe.httpGet.path, "/healthz");
      const worker = find(resources, "Deployment", "worker").spec.template.spec.containers[0];
      const workerPort = Number(settingsOf(worker, configMaps).WORKER_HEALTH_PORT);
      assert.equal(worker.ports[0].containerPort, workerPort, "probes reach WORKER_HEALTH_PORT");
      assert.equal(worker.readinessProbe.httpGet.path, "/readyz", "model loaded");
      assert.equal(worker.livenessProbe.httpGet.path, "/healthz");
    });

    it("scales gateways on CPU and workers on the answer queue through KEDA, down to zero", () => {
      const hpa = find(resources, "HorizontalPodAutoscaler", "gateway");
      assert.equal(hpa.spec.scaleTargetRef.name, "gateway");
      assert.equal(hpa.spec.metrics[0].resource.name, "cpu");
      const scaled = find(resources, "ScaledObject", "worker");
      assert.equal(scaled.spec.scaleTargetRef.name, "worker");
      assert.equal(scaled.spec.minReplicaCount, 0);
      const queries = scaled.spec.triggers.map((t: { type: string; metadata: { query: string } }) => {
        assert.equal(t.type, "prometheus");
        return t.metadata.query;
      });
      assert.ok(
        queries.some((q: string) => q.includes("sgw_queue_waiting_jobs")),
        queries.join("; "),
      );
      assert.ok(
        resources.every(
          (r) => r.kind !== "HorizontalPodAutoscaler" || r.spec.scaleTargetRef.name !== "worker",
        ),
        "only KEDA scales workers",
      );
    });

    it(overlay === "gpu" ? "gives each worker one GPU and the CUDA image" : "asks for no GPU", () => {
      const worker = find(resources, "Deployment", "worker").spec.template.spec.containers[0];
      const settings = settingsOf(worker, configMaps);
      if (overlay === "gpu") {
        assert.equal(worker.resources.limits["nvidia.com/gpu"], 1);
        assert.match(worker.image, /worker-cuda/);
        assert.equal(settings.ENGINE, "native");
        assert.equal(settings.LLM_GPU, "cuda");
      } else {
        assert.equal(worker.resources.limits?.["nvidia.com/gpu"], undefined);
        assert.equal(settings.LLM_GPU, "false");
      }
    });

    it("covers every pod with a disruption budget and a network policy", () => {
      const budgets = resources.filter((r) => r.kind === "PodDisruptionBudget");
      const policies = resources.filter((r) => r.kind === "NetworkPolicy");
      for (const d of ["gateway", "worker"].map((n) => find(resources, "Deployment", n))) {
        const labels = d.spec.template.metadata.labels;
        assert.ok(
          budgets.some((b) => matches(b.spec.selector.matchLabels, labels)),
          `${d.metadata.name} PDB`,
        );
        assert.ok(
          policies.some((p) => matches(p.spec.podSelector.matchLabels, labels)),
          `${d.metadata.name} NetworkPolicy`,
        );
      }
      const service = find(resources, "Service", "gateway");
      const gatewayLabels = find(resources, "Deployment", "gateway").spec.template.metadata.labels;
      assert.ok(matches(service.spec.selector, gatewayLabels), "the Service selects the gateway pods");
    });
  });
}
