import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { configVariables } from "../../../src/config.ts";

interface Service {
  build?: { context: string; target?: string };
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, unknown>;
  profiles?: string[];
  healthcheck?: { test: string[]; start_period?: string };
  stop_grace_period?: string;
  deploy?: {
    resources?: { reservations?: { devices?: { driver: string; count: number; capabilities: string[] }[] } };
  };
}

const seconds = (value: string | undefined) => Number((value ?? "").replace(/s$/, ""));

describe("docker-compose.yml", () => {
  // Compose reads YAML merge keys (`<<: *app`); so must this parse.
  const compose = parse(readFileSync("docker-compose.yml", "utf8"), { merge: true }) as {
    services: Record<string, Service>;
  };
  const services = compose.services;

  it("runs Redis, a gateway and a worker, and a CUDA worker under the gpu profile", () => {
    assert.deepEqual(Object.keys(services).sort(), ["gateway", "redis", "worker", "worker-gpu"]);
    assert.equal(services.worker?.profiles, undefined, "the CPU worker starts by default");
    assert.deepEqual(services["worker-gpu"]?.profiles, ["gpu"]);
    const start = ["node", "--enable-source-maps", "dist/cli.js", "start"];
    assert.deepEqual(services.gateway?.command, [...start, "gateway"]);
    assert.deepEqual(services.worker?.command, [...start, "worker"]);
    assert.deepEqual(services["worker-gpu"]?.command, [...start, "worker"]);
  });

  it("builds each service from a stage the Dockerfile has", () => {
    const stages = [...readFileSync("Dockerfile", "utf8").matchAll(/^FROM \S+ AS (\S+)$/gm)].map((m) => m[1]);
    for (const name of ["gateway", "worker", "worker-gpu"]) {
      const target = services[name]?.build?.target;
      assert.ok(target && stages.includes(target), `${name}: target ${target} in ${stages.join(", ")}`);
    }
    assert.equal(services["worker-gpu"]?.build?.target, "worker-cuda");
    assert.equal(stages.at(-1), "runtime", "a plain `docker build .` gives the runtime image");
  });

  it("gives Redis an fsynced append-only file and no eviction", () => {
    const command = services.redis?.command?.join(" ") ?? "";
    assert.match(command, /--appendonly yes/);
    assert.match(command, /--appendfsync everysec/);
    assert.match(command, /--maxmemory-policy noeviction/);
  });

  it("points every app service at the Redis service, after it is healthy", () => {
    for (const name of ["gateway", "worker", "worker-gpu"]) {
      assert.equal(services[name]?.environment?.REDIS_URL, "redis://redis:6379");
      assert.deepEqual(services[name]?.depends_on, { redis: { condition: "service_healthy" } });
    }
  });

  it("reserves a GPU for the CUDA worker and runs the native engine there", () => {
    const gpu = services["worker-gpu"];
    assert.deepEqual(gpu?.deploy?.resources?.reservations?.devices, [
      { driver: "nvidia", count: 1, capabilities: ["gpu"] },
    ]);
    assert.equal(gpu?.environment?.ENGINE, "native");
    assert.equal(gpu?.environment?.LLM_GPU, "cuda");
    assert.match(gpu?.environment?.NATIVE_ENGINE_BIN ?? "", /batch-engine$/);
  });

  it("health-checks every service, workers on their own probe port", () => {
    for (const name of ["redis", "gateway", "worker", "worker-gpu"]) {
      assert.ok(services[name]?.healthcheck?.test, `${name} has a healthcheck`);
    }
    for (const name of ["worker", "worker-gpu"]) {
      const port = services[name]?.environment?.WORKER_HEALTH_PORT;
      assert.ok(port, `${name} sets WORKER_HEALTH_PORT`);
      assert.ok(services[name]?.healthcheck?.test.join(" ").includes(`127.0.0.1:${port}/readyz`));
    }
  });

  it("lets workers finish answers in flight: stop grace longer than SHUTDOWN_GRACE_MS", () => {
    for (const name of ["worker", "worker-gpu"]) {
      const graceMs = Number(services[name]?.environment?.SHUTDOWN_GRACE_MS ?? 30_000);
      assert.ok(seconds(services[name]?.stop_grace_period) * 1000 > graceMs, name);
    }
  });

  it("sets only variables the configuration knows", () => {
    for (const [name, service] of Object.entries(services)) {
      if (name === "redis") continue;
      for (const key of Object.keys(service.environment ?? {})) {
        assert.ok((configVariables as string[]).includes(key), `${name}: ${key} is not a setting`);
      }
    }
  });
});

describe(".dockerignore", () => {
  const ignored = readFileSync(".dockerignore", "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));

  it("keeps models, installs, builds and caches out of the image", () => {
    for (const entry of ["models/", "*.gguf", "node_modules/", ".cache/", "dist/", ".git/", ".env"]) {
      assert.ok(ignored.includes(entry), `${entry} is ignored`);
    }
  });
});
