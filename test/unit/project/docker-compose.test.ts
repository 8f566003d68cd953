import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { parse } from "yaml";

interface Service {
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, unknown>;
}

describe("docker-compose.yml", () => {
  const compose = parse(readFileSync("docker-compose.yml", "utf8")) as { services: Record<string, Service> };

  it("runs Redis, a gateway and a worker", () => {
    assert.deepEqual(Object.keys(compose.services).sort(), ["gateway", "redis", "worker"]);
    assert.deepEqual(compose.services.gateway?.command, ["npm", "start", "--", "gateway"]);
    assert.deepEqual(compose.services.worker?.command, ["npm", "start", "--", "worker"]);
  });

  it("gives Redis an fsynced append-only file and no eviction", () => {
    const command = compose.services.redis?.command?.join(" ") ?? "";
    assert.match(command, /--appendonly yes/);
    assert.match(command, /--appendfsync everysec/);
    assert.match(command, /--maxmemory-policy noeviction/);
  });

  it("points gateway and worker at the Redis service, after it is healthy", () => {
    for (const name of ["gateway", "worker"]) {
      assert.equal(compose.services[name]?.environment?.REDIS_URL, "redis://redis:6379");
      assert.deepEqual(compose.services[name]?.depends_on, { redis: { condition: "service_healthy" } });
    }
  });
});
