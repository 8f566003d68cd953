import { FakeSlackApi, type RecordedCall } from "../test/fakes/fake-slack-api.ts";
import { appMention, sendToSlackEndpoint } from "../test/fakes/slack-events.ts";
import { startHarness } from "../test/helpers/harness.ts";
import { percentile, round, say, table } from "./stats.ts";

const SECRET = "bench-signing-secret-0123456789ab";
const QUESTIONS = [
  "How do I reset my password?",
  "What payment methods do you accept?",
  "How long does shipping take?",
  "How do I return an item?",
];
const MAX_TOKENS = 48;
/** Threads per configuration: enough for a p99 that is not just the single worst sample. */
const SAMPLES = 64;

interface Sample {
  /** Signed POST sent -> HTTP 200 back (the message is enqueued by then). */
  ackMs: number;
  /** POST -> first answer text at the fake Web API (chat.startStream, or chat.postMessage as fallback). */
  firstTextMs: number;
  /** POST -> the whole answer with its buttons (chat.stopStream, or the final post/update). */
  finalMs: number;
  /** The first text was a chat.startStream (not a single posted answer). */
  streamed: boolean;
}

const opens = (c: RecordedCall, ts: string) =>
  (c.method === "chat.startStream" || c.method === "chat.postMessage") && c.ok && c.args.thread_ts === ts;

/** One new thread: a signed app_mention, then the fake API's clock for the first text and the end. */
async function thread(url: string, fake: FakeSlackApi, question: string): Promise<Sample> {
  const event = appMention(question);
  const ts = event.event.ts;
  const started = performance.now();
  const response = await sendToSlackEndpoint(url, event, { secret: SECRET });
  const ackMs = performance.now() - started;
  if (response.status !== 200) throw new Error(`POST /slack/events answered ${response.status}`);
  const first = await fake.waitFor((f) => f.calls.find((c) => opens(c, ts)), 180_000);
  const final = await fake
    .waitFor((f) => f.messages({ threadTs: ts }).find((m) => m.complete), 180_000)
    .catch((error: unknown) => {
      const seen = fake
        .messages({ threadTs: ts })
        .map((m) => ({ ...m, blocks: m.blocks.length, text: m.text.length }));
      throw new Error(`thread ${ts}: no final answer; Slack saw ${JSON.stringify(seen)}`, { cause: error });
    });
  return {
    ackMs,
    firstTextMs: first.at - started,
    finalMs: (final.completedAt ?? Number.NaN) - started,
    streamed: first.method === "chat.startStream",
  };
}

interface Run {
  samples: Sample[];
  /** Mean time from acceptance to the first token reaching the gateway (its own histogram), ms. */
  gatewayFirstTokenMeanMs: number;
  /** Observations in that histogram (one per answer measured). */
  gatewayFirstTokenCount: number;
}

async function histogram(metric: {
  get(): Promise<{ values: { metricName?: string; value: number }[] }>;
}): Promise<{ meanMs: number; count: number }> {
  const { values } = await metric.get();
  const sum = values.find((v) => v.metricName?.endsWith("_sum"))?.value ?? Number.NaN;
  const count = values.find((v) => v.metricName?.endsWith("_count"))?.value ?? Number.NaN;
  return { meanMs: (sum / count) * 1000, count };
}

async function measure(concurrency: number): Promise<Run> {
  const fake = await FakeSlackApi.start();
  const harness = await startHarness({
    env: {
      SLACK_BOT_TOKEN: fake.options.botToken,
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_API_URL: fake.url,
      MAX_ANSWER_TOKENS: String(MAX_TOKENS),
      LLM_SEQUENCES: "16",
    },
  });
  const url = `${harness.baseUrl}/slack/events`;
  try {
    // Warm-up: the first answer loads lazily initialised parts of the model and the SDK.
    await thread(url, fake, "warm up");
    harness.gateway.metrics.timeToFirstToken.reset();
    const samples: Sample[] = [];
    let n = 0;
    while (samples.length < SAMPLES) {
      fake.reset();
      const batch = Array.from({ length: concurrency }, () =>
        thread(url, fake, QUESTIONS[n++ % QUESTIONS.length] ?? ""),
      );
      samples.push(...(await Promise.all(batch)));
    }
    return {
      samples,
      ...(await histogram(harness.gateway.metrics.timeToFirstToken).then((g) => ({
        gatewayFirstTokenMeanMs: g.meanMs,
        gatewayFirstTokenCount: g.count,
      }))),
    };
  } finally {
    await harness.stop();
    await fake.close();
  }
}

function summarise({ samples, gatewayFirstTokenMeanMs, gatewayFirstTokenCount }: Run) {
  const pick = (f: (s: Sample) => number) => samples.map(f);
  const p = (values: number[], q: number) => round(percentile(values, q));
  const acks = pick((s) => s.ackMs);
  const firsts = pick((s) => s.firstTextMs);
  const finals = pick((s) => s.finalMs);
  return {
    samples: samples.length,
    streamed: samples.filter((s) => s.streamed).length,
    ackP50: p(acks, 50),
    ackP99: p(acks, 99),
    firstTextP50: p(firsts, 50),
    firstTextP99: p(firsts, 99),
    firstTextMean: round(firsts.reduce((a, b) => a + b, 0) / firsts.length),
    gatewayFirstTokenMean: round(gatewayFirstTokenMeanMs),
    gatewayFirstTokenCount,
    finalP50: p(finals, 50),
    finalP99: p(finals, 99),
  };
}

/**
 * Slack latency with the tiny model: from the POST of a signed app_mention to /slack/events to the
 * first streamed text reaching the fake Slack Web API (chat.startStream), and to the end of the stream,
 * at 1 and 16 concurrent threads, through the whole gateway (Bolt, Redis, BullMQ, worker).
 */
export async function runSlackBench(json = false): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const rows: (string | number)[][] = [];
  for (const concurrency of [1, 16]) {
    const s = summarise(await measure(concurrency));
    out[`c${concurrency}`] = { concurrency, ...s };
    rows.push([
      concurrency,
      s.samples,
      s.streamed,
      s.ackP50,
      s.ackP99,
      s.firstTextP50,
      s.firstTextP99,
      s.firstTextMean,
      s.gatewayFirstTokenMean,
      s.finalP50,
      s.finalP99,
    ]);
  }
  say(
    json,
    `Slack threads, tiny model, ${MAX_TOKENS} tokens max, ms from the signed POST (fake Web API clock)`,
  );
  say(
    json,
    table(
      [
        "threads",
        "n",
        "streamed",
        "ack p50",
        "ack p99",
        "first text p50",
        "first text p99",
        "first text mean",
        "gateway 1st token mean",
        "final p50",
        "final p99",
      ],
      rows,
    ),
  );
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runSlackBench(process.argv.includes("--json"));
  process.exit(0);
}
