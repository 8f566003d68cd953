import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { startWorkerRuntime } from "../../../src/app/worker-runtime.ts";
import { createLogger } from "../../../src/logger.ts";
import { Accounting, formatReport } from "../../helpers/accounting.ts";
import { startHarness } from "../../helpers/harness.ts";
import { collectEvents, createConversation, finished, postMessage } from "../../helpers/webchat-client.ts";

const errorOf = async (res: Response) =>
  ((await res.json()) as { error: { code: string; message: string } }).error;

/** Fixed one-minute windows: the gateway's clock stands still in the middle of one. */
const midWindow = () => Math.floor(Date.now() / 60_000) * 60_000 + 30_000;

describe("backpressure: a bounded queue and rate limits", () => {
  it("answers busy with 429 and Retry-After past the queue depth, then answers everything it accepted", async () => {
    // No worker: accepted messages wait in the queue, so its depth is exactly what was accepted.
    const h = await startHarness({ worker: false, model: false, env: { QUEUE_MAX_DEPTH: "3" } });
    const accounting = new Accounting(h.redis, h.config.redis.prefix);
    try {
      const convs = await Promise.all([1, 2, 3, 4, 5].map(() => createConversation(h.baseUrl)));
      // Sent at once: a burst must not slip past the bound between two samples of the queue depth.
      const responses = await Promise.all(
        convs.map((c) => postMessage(h.baseUrl, c.conversationId, c.token, "How do I reset my password?")),
      );
      const accepted: string[] = [];
      for (const [i, res] of responses.entries()) {
        if (res.status === 202) {
          accepted.push((await accounting.acceptWebchat(res, convs[i]?.conversationId ?? "")) as string);
          continue;
        }
        assert.equal(res.status, 429);
        assert.ok(Number(res.headers.get("retry-after")) > 0, "Retry-After says when to try again");
        const error = await errorOf(res);
        assert.equal(error.code, "busy");
        assert.match(error.message, /try again/i);
        accounting.refuse(error.code);
      }
      assert.equal(accepted.length, 3, "exactly the queue depth is accepted");

      const worker = await startWorkerRuntime(h.config, createLogger({ level: "silent" }));
      try {
        const report = await accounting.settle(30_000);
        assert.equal(report.lost, 0, formatReport(report));
        assert.equal(report.duplicated, 0, formatReport(report));
        assert.equal(report.answered, 3);
        assert.deepEqual(report.refusals, { busy: 2 });
        // Drained: a new message is accepted again (the sampled depth is at most 250 ms old).
        await new Promise((r) => setTimeout(r, 300));
        const c = convs[4];
        assert.ok(c);
        const again = await postMessage(h.baseUrl, c.conversationId, c.token, "How long does shipping take?");
        assert.equal(again.status, 202);
        const { messageId } = (await again.json()) as { messageId: string };
        accounting.accept(messageId);
        const events = await collectEvents(h.baseUrl, c.conversationId, c.token, finished(messageId));
        accounting.observe(events);
        const final = await accounting.settle(10_000);
        assert.equal(final.lost + final.duplicated, 0, formatReport(final));
      } finally {
        await worker.close();
      }
    } finally {
      await h.stop();
    }
  });

  it("limits each user and each tenant per minute with 429 rate_limited and Retry-After", async () => {
    const now = midWindow();
    const h = await startHarness({
      now: () => now,
      model: false,
      env: { RATE_LIMIT_USER_PER_MINUTE: "2", RATE_LIMIT_TENANT_PER_MINUTE: "4" },
    });
    const accounting = new Accounting(h.redis, h.config.redis.prefix);
    try {
      const a = await createConversation(h.baseUrl);
      const statuses: number[] = [];
      for (const text of ["one", "two", "three"]) {
        const res = await postMessage(h.baseUrl, a.conversationId, a.token, `billing question ${text}`);
        statuses.push(res.status);
        if (res.status === 429) {
          assert.ok(Number(res.headers.get("retry-after")) >= 1);
          const error = await errorOf(res);
          assert.equal(error.code, "rate_limited");
          assert.match(error.message, /too quickly/);
          accounting.refuse(error.code);
        } else await accounting.acceptWebchat(res, a.conversationId);
      }
      assert.deepEqual(statuses, [202, 202, 429], "the user's third message in a minute is refused");

      // Other users of the same tenant ("web") share the tenant's budget of 4: two more fit, then no more.
      const others = await Promise.all([1, 2, 3].map(() => createConversation(h.baseUrl)));
      const tenantStatuses: number[] = [];
      for (const c of others) {
        const res = await postMessage(h.baseUrl, c.conversationId, c.token, "shipping question");
        tenantStatuses.push(res.status);
        if (res.status === 429) {
          assert.equal((await errorOf(res)).code, "rate_limited");
          accounting.refuse("rate_limited");
        } else await accounting.acceptWebchat(res, c.conversationId);
      }
      assert.deepEqual(tenantStatuses, [202, 202, 429]);
      const report = await accounting.settle(30_000);
      assert.equal(report.accepted, 4);
      assert.equal(report.answered, 4, formatReport(report));
      assert.equal(report.lost + report.duplicated, 0, formatReport(report));
    } finally {
      await h.stop();
    }
  });
});
