import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Accounting, formatReport } from "../../helpers/accounting.ts";
import { type Harness, startHarness } from "../../helpers/harness.ts";
import { collectEvents, createConversation, finished, postMessage } from "../../helpers/webchat-client.ts";
import { PrivateRedisServer } from "./private-redis-server.ts";

describe("fault: Redis killed and restarted in the middle of a run", () => {
  const server = new PrivateRedisServer();
  let h: Harness;
  before(async () => {
    await server.start();
    h = await startHarness({
      env: {
        REDIS_URL: server.url,
        LLM_SEQUENCES: "4",
        MAX_ANSWER_TOKENS: "1500",
        LLM_IGNORE_EOS: "true",
        LLM_CONTEXT_SIZE: "4096",
        WORKER_LOCK_MS: "2000",
        WORKER_STALLED_INTERVAL_MS: "1000",
        ANSWER_TIMEOUT_MS: "120000",
      },
    });
  });
  after(async () => {
    // Closing a worker waits for Redis: bring it back first if a failed assertion left it down.
    if (!server.running) await server.start();
    await h.stop().catch(() => undefined);
    await server.destroy();
  });

  it("reconnects gateway and worker by themselves and answers every accepted message once", async () => {
    const accounting = new Accounting(h.redis, h.config.redis.prefix);
    const convs = await Promise.all([1, 2, 3, 4].map(() => createConversation(h.baseUrl)));
    const ids: string[] = [];
    for (const c of convs) {
      const res = await postMessage(h.baseUrl, c.conversationId, c.token, "How do I reset my password?");
      ids.push((await accounting.acceptWebchat(res, c.conversationId)) as string);
    }
    const first = convs[0];
    assert.ok(first);
    // Kill Redis once answers are visibly streaming.
    await collectEvents(h.baseUrl, first.conversationId, first.token, (e) =>
      e.some((x) => x.event === "token"),
    );
    await server.kill();

    // While Redis is down a new message is refused with a clear JSON error, not accepted and not hung.
    const during = await postMessage(h.baseUrl, first.conversationId, first.token, "Are you there?");
    assert.ok(during.status >= 500, `status ${during.status}`);
    const body = (await during.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, "redis_unavailable", body.error.message);
    accounting.refuse(body.error.code);
    const ready = await fetch(`${h.baseUrl}/readyz`);
    assert.equal(ready.status, 503, "not ready while Redis is down");

    await new Promise((r) => setTimeout(r, 1000));
    await server.start();

    const report = await accounting.settle(120_000);
    assert.equal(report.lost, 0, formatReport(report));
    assert.equal(report.duplicated, 0, formatReport(report));
    assert.equal(report.answered, ids.length, formatReport(report));
    for (const [i, c] of convs.entries()) {
      const events = await collectEvents(h.baseUrl, c.conversationId, c.token, finished(ids[i] as string), {
        timeoutMs: 60_000,
      });
      accounting.observe(events);
      assert.equal(events.filter((e) => e.event === "reply").length, 1);
    }

    // The conversation goes on with its context after the restart.
    const next = await postMessage(h.baseUrl, first.conversationId, first.token, "And how do I change it?");
    const nextId = (await accounting.acceptWebchat(next, first.conversationId)) as string;
    assert.ok(nextId, "accepted after the restart");
    const final = await accounting.settle(60_000);
    assert.equal(final.lost + final.duplicated, 0, formatReport(final));
    const turns = await h.conversations.turns({
      channel: "webchat",
      tenant: "web",
      conversationKey: first.conversationId,
    });
    assert.deepEqual(
      turns.map((t) => t.id),
      [ids[0], nextId],
    );
  });
});
