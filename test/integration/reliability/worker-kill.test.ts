import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Keyspace } from "../../../src/redis/keyspace.ts";
import { Accounting, formatReport } from "../../helpers/accounting.ts";
import { type Harness, startHarness } from "../../helpers/harness.ts";
import { collectEvents, createConversation, finished, postMessage } from "../../helpers/webchat-client.ts";
import { exited, spawnWorker, waitForWorkers } from "../../helpers/worker-process.ts";

const ANSWERS = 6;

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("fault: a worker process killed with SIGKILL while several answers are in flight", () => {
  let h: Harness;
  before(async () => {
    // Two worker processes of 4 sequences each; long answers of a known length so that all six are
    // mid-way when the kill comes; short locks so that stalled jobs are taken over in about a second.
    h = await startHarness({
      worker: false,
      env: {
        LLM_SEQUENCES: "4",
        WORKER_LOCK_MS: "1000",
        WORKER_STALLED_INTERVAL_MS: "500",
        MAX_ANSWER_TOKENS: "2500",
        LLM_IGNORE_EOS: "true",
        LLM_CONTEXT_SIZE: "4096",
        ANSWER_TIMEOUT_MS: "120000",
      },
    });
  });
  after(async () => {
    await h.stop();
  });

  it("answers every affected message exactly once on the surviving worker", async () => {
    const victim = spawnWorker(h.env);
    const survivor = spawnWorker(h.env);
    const accounting = new Accounting(h.redis, h.config.redis.prefix);
    const msgKey = (id: string) => new Keyspace(h.config.redis.prefix).message(id);
    try {
      await waitForWorkers(h.baseUrl, 2, 120_000);
      const convs = await Promise.all(Array.from({ length: ANSWERS }, () => createConversation(h.baseUrl)));
      const ids: string[] = [];
      for (const c of convs) {
        const res = await postMessage(h.baseUrl, c.conversationId, c.token, "How do I reset my password?");
        ids.push((await accounting.acceptWebchat(res, c.conversationId)) as string);
      }
      // Six jobs over two workers of four sequences: each worker holds at least two when all run.
      await until(
        async () => {
          const states = await Promise.all(ids.map((id) => h.redis.hget(msgKey(id), "state")));
          return states.every((s) => s === "running");
        },
        60_000,
        "all answers to be running",
      );
      victim.kill("SIGKILL");
      await exited(victim);
      const cutOff = await Promise.all(ids.map((id) => h.redis.hget(msgKey(id), "state")));
      assert.ok(
        cutOff.filter((s) => s !== "done").length >= 2,
        "at least two answers were in flight on the killed worker",
      );

      const report = await accounting.settle(120_000);
      assert.equal(report.lost, 0, formatReport(report));
      assert.equal(report.duplicated, 0, formatReport(report));
      assert.equal(report.answered, ANSWERS, formatReport(report));
      const attempts = await Promise.all(ids.map((id) => h.redis.hget(msgKey(id), "attempts")));
      const retaken = attempts.filter((a) => Number(a) >= 2).length;
      assert.ok(
        retaken >= 2,
        `answers taken over by the survivor: ${retaken} (attempts ${attempts.join(",")})`,
      );

      // Each client sees one reply per message, and each conversation keeps exactly one turn.
      for (const [i, c] of convs.entries()) {
        const events = await collectEvents(h.baseUrl, c.conversationId, c.token, finished(ids[i] as string));
        accounting.observe(events);
        assert.equal(events.filter((e) => e.event === "reply").length, 1);
        assert.equal(events.filter((e) => e.event === "error").length, 0);
        const turns = await h.conversations.turns({
          channel: "webchat",
          tenant: "web",
          conversationKey: c.conversationId,
        });
        assert.equal(turns.length, 1);
      }
      const final = await accounting.audit();
      assert.equal(final.duplicated + final.lost, 0, formatReport(final));
    } finally {
      for (const child of [victim, survivor]) {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
        await exited(child);
      }
    }
  });
});
