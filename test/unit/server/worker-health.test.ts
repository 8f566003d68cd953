import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { WorkerStatus } from "../../../src/answering/worker-status.ts";
import { startWorkerHealthServer, type WorkerHealthServer } from "../../../src/server/worker-health.ts";

describe("worker health probes", () => {
  let status: WorkerStatus | undefined;
  let stopping = false;
  let server: WorkerHealthServer;
  const get = async (path: string) => {
    const res = await fetch(`http://127.0.0.1:${server.port}${path}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  before(async () => {
    server = await startWorkerHealthServer({
      port: 0,
      host: "127.0.0.1",
      status: () => status,
      stopping: () => stopping,
    });
  });
  after(() => server.close());

  it("is live at once and ready only once the model is loaded", async () => {
    assert.equal((await get("/healthz")).status, 200);
    const starting = await get("/readyz");
    assert.equal(starting.status, 503);
    assert.equal(starting.body.state, "loading");

    status = { id: "w1", state: "loading", engine: "llama: m.gguf", capacity: 0, at: 0 };
    assert.equal((await get("/readyz")).status, 503);

    status = { ...status, state: "ready", capacity: 8 };
    const ready = await get("/readyz");
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body, {
      status: "ready",
      state: "ready",
      id: "w1",
      engine: "llama: m.gguf",
      capacity: 8,
    });
  });

  it("is not ready with the error when the model failed, and while stopping", async () => {
    status = { id: "w1", state: "failed", engine: "llama: m.gguf", capacity: 0, error: "bad magic", at: 0 };
    const failed = await get("/readyz");
    assert.equal(failed.status, 503);
    assert.equal(failed.body.error, "bad magic");
    assert.equal((await get("/healthz")).status, 200, "liveness does not depend on the model");

    status = { ...status, state: "ready", capacity: 8 };
    stopping = true;
    const draining = await get("/readyz");
    assert.equal(draining.status, 503);
    assert.equal(draining.body.state, "stopping");
    assert.equal((await get("/nothing")).status, 404);
  });
});
