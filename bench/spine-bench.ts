import { randomUUID } from "node:crypto";
import { buildPrompt } from "../src/conversation/prompt-builder.ts";
import { LlamaEngine } from "../src/inference/llama-engine.ts";
import { createLogger } from "../src/logger.ts";
import { startHarness } from "../test/helpers/harness.ts";
import { collectEvents, createConversation, finished, postMessage } from "../test/helpers/webchat-client.ts";
import { percentile, round, say, table } from "./stats.ts";

const QUESTIONS = [
  "How do I reset my password?",
  "What payment methods do you accept?",
  "How long does shipping take?",
  "How do I return an item?",
];
const SETTINGS = { sequences: 16, maxTokens: 32, contextSize: 2048 };
const ROUNDS = 3;

interface Sample {
  firstMs: number;
  totalMs: number;
}

const summary = (samples: Sample[]) => ({
  samples: samples.length,
  firstP50: round(
    percentile(
      samples.map((s) => s.firstMs),
      50,
    ),
  ),
  firstP99: round(
    percentile(
      samples.map((s) => s.firstMs),
      99,
    ),
  ),
  totalP50: round(
    percentile(
      samples.map((s) => s.totalMs),
      50,
    ),
  ),
  totalP99: round(
    percentile(
      samples.map((s) => s.totalMs),
      99,
    ),
  ),
});

/** One web chat exchange: POST the message, time the first `token` event and the `reply`. */
async function exchange(baseUrl: string, question: string): Promise<Sample> {
  const { conversationId, token } = await createConversation(baseUrl);
  // Subscribe first so the clock starts at the POST, not at the stream's setup.
  let first = 0;
  let messageId = "";
  let started = 0;
  const events = collectEvents(
    baseUrl,
    conversationId,
    token,
    (e) => {
      if (first === 0 && e.some((x) => x.event === "token")) first = performance.now();
      return messageId !== "" && finished(messageId)(e);
    },
    { timeoutMs: 120_000 },
  );
  await new Promise((r) => setTimeout(r, 20));
  started = performance.now();
  const res = await postMessage(baseUrl, conversationId, token, question);
  messageId = ((await res.json()) as { messageId: string }).messageId;
  await events;
  return { firstMs: first - started, totalMs: performance.now() - started };
}

async function serviceRun(concurrency: number): Promise<Sample[]> {
  const h = await startHarness({
    env: {
      LLM_SEQUENCES: String(SETTINGS.sequences),
      MAX_ANSWER_TOKENS: String(SETTINGS.maxTokens),
      LLM_IGNORE_EOS: "true",
      LLM_CONTEXT_SIZE: String(SETTINGS.contextSize),
      // No knowledge folder: the prompt is the same bare one the direct run sends.
      KNOWLEDGE_DIR: "/nonexistent-knowledge-dir",
    },
  });
  try {
    await exchange(h.baseUrl, "warm up");
    const samples: Sample[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const batch = await Promise.all(
        Array.from({ length: concurrency }, (_, i) =>
          exchange(h.baseUrl, QUESTIONS[i % QUESTIONS.length] as string),
        ),
      );
      samples.push(...batch);
    }
    return samples;
  } finally {
    await h.stop();
  }
}

/** The same generation straight on the engine (node-llama-cpp), no HTTP, Redis or queue. */
async function directRun(concurrency: number, modelPath: string): Promise<Sample[]> {
  const engine = await LlamaEngine.load(
    {
      modelPath,
      gpu: false,
      threads: 1,
      contextSize: SETTINGS.contextSize,
      sequences: SETTINGS.sequences,
      ignoreEos: true,
    },
    createLogger({ level: "silent" }),
  );
  try {
    const one = async (question: string): Promise<Sample> => {
      const prompt = buildPrompt({ question, snippets: [], history: [] });
      const started = performance.now();
      let first = 0;
      await engine.generate(
        { ...prompt, maxTokens: SETTINGS.maxTokens, temperature: 0.8, seed: 1 },
        {
          signal: new AbortController().signal,
          onText: () => {
            if (first === 0) first = performance.now();
          },
        },
      );
      return { firstMs: first - started, totalMs: performance.now() - started };
    };
    await one("warm up");
    const samples: Sample[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      samples.push(
        ...(await Promise.all(
          Array.from({ length: concurrency }, (_, i) => one(QUESTIONS[i % 4] as string)),
        )),
      );
    }
    return samples;
  } finally {
    await engine.close();
  }
}

/** The deterministic engine's pace in the overhead runs: its first token comes this long after a request. */
const FAKE_FIRST_TOKEN_MS = 20;

/**
 * POST to first token through the whole service (`npm start` in a child process, so that the client's
 * work is not in the service's event loop) with the deterministic engine (ENGINE=fake): its first token
 * comes FAKE_FIRST_TOKEN_MS after the request reaches it, so each sample's time past that is the
 * service's own cost (HTTP, Redis, queue, worker, stream), free of a model's CPU use.
 */
async function overheadRun(concurrency: number): Promise<number[]> {
  const { freePort } = await import("../src/redis/private-redis.ts");
  const { startService } = await import("./closed-loop.ts");
  const prefix = `bench-${randomUUID()}`;
  const service = await startService({
    PORT: String(await freePort()),
    HOST: "127.0.0.1",
    REDIS_URL: process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379",
    REDIS_PREFIX: prefix,
    ENGINE: "fake",
    FAKE_ENGINE_FIRST_TOKEN_MS: String(FAKE_FIRST_TOKEN_MS),
    FAKE_ENGINE_TOKEN_MS: "5",
    LLM_SEQUENCES: String(Math.max(16, concurrency)),
    MAX_ANSWER_TOKENS: String(SETTINGS.maxTokens),
    LLM_IGNORE_EOS: "true",
    RATE_LIMIT_USER_PER_MINUTE: "0",
    RATE_LIMIT_TENANT_PER_MINUTE: "0",
    RATE_LIMIT_IP_PER_MINUTE: "0",
    KNOWLEDGE_DIR: "knowledge",
    KNOWLEDGE_WATCH: "false",
    LOG_LEVEL: "warn",
  });
  try {
    await exchange(service.baseUrl, "warm up");
    const overheads: number[] = [];
    for (let r = 0; r < ROUNDS * 4; r++) {
      const batch = await Promise.all(
        Array.from({ length: concurrency }, (_, i) =>
          exchange(service.baseUrl, QUESTIONS[i % QUESTIONS.length] as string),
        ),
      );
      overheads.push(...batch.map((s) => s.firstMs - FAKE_FIRST_TOKEN_MS));
    }
    return overheads;
  } finally {
    service.child.kill("SIGTERM");
    await new Promise((r) => service.child.once("exit", r));
    const { Redis } = await import("ioredis");
    const { dropPrefix } = await import("../test/helpers/accounting.ts");
    const redis = new Redis(process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379");
    await dropPrefix(redis, prefix);
    redis.disconnect();
  }
}

/** POST -> first token and -> reply through the whole service, against the engine called directly. */
export async function runSpineBench(json: boolean): Promise<Record<string, unknown>> {
  const { ensureTinyModel } = await import("../src/tiny-model/tiny-model.ts");
  const modelPath = await ensureTinyModel();
  const results: Record<string, unknown> = {
    model: "tiny random-weight GGUF (2 layers, 64 wide), CPU, 1 thread",
    tokensPerAnswer: SETTINGS.maxTokens,
    sequences: SETTINGS.sequences,
    run: randomUUID().slice(0, 8),
  };
  const rows: (string | number)[][] = [];
  for (const concurrency of [1, 16]) {
    const service = summary(await serviceRun(concurrency));
    const direct = summary(await directRun(concurrency, modelPath));
    results[`service@${concurrency}`] = service;
    results[`direct@${concurrency}`] = direct;
    rows.push([
      "service (web chat)",
      concurrency,
      service.firstP50,
      service.firstP99,
      service.totalP50,
      service.totalP99,
    ]);
    rows.push([
      "node-llama-cpp direct",
      concurrency,
      direct.firstP50,
      direct.firstP99,
      direct.totalP50,
      direct.totalP99,
    ]);
    rows.push([
      "service overhead (p50)",
      concurrency,
      round(service.firstP50 - direct.firstP50),
      "",
      round(service.totalP50 - direct.totalP50),
      "",
    ]);
  }
  say(json, "\nWeb chat: POST to first token / to reply (ms), tiny model");
  say(json, table(["path", "concurrent", "first p50", "first p99", "reply p50", "reply p99"], rows));

  const overheadRows: (string | number)[][] = [];
  for (const concurrency of [1, 16]) {
    const overheads = await overheadRun(concurrency);
    const row = {
      samples: overheads.length,
      p50: round(percentile(overheads, 50), 2),
      p99: round(percentile(overheads, 99), 2),
    };
    results[`overhead@${concurrency}`] = row;
    overheadRows.push([concurrency, row.samples, row.p50, row.p99]);
  }
  say(
    json,
    `\nService overhead to the first token (ms past the deterministic engine's ${FAKE_FIRST_TOKEN_MS} ms), npm start in a child process`,
  );
  say(json, table(["concurrent", "samples", "overhead p50", "overhead p99"], overheadRows));
  return results;
}
