import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startWorkerRuntime } from "../../../src/app/worker-runtime.ts";
import { createLogger } from "../../../src/logger.ts";
import { Keyspace } from "../../../src/redis/keyspace.ts";
import { type Harness, startHarness } from "../../helpers/harness.ts";
import { collectEvents, createConversation, postMessage } from "../../helpers/webchat-client.ts";

const terminals = async (h: Harness, messageId: string) =>
  (await h.redis.xrange(new Keyspace(h.config.redis.prefix).reply(messageId), "-", "+")).filter(([, f]) =>
    ["final", "error"].includes(f[1] ?? ""),
  );

describe("queue-wait budget: a message no worker takes in time ends with `unavailable`", () => {
  let h: Harness;
  before(async () => {
    // Only a gateway: nobody takes the jobs.
    h = await startHarness({ worker: false, model: false, env: { QUEUE_WAIT_MS: "1000" } });
  });
  after(() => h.stop());

  it("sends an `unavailable` error event, removes the job, counts it, and never answers it later", async () => {
    const { conversationId, token } = await createConversation(h.baseUrl);
    const res = await postMessage(h.baseUrl, conversationId, token, "How do I reset my password?");
    assert.equal(res.status, 202);
    const { messageId } = (await res.json()) as { messageId: string };

    const events = await collectEvents(h.baseUrl, conversationId, token, (e) =>
      e.some((x) => x.event === "error" || x.event === "reply"),
    );
    const failure = events.find((e) => e.event === "error");
    assert.ok(failure, `an error event arrives: ${JSON.stringify(events)}`);
    assert.equal(failure.data.code, "unavailable");
    assert.equal(failure.data.messageId, messageId);
    assert.match(String(failure.data.message), /try again/i);
    assert.equal(events.filter((e) => e.event === "reply").length, 0);

    const queue = h.gateway.queue;
    const counts = await queue.getJobCounts("wait", "prioritized", "active", "delayed");
    assert.equal(
      Object.values(counts).reduce((a, b) => a + b, 0),
      0,
      "the job left the queue",
    );
    const metrics = await (await fetch(`${h.baseUrl}/metrics`)).text();
    assert.match(metrics, /^sgw_queue_wait_expired_total 1$/m);
    assert.match(metrics, /^sgw_queue_waiting_jobs 0$/m);
    assert.match(metrics, /^sgw_workers_alive\{state="ready"\} 0$/m);

    // A worker arrives now: the next message is answered, the expired one never is.
    const worker = await startWorkerRuntime(h.config, createLogger({ level: "silent" }));
    try {
      const next = await postMessage(h.baseUrl, conversationId, token, "What payment methods do you accept?");
      const nextId = ((await next.json()) as { messageId: string }).messageId;
      await collectEvents(h.baseUrl, conversationId, token, (e) =>
        e.some((x) => x.event === "reply" && x.data.messageId === nextId),
      );
      const first = await terminals(h, messageId);
      assert.equal(first.length, 1, "exactly one terminal entry for the expired message");
      assert.equal(first[0]?.[1][1], "error");
    } finally {
      await worker.close();
    }
  });
});

describe("queue-wait budget, enforced by a worker when no gateway ran the janitor", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ worker: false, model: false, env: { QUEUE_WAIT_MS: "1000" } });
  });
  after(() => h.stop());

  it("drops a message it takes for the first time after the budget instead of answering it", async () => {
    const { conversationId, token } = await createConversation(h.baseUrl);
    // The janitor pauses (as if every gateway were down) while the message outlives its budget.
    await h.gateway.queueWait.stop();
    const res = await postMessage(h.baseUrl, conversationId, token, "How long does shipping take?");
    const { messageId } = (await res.json()) as { messageId: string };
    const queue = h.gateway.queue;
    const job = await queue.getJob(messageId);
    assert.ok(job, "the job waits in the queue");
    // The budget is measured from acceptance: move that into the past rather than sleeping past it.
    await job.updateData({ ...job.data, acceptedAt: Date.now() - 5000 });

    const worker = await startWorkerRuntime(h.config, createLogger({ level: "silent" }));
    try {
      const events = await collectEvents(h.baseUrl, conversationId, token, (e) =>
        e.some((x) => x.event === "error" || x.event === "reply"),
      );
      assert.deepEqual(
        events.filter((e) => e.event !== "token").map((e) => [e.event, e.data.code]),
        [["error", "unavailable"]],
      );
      assert.equal((await terminals(h, messageId)).length, 1);
    } finally {
      await worker.close();
    }
  });
});
