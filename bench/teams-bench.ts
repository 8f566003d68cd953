import { TeamsAdapter } from "../adapters/teams/teams-adapter.ts";
import { FakeBotConnector } from "../test/fakes/fake-bot-connector.ts";
import { personalMessage } from "../test/fakes/teams-activities.ts";
import { startHarness } from "../test/helpers/harness.ts";
import { percentile, round, say, table } from "./stats.ts";

const QUESTIONS = [
  "How do I reset my password?",
  "What payment methods do you accept?",
  "How long does shipping take?",
  "How do I return an item?",
];
const MAX_TOKENS = 48;
/** Chats per configuration: enough for a p99 that is not just the single worst sample. */
const SAMPLES = 64;

interface Sample {
  /** POST to the first "streaming" update at the connector; undefined when the answer was not streamed. */
  firstChunkMs: number | undefined;
  finalMs: number;
  ackMs: number;
}

/** One 1:1 chat: POST the activity, then read the connector's clock for the first chunk and the final message. */
async function chat(baseUrl: string, connector: FakeBotConnector, question: string): Promise<Sample> {
  const activity = personalMessage({ serviceUrl: connector.serviceUrl, text: question });
  const conversationId = (activity.conversation as { id: string }).id;
  const started = performance.now();
  const response = await fetch(`${baseUrl}/api/messages`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(activity),
  });
  const ackMs = performance.now() - started;
  if (response.status !== 200) throw new Error(`POST /api/messages answered ${response.status}`);
  const final = await connector.waitFor(
    (r) => r.conversationId === conversationId && r.activity.type === "message",
    60_000,
  );
  const chunk = connector
    .for(conversationId)
    .find((r) => r.activity.type === "typing" && r.activity.channelData?.streamType === "streaming");
  return { firstChunkMs: chunk ? chunk.at - started : undefined, finalMs: final.at - started, ackMs };
}

async function measure(streamIntervalMs: number, concurrency: number): Promise<Sample[]> {
  const connector = new FakeBotConnector();
  await connector.start();
  const harness = await startHarness({
    env: {
      TEAMS_SERVICE_URL_ALLOWLIST: connector.origin,
      MAX_ANSWER_TOKENS: String(MAX_TOKENS),
      LLM_SEQUENCES: "16",
    },
    adapters: (config) => [new TeamsAdapter(config.teams, { streamIntervalMs })],
  });
  try {
    // Warm-up: the first answer loads lazily initialised parts of the model and the SDK.
    await chat(harness.baseUrl, connector, "warm up");
    const samples: Sample[] = [];
    let n = 0;
    while (samples.length < SAMPLES) {
      const round = Array.from({ length: concurrency }, () =>
        chat(harness.baseUrl, connector, QUESTIONS[n++ % 4] ?? ""),
      );
      samples.push(...(await Promise.all(round)));
    }
    await (harness.gateway.adapters[0] as TeamsAdapter).idle();
    return samples;
  } finally {
    await harness.stop();
    await connector.stop();
  }
}

function summarise(samples: Sample[]) {
  const chunks = samples.map((s) => s.firstChunkMs).filter((v): v is number => v !== undefined);
  const finals = samples.map((s) => s.finalMs);
  const acks = samples.map((s) => s.ackMs);
  return {
    samples: samples.length,
    streamed: chunks.length,
    ackP50: round(percentile(acks, 50)),
    ackP99: round(percentile(acks, 99)),
    firstChunkP50: chunks.length ? round(percentile(chunks, 50)) : null,
    firstChunkP99: chunks.length ? round(percentile(chunks, 99)) : null,
    finalP50: round(percentile(finals, 50)),
    finalP99: round(percentile(finals, 99)),
  };
}

/**
 * Teams latency with the tiny model: from the POST of a 1:1 activity to the first streamed chunk and
 * to the final message at the fake connector, at 1 and 16 concurrent chats, with the production
 * stream interval (1 s, Teams' throttle) and unthrottled (the pipeline's own latency).
 */
export async function runTeamsBench(json = false): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const rows: (string | number)[][] = [];
  for (const interval of [1000, 0]) {
    for (const concurrency of [1, 16]) {
      const s = summarise(await measure(interval, concurrency));
      out[`interval${interval}_c${concurrency}`] = { streamIntervalMs: interval, concurrency, ...s };
      rows.push([
        interval,
        concurrency,
        s.samples,
        s.streamed,
        s.ackP50,
        s.ackP99,
        s.firstChunkP50 ?? "-",
        s.firstChunkP99 ?? "-",
        s.finalP50,
        s.finalP99,
      ]);
    }
  }
  say(json, `Teams 1:1 chats, tiny model, ${MAX_TOKENS} tokens max, ms from POST (fake connector clock)`);
  say(
    json,
    table(
      [
        "stream ms",
        "chats",
        "n",
        "streamed",
        "ack p50",
        "ack p99",
        "chunk p50",
        "chunk p99",
        "final p50",
        "final p99",
      ],
      rows,
    ),
  );
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runTeamsBench(process.argv.includes("--json"));
  process.exit(0);
}
