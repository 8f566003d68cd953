import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Accounting, formatReport } from "../../helpers/accounting.ts";
import { startHarness } from "../../helpers/harness.ts";
import { collectEvents, createConversation, finished, postMessage } from "../../helpers/webchat-client.ts";

describe("a new message while the previous answer is still being written", () => {
  it("answers both, in the order they were sent", async () => {
    const h = await startHarness({
      env: { MAX_ANSWER_TOKENS: "400", LLM_IGNORE_EOS: "true", LLM_CONTEXT_SIZE: "4096" },
    });
    const accounting = new Accounting(h.redis, h.config.redis.prefix);
    try {
      const { conversationId, token } = await createConversation(h.baseUrl);
      const r1 = await postMessage(h.baseUrl, conversationId, token, "How do I reset my password?");
      const m1 = (await accounting.acceptWebchat(r1, conversationId)) as string;
      await collectEvents(h.baseUrl, conversationId, token, (e) =>
        e.some((x) => x.event === "token" && x.data.messageId === m1),
      );
      const r2 = await postMessage(h.baseUrl, conversationId, token, "Also, how long does shipping take?");
      const m2 = (await accounting.acceptWebchat(r2, conversationId)) as string;
      const events = await collectEvents(h.baseUrl, conversationId, token, finished(m1, m2), {
        timeoutMs: 60_000,
      });
      accounting.observe(events);
      // Every event of the first answer comes before any event of the second.
      const order = events.filter((e) => e.event !== "error").map((e) => e.data.messageId);
      const lastOfFirst = order.lastIndexOf(m1);
      const firstOfSecond = order.indexOf(m2);
      assert.ok(lastOfFirst < firstOfSecond, "answers are not interleaved");
      const report = await accounting.settle(10_000);
      assert.equal(report.answered, 2, formatReport(report));
      assert.equal(report.lost + report.duplicated, 0, formatReport(report));
      const turns = await h.conversations.turns({
        channel: "webchat",
        tenant: "web",
        conversationKey: conversationId,
      });
      assert.deepEqual(
        turns.map((t) => t.id),
        [m1, m2],
      );
      // The second answer was generated with the first one in its context.
      assert.equal(turns[1]?.question, "Also, how long does shipping take?");
    } finally {
      await h.stop();
    }
  });

  it("gives each of two answers over budget its own timeout reply, the first one first", async () => {
    const h = await startHarness({
      env: {
        ANSWER_TIMEOUT_MS: "1500",
        MAX_ANSWER_TOKENS: "30000",
        LLM_IGNORE_EOS: "true",
        LLM_CONTEXT_SIZE: "32768",
        LLM_SEQUENCES: "2",
      },
    });
    const accounting = new Accounting(h.redis, h.config.redis.prefix);
    try {
      const { conversationId, token } = await createConversation(h.baseUrl);
      const r1 = await postMessage(h.baseUrl, conversationId, token, "Tell me everything about billing");
      const m1 = (await accounting.acceptWebchat(r1, conversationId)) as string;
      await collectEvents(h.baseUrl, conversationId, token, (e) => e.some((x) => x.event === "token"));
      const r2 = await postMessage(h.baseUrl, conversationId, token, "And about returns?");
      const m2 = (await accounting.acceptWebchat(r2, conversationId)) as string;
      const events = await collectEvents(h.baseUrl, conversationId, token, finished(m1, m2), {
        timeoutMs: 60_000,
      });
      accounting.observe(events);
      const terminal = events.filter((e) => e.event === "reply" || e.event === "error");
      assert.deepEqual(
        terminal.map((e) => [e.data.messageId, e.event, e.data.code]),
        [
          [m1, "error", "timeout"],
          [m2, "error", "timeout"],
        ],
        "each answer ends with its own timeout, first one first",
      );
      const report = await accounting.settle(10_000);
      assert.deepEqual(report.failures, { timeout: 2 }, formatReport(report));
      assert.equal(report.lost + report.duplicated, 0, formatReport(report));
    } finally {
      await h.stop();
    }
  });
});
