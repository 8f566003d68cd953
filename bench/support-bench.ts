/**
 * What the support loop costs: the gate in front of every message (handoff state lookup), recording a
 * question's analytics, building the report over many events, and grouping many gaps. Real Redis
 * (REDIS_URL or 127.0.0.1:6379) under a random prefix, cleaned up after. Prints a table and JSON.
 *
 *   npx tsx bench/support-bench.ts [--events 100000] [--gaps 2000]
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import { SupportGate } from "../src/handoff/handoff-gate.ts";
import { RedisHandoffStates } from "../src/handoff/handoff-state.ts";
import { groupGaps } from "../src/insights/gap-grouping.ts";
import { InsightsRecorder } from "../src/insights/insights-recorder.ts";
import { type GapRecord, InsightsStore } from "../src/insights/insights-store.ts";
import { Redactor } from "../src/insights/redaction.ts";
import { buildReport } from "../src/insights/support-report.ts";
import { createLogger } from "../src/logger.ts";
import { Keyspace } from "../src/redis/keyspace.ts";
import { percentile, round, say, table } from "./stats.ts";

const { values } = parseArgs({
  options: { events: { type: "string" }, gaps: { type: "string" } },
  strict: false,
  allowPositionals: true,
});
const EVENTS = Number(values.events ?? 100_000);
const GAPS = Number(values.gaps ?? 2000);

/** Runs the support-loop benchmark; `npm run bench -- --only support` calls it. */
export async function runSupportBench(json = false): Promise<Record<string, unknown>> {
  const prefix = `bench-${randomUUID()}`;
  const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
  const keys = new Keyspace(prefix);
  const logger = createLogger({ level: "silent" });
  const store = new InsightsStore({ redis, keys, retentionMs: 90 * 86_400_000 });
  const recorder = new InsightsRecorder({ store, redactor: new Redactor(), turns: async () => [], logger });
  const gate = new SupportGate({
    states: new RedisHandoffStates({ redis, keys, ttlSeconds: 3600 }),
    insights: recorder,
    handoff: () => undefined,
    handoffMessage: async () => "",
    logger,
  });

  const msg = (i: number) => ({
    channel: "webchat" as const,
    tenant: "web",
    conversationKey: `c${i % 500}`,
    userId: `u${i % 500}`,
    text: "How do I reset my password?",
    platformMessageId: `p${i}`,
    receivedAt: Date.now(),
    replyTo: {},
  });

  async function timeEach(n: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
    const ms: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await fn(i);
      ms.push(performance.now() - t);
    }
    return ms;
  }

  try {
    await redis.ping();
    const decide = await timeEach(2000, (i) => gate.decide(msg(i), "How do I reset my password?"));
    const accepted = await timeEach(2000, (i) => gate.accepted(msg(i), `m${i}`));

    // Fill the events stream: questions, answers, a vote on every 4th, a handoff on every 20th.
    let pipe = redis.pipeline();
    const now = Date.now();
    for (let i = 0; i < EVENTS; i++) {
      const channel = ["webchat", "slack", "teams"][i % 3] as string;
      const kind = i % 20 === 0 ? "h" : i % 4 === 0 ? "f" : i % 2 === 0 ? "q" : "a";
      const d =
        kind === "q"
          ? { at: now, channel, tenant: "t", conversationKey: `c${i}`, userId: `u${i}`, messageId: `m${i}` }
          : kind === "a"
            ? { at: now, channel, messageId: `m${i - 1}`, kind: "answer", ttftMs: i % 900 }
            : kind === "f"
              ? {
                  at: now,
                  channel,
                  tenant: "t",
                  userId: `u${i}`,
                  messageId: `m${i - 2}`,
                  vote: i % 8 ? "up" : "down",
                }
              : { at: now, channel, tenant: "t", userId: `u${i}`, conversationKey: `c${i - 2}` };
      pipe.xadd(store.eventsKey, "*", "t", kind, "d", JSON.stringify(d));
      if (i % 5000 === 4999) {
        await pipe.exec();
        pipe = redis.pipeline();
      }
    }
    await pipe.exec();
    let t = performance.now();
    const { events, lastId } = await store.eventsFrom("0-0");
    const readMs = performance.now() - t;
    // What a /metrics refresh reads after 15 s of traffic: only the new entries.
    for (let i = 0; i < 1000; i++) await gate.accepted(msg(i), `late${i}`);
    t = performance.now();
    const incremental = await store.eventsFrom(`(${lastId}`);
    const incrementalMs = performance.now() - t;
    t = performance.now();
    const report = buildReport(events, 0, Date.now());
    const buildMs = performance.now() - t;

    const questions = readFileSync("test/integration/knowledge/sample-questions.jsonl", "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { question: string }).question);
    const gaps: GapRecord[] = Array.from({ length: GAPS }, (_, i) => ({
      at: now - i,
      channel: "webchat",
      tenant: "t",
      userId: `u${i}`,
      question: `${questions[i % questions.length]} ${i % 7 === 0 ? "please" : ""}`,
      reason: "no_answer",
      closest: [],
    }));
    t = performance.now();
    const groups = groupGaps(gaps);
    const groupMs = performance.now() - t;

    const rows: (string | number)[][] = [
      [
        "gate.decide (not handed off)",
        2000,
        round(percentile(decide, 50), 3),
        round(percentile(decide, 99), 3),
      ],
      [
        "gate.accepted (q event + user index)",
        2000,
        round(percentile(accepted, 50), 3),
        round(percentile(accepted, 99), 3),
      ],
      [`read ${events.length} events`, 1, round(readMs), round(readMs)],
      [
        `read ${incremental.events.length} new events after those`,
        1,
        round(incrementalMs),
        round(incrementalMs),
      ],
      [`buildReport over ${events.length} events`, 1, round(buildMs), round(buildMs)],
      [`groupGaps ${GAPS} gaps -> ${groups.length} groups`, 1, round(groupMs), round(groupMs)],
    ];
    say(json, table(["step", "runs", "p50 ms", "p99 ms"], rows));
    return {
      decideP50: percentile(decide, 50),
      decideP99: percentile(decide, 99),
      acceptedP50: percentile(accepted, 50),
      readMs,
      incrementalMs,
      buildMs,
      groupMs,
      events: events.length,
      groups: groups.length,
      questions: report.total.questions,
    };
  } finally {
    let cursor = "0";
    do {
      const [next, found] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      cursor = next;
      if (found.length > 0) await redis.del(...found);
    } while (cursor !== "0");
    redis.disconnect();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runSupportBench(process.argv.includes("--json"));
  process.exit(0);
}
