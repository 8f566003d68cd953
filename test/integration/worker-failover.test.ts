import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Keyspace } from "../../src/redis/keyspace.ts";
import { type Harness, startHarness } from "../helpers/harness.ts";
import { collectEvents, createConversation, finished, postMessage } from "../helpers/webchat-client.ts";
import { exited, spawnWorker, waitForWorkers } from "../helpers/worker-process.ts";

describe("a worker killed mid-answer", () => {
  let h: Harness;
  before(async () => {
    // Short locks so the stalled job is taken over in about a second instead of 30-60 s.
    h = await startHarness({
      worker: false,
      env: {
        WORKER_LOCK_MS: "1000",
        WORKER_STALLED_INTERVAL_MS: "500",
        MAX_ANSWER_TOKENS: "1500",
        LLM_IGNORE_EOS: "true",
        LLM_CONTEXT_SIZE: "4096",
      },
    });
  });
  after(async () => {
    await h.stop();
  });

  it("is answered exactly once by another worker", async () => {
    const first = spawnWorker(h.env);
    try {
      await waitForWorkers(h.baseUrl, 1);
      const { conversationId, token } = await createConversation(h.baseUrl);
      const res = await postMessage(h.baseUrl, conversationId, token, "How do I reset my password?");
      const { messageId } = (await res.json()) as { messageId: string };
      // Kill the worker once it is visibly answering.
      await collectEvents(h.baseUrl, conversationId, token, (e) => e.some((x) => x.event === "token"));
      first.kill("SIGKILL");
      await exited(first);
      const state = await h.redis.hget(new Keyspace(h.config.redis.prefix).message(messageId), "state");
      assert.equal(state, "running", "the answer was cut off mid-way");

      const second = spawnWorker(h.env);
      try {
        const events = await collectEvents(h.baseUrl, conversationId, token, finished(messageId), {
          timeoutMs: 60_000,
        });
        await new Promise((r) => setTimeout(r, 1500));
        const again = await collectEvents(h.baseUrl, conversationId, token, finished(messageId));
        const replies = [...events, ...again].filter(
          (e) => e.event === "reply" && e.data.messageId === messageId,
        );
        assert.equal(new Set(replies.map((r) => r.id)).size, 1, "one reply entry");
        assert.equal(events.filter((e) => e.event === "error").length, 0);
        const attempts = await h.redis.hget(
          new Keyspace(h.config.redis.prefix).message(messageId),
          "attempts",
        );
        assert.equal(attempts, "2", "the second worker made a second attempt");
        const turns = await h.conversations.turns({
          channel: "webchat",
          tenant: "web",
          conversationKey: conversationId,
        });
        assert.equal(turns.length, 1);
      } finally {
        second.kill("SIGTERM");
        await exited(second);
      }
    } finally {
      if (first.exitCode === null && first.signalCode === null) first.kill("SIGKILL");
    }
  });
});
