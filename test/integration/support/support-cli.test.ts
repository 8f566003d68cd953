import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { runGaps } from "../../../src/cli/gaps-command.ts";
import { runKb } from "../../../src/cli/kb-command.ts";
import { runReport } from "../../../src/cli/report-command.ts";
import { testConfig } from "../../../src/config.ts";
import { type GapRecord, InsightsStore } from "../../../src/insights/insights-store.ts";
import { Keyspace } from "../../../src/redis/keyspace.ts";

const exec = promisify(execFile);
const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

describe("support commands: kb gaps and report", () => {
  const prefix = `test-${randomUUID()}`;
  const config = testConfig({ REDIS_URL, REDIS_PREFIX: prefix });
  let redis: Redis;
  let store: InsightsStore;

  const gap = (question: string, reason: GapRecord["reason"], ageMs = 0): GapRecord => ({
    at: Date.now() - ageMs,
    channel: "slack",
    tenant: "T1",
    userId: "U1",
    question,
    reason,
    closest: [{ path: "billing/refunds.md", title: "Refunds", score: 0.3 }],
  });

  before(async () => {
    redis = new Redis(REDIS_URL);
    store = new InsightsStore({ redis, keys: new Keyspace(prefix), retentionMs: 90 * 86_400_000 });
    for (const g of [
      gap("Can I get a refund for a thermostat bought in a shop?", "no_answer"),
      gap("refunds for shop purchases?", "downvote"),
      gap("Refund for a unit bought at a retail shop", "handoff"),
      gap("Does it work with a heat pump?", "no_answer"),
    ]) {
      await store.recordGap(g);
    }
    const now = Date.now();
    const q = (channel: string, n: number, conversationKey = `c${n}`) => ({
      type: "q" as const,
      at: now,
      channel,
      tenant: "t",
      conversationKey,
      userId: `u${n}`,
      messageId: `${channel}-m${n}`,
    });
    // webchat: 3 questions, 2 answered from knowledge, one of those in a conversation later handed off.
    await store.recordEvent(q("webchat", 1));
    await store.recordEvent(q("webchat", 2));
    await store.recordEvent(q("webchat", 3));
    await store.recordEvent({
      type: "a",
      at: now,
      channel: "webchat",
      messageId: "webchat-m1",
      kind: "answer",
      ttftMs: 100,
    });
    await store.recordEvent({
      type: "a",
      at: now,
      channel: "webchat",
      messageId: "webchat-m2",
      kind: "excerpt",
      ttftMs: 300,
    });
    await store.recordEvent({
      type: "a",
      at: now,
      channel: "webchat",
      messageId: "webchat-m3",
      kind: "no_answer",
      ttftMs: 200,
    });
    await store.recordEvent({
      type: "h",
      at: now,
      channel: "webchat",
      tenant: "t",
      userId: "u2",
      conversationKey: "c2",
    });
    await store.recordEvent({
      type: "f",
      at: now,
      channel: "webchat",
      tenant: "t",
      userId: "u1",
      messageId: "webchat-m1",
      vote: "down",
    });
    // A changed vote counts once, as its latest value.
    await store.recordEvent({
      type: "f",
      at: now,
      channel: "webchat",
      tenant: "t",
      userId: "u1",
      messageId: "webchat-m1",
      vote: "up",
    });
    await store.recordEvent({
      type: "f",
      at: now,
      channel: "webchat",
      tenant: "t",
      userId: "u2",
      messageId: "webchat-m2",
      vote: "down",
    });
    await store.recordEvent(q("slack", 4));
    await store.recordEvent({
      type: "a",
      at: now,
      channel: "slack",
      messageId: "slack-m4",
      kind: "answer",
      ttftMs: 50,
    });
  });

  after(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it("kb gaps groups similar questions with counts, reasons, examples and the closest files", async () => {
    const lines: string[] = [];
    assert.equal(await runGaps(config, { json: true }, (l = "") => lines.push(l)), 0);
    const result = JSON.parse(lines.join("\n")) as {
      gaps: number;
      groups: {
        count: number;
        reasons: Record<string, number>;
        examples: string[];
        closest: { path: string }[];
      }[];
    };
    assert.equal(result.gaps, 4);
    assert.equal(result.groups.length, 2);
    const [refunds, heatPump] = result.groups;
    assert.equal(refunds?.count, 3);
    assert.deepEqual(refunds?.reasons, { no_answer: 1, downvote: 1, handoff: 1 });
    assert.equal(refunds?.closest[0]?.path, "billing/refunds.md");
    assert.deepEqual(heatPump?.examples, ["Does it work with a heat pump?"]);

    const text: string[] = [];
    await runGaps(config, {}, (l = "") => text.push(l));
    assert.match(text.join("\n"), /4 gaps in 2 groups/);
    assert.match(text.join("\n"), /closest: billing\/refunds\.md \(0\.30\)/);
  });

  it("kb gaps through the kb command honours --since", async () => {
    const out: string[] = [];
    const io = { stdout: { write: (t: string) => out.push(t) }, stderr: { write: (_t: string) => true } };
    const previous = process.env.REDIS_PREFIX;
    process.env.REDIS_PREFIX = prefix;
    try {
      assert.equal(await runKb(["gaps", "--since", "1m", "--json"], io), 0);
    } finally {
      if (previous === undefined) delete process.env.REDIS_PREFIX;
      else process.env.REDIS_PREFIX = previous;
    }
    assert.equal((JSON.parse(out.join("")) as { gaps: number }).gaps, 4);
    const bad: string[] = [];
    const badIo = { stdout: { write: (_t: string) => true }, stderr: { write: (t: string) => bad.push(t) } };
    assert.equal(await runKb(["gaps", "--since", "soon"], badIo), 2);
    assert.match(bad.join(""), /7d, 12h or 30m/);
  });

  it("report computes questions, deflection, thumbs-up rate, handoffs and median TTFT per channel", async () => {
    const out: string[] = [];
    const io = { stdout: { write: (t: string) => out.push(t) }, stderr: { write: (_t: string) => true } };
    assert.equal(await runReport(["--format", "json"], config, io), 0);
    const report = JSON.parse(out.join("")) as {
      channels: {
        channel: string;
        questions: number;
        deflected: number;
        thumbsUpRate: number;
        handoffs: number;
        medianTtftMs: number;
      }[];
      total: { questions: number };
    };
    const web = report.channels.find((c) => c.channel === "webchat");
    assert.deepEqual(
      web && {
        q: web.questions,
        d: web.deflected,
        up: web.thumbsUpRate,
        h: web.handoffs,
        ttft: web.medianTtftMs,
      },
      { q: 3, d: 1, up: 0.5, h: 1, ttft: 200 },
    );
    assert.equal(report.total.questions, 4);
  });

  it("npm run report prints CSV through the CLI entry point", async () => {
    const { stdout } = await exec(
      "npx",
      ["tsx", "src/cli/main.ts", "report", "--format", "csv", "--since", "1d"],
      {
        env: { ...process.env, REDIS_URL, REDIS_PREFIX: prefix },
      },
    );
    const [header, ...rows] = stdout.trim().split("\n");
    assert.match(header ?? "", /^channel,questions,deflected,deflection_rate/);
    assert.deepEqual(
      rows.map((r) => r.split(",").slice(0, 3).join(",")),
      ["slack,1,1", "webchat,3,1", "all,4,2"],
    );
  });
});
