import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Redis } from "ioredis";
import { type Gateway, startGateway } from "../../../src/app/gateway.ts";
import { createLogger } from "../../../src/logger.ts";
import { Accounting, dropPrefix, formatReport } from "../../helpers/accounting.ts";
import { startHarness } from "../../helpers/harness.ts";
import { collectEvents, createConversation, finished, postMessage } from "../../helpers/webchat-client.ts";

describe("fault: the gateway restarted", () => {
  it("continues conversations with their context, and an answer in flight still arrives once", async () => {
    const h = await startHarness({
      env: { MAX_ANSWER_TOKENS: "600", LLM_IGNORE_EOS: "true", LLM_CONTEXT_SIZE: "4096" },
    });
    const prefix = h.config.redis.prefix;
    // Its own connection: the first gateway's closes with it.
    const redis = new Redis(h.config.redis.url);
    const accounting = new Accounting(redis, prefix);
    let second: Gateway | undefined;
    try {
      const { conversationId, token } = await createConversation(h.baseUrl);
      const ref = { channel: "webchat" as const, tenant: "web", conversationKey: conversationId };
      const r1 = await postMessage(h.baseUrl, conversationId, token, "How do I reset my password?");
      const m1 = (await accounting.acceptWebchat(r1, conversationId)) as string;
      accounting.observe(await collectEvents(h.baseUrl, conversationId, token, finished(m1)));

      // A second question is being answered when the gateway goes away.
      const r2 = await postMessage(h.baseUrl, conversationId, token, "And if I forgot my email too?");
      const m2 = (await accounting.acceptWebchat(r2, conversationId)) as string;
      await collectEvents(h.baseUrl, conversationId, token, (e) =>
        e.some((x) => x.event === "token" && x.data.messageId === m2),
      );
      await h.gateway.close();

      // A new gateway process on the same Redis: same session secret, same context, new port.
      second = await startGateway(h.config, createLogger({ level: "silent" }));
      const baseUrl = `http://127.0.0.1:${second.port}`;
      const events = await collectEvents(baseUrl, conversationId, token, finished(m1, m2), {
        timeoutMs: 60_000,
      });
      accounting.observe(events);
      assert.deepEqual(
        events.filter((e) => e.event === "reply").map((e) => e.data.messageId),
        [m1, m2],
        "the answer in flight arrives once, after the earlier one",
      );

      const r3 = await postMessage(baseUrl, conversationId, token, "Thanks, and how do I change it later?");
      assert.equal(r3.status, 202, "the old session token is accepted by the new gateway");
      const m3 = (await accounting.acceptWebchat(r3, conversationId)) as string;
      accounting.observe(await collectEvents(baseUrl, conversationId, token, finished(m3)));

      const report = await accounting.settle(30_000);
      assert.equal(report.answered, 3, formatReport(report));
      assert.equal(report.lost + report.duplicated, 0, formatReport(report));
      const turns = await second.conversations.turns(ref);
      assert.deepEqual(
        turns.map((t) => t.id),
        [m1, m2, m3],
        "the context holds every turn, in order, across the restart",
      );
      const res = await fetch(`${baseUrl}/webchat/v1/conversations/${conversationId}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const body = (await res.json()) as { turns: { messageId: string }[] };
      assert.equal(body.turns.length, 3);
    } finally {
      await h.worker?.close();
      if (second) {
        await dropPrefix(second.redis, prefix);
        await second.close();
      }
      redis.disconnect();
    }
  });
});
