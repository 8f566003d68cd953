import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { FinalAnswer, ReplySink } from "../../src/conversation/conversations.ts";
import { startHarness } from "../../test/helpers/harness.ts";

/**
 * Throughput through the real job path: ConversationManager.submit() enqueues a BullMQ job, the
 * inference worker (concurrency = sequences) runs LlamaEngine, tokens come back through the Redis reply
 * stream to follow(). B conversations ask at once, for each B. One JSON line per batch size.
 *
 *   tsx bench/gpu/job-bench.ts --model m.gguf --batches 1,8,32 --tokens 128 --gpu cuda
 *   tsx bench/gpu/job-bench.ts ... --engine native --engine-bin build/bin/batch-engine   (ENGINE=native)
 *
 * --questions same: every conversation asks about one topic ("Question i: how do I reset my
 * password?"), so prompts differ only in the question and share the rules and retrieved sources;
 * --questions varied: conversation i asks sample question i (test/integration/knowledge/
 * sample-questions.jsonl, 42 questions over the knowledge folder's topics), so sources differ too.
 * --prefix-cache 0 turns ENGINE=native's prefix cache off (NATIVE_PREFIX_CACHE=false).
 *
 * --rates 20,40 --seconds 20: after the batches, sustained load instead of bursts: messages arrive at
 * each rate (per second, exponential gaps, as independent users do) for that long; one JSON line per rate
 * with answers/s, tok/s and TTFT / answer-time percentiles, each measured from the message's own submit.
 */
const { values } = parseArgs({
  options: {
    model: { type: "string" },
    batches: { type: "string", default: "1,8,16,32,64" },
    tokens: { type: "string", default: "128" },
    gpu: { type: "string", default: "auto" },
    threads: { type: "string", default: "4" },
    context: { type: "string", default: "1024" },
    temperature: { type: "string", default: "0.2" },
    engine: { type: "string", default: "llama" },
    "engine-bin": { type: "string" },
    "batch-size": { type: "string" },
    "kv-unified": { type: "boolean", default: false },
    questions: { type: "string", default: "same" },
    "prefix-cache": { type: "string", default: "1" },
    rates: { type: "string", default: "" },
    seconds: { type: "string", default: "20" },
    sequences: { type: "string" },
    label: { type: "string" },
  },
});
if (!values.model) throw new Error("--model is required");
// Empty: no bursts (with --rates, sustained load alone).
const batches = values.batches ? values.batches.split(",").map(Number) : [];
const maxTokens = Number(values.tokens);
if (values.questions !== "same" && values.questions !== "varied")
  throw new Error("--questions is same or varied");
const prefixCache = values["prefix-cache"] !== "0";
const sampleQuestions = readFileSync("test/integration/knowledge/sample-questions.jsonl", "utf8")
  .split("\n")
  .filter((l) => l.trim())
  .map((l) => (JSON.parse(l) as { question: string }).question);
const question = (round: number, i: number) =>
  values.questions === "same"
    ? `Question ${i}: how do I reset my password?`
    : // A different question in each position and round, as far as 42 questions go.
      (sampleQuestions[(i + round * 11) % sampleQuestions.length] as string);

const harness = await startHarness({
  adapters: () => [],
  env: {
    MODEL_PATH: values.model,
    LLM_GPU: values.gpu,
    LLM_THREADS: values.threads,
    LLM_SEQUENCES: values.sequences ?? String(Math.max(...batches)),
    LLM_CONTEXT_SIZE: values.context,
    MAX_ANSWER_TOKENS: String(maxTokens),
    LLM_IGNORE_EOS: "true",
    LLM_TEMPERATURE: values.temperature,
    RETRIEVAL_TOKEN_BUDGET: "64",
    QUEUE_MAX_DEPTH: "100000",
    RATE_LIMIT_TENANT_PER_MINUTE: "10000000",
    ANSWER_TIMEOUT_MS: "600000",
    LOG_LEVEL: "warn",
    ENGINE: values.engine,
    ...(values["engine-bin"] ? { NATIVE_ENGINE_BIN: values["engine-bin"] } : {}),
    ...(values["batch-size"] ? { LLM_BATCH_SIZE: values["batch-size"] } : {}),
    NATIVE_KV_UNIFIED: String(values["kv-unified"]),
    NATIVE_PREFIX_CACHE: String(prefixCache),
  },
});

interface Outcome {
  firstChunkMs: number;
  endMs: number;
  tokens: number | undefined;
  kind: string;
}

/** One conversation's message, from submit to final answer; times are ms after `t0`. */
async function one(round: number, i: number, t0: number): Promise<Outcome> {
  const { messageId } = await harness.conversations.submit({
    channel: "webchat",
    tenant: "bench",
    conversationKey: `r${round}-c${i}`,
    userId: `u${i}`,
    text: question(round, i),
    platformMessageId: `r${round}-m${i}`,
    receivedAt: Date.now(),
    replyTo: {},
  });
  let firstChunkMs = Number.NaN;
  let final: FinalAnswer | undefined;
  let failure = "";
  const sink: ReplySink = {
    onChunk: async () => {
      if (Number.isNaN(firstChunkMs)) firstChunkMs = performance.now() - t0;
    },
    onFinal: async (answer) => {
      final = answer;
    },
    onError: async (error) => {
      failure = error.code;
    },
  };
  await harness.conversations.follow(messageId, sink);
  // The reply stream's final entry carries the generated token count next to the text.
  const tokens = (final as { tokens?: number } | undefined)?.tokens;
  return { firstChunkMs, endMs: performance.now() - t0, tokens, kind: final?.kind ?? failure };
}

let round = 0;
/** `concurrency` conversations ask at the same instant. */
async function ask(concurrency: number): Promise<Outcome[]> {
  round += 1;
  const started = performance.now();
  return Promise.all(Array.from({ length: concurrency }, (_, i) => one(round, i, started)));
}

/** Messages arrive at `rate` per second (exponential gaps, fixed seed) for `seconds`. */
async function sustain(rate: number, seconds: number) {
  round += 1;
  let x = 0x2545f491 + round;
  const uniform = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return ((x >>> 0) + 0.5) / 4294967296;
  };
  const started = performance.now();
  const runs: Promise<Outcome>[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  for (let at = 0, i = 0; at < seconds * 1000; at += (-Math.log(uniform()) / rate) * 1000, i++) {
    const wait = started + at - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    runs.push(
      one(round, i, performance.now()).finally(() => {
        inFlight -= 1;
      }),
    );
  }
  const outcomes = await Promise.all(runs);
  return { outcomes, wallMs: performance.now() - started, maxInFlight };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const percentile = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))] ?? Number.NaN;
const path =
  values.engine === "native"
    ? `job-native${values["kv-unified"] ? "-kvu" : ""}${prefixCache ? "" : "-nocache"}${values["batch-size"] ? `-b${values["batch-size"]}` : ""}-${values.questions}`
    : `job-${values.questions}`;

try {
  await ask(2); // warm-up
  for (const b of batches) {
    const outcomes = await ask(b);
    const wallMs = Math.max(...outcomes.map((o) => o.endMs));
    const counted = outcomes.every((o) => typeof o.tokens === "number");
    const tokens = outcomes.reduce((sum, o) => sum + (o.tokens ?? maxTokens), 0);
    const lastFirst = Math.max(...outcomes.map((o) => o.firstChunkMs));
    console.log(
      JSON.stringify({
        path,
        ...(values.label ? { label: values.label } : {}),
        batch: b,
        tokens,
        tokensCounted: counted,
        answers: outcomes.filter((o) => o.kind === "answer").length,
        wallMs: Math.round(wallMs),
        tokPerS: Math.round((tokens / wallMs) * 1000),
        decodeTokPerS: Math.round(((tokens - b) / (wallMs - lastFirst)) * 1000),
        ttftMedianMs: Math.round(median(outcomes.map((o) => o.firstChunkMs))),
        ttftMaxMs: Math.round(lastFirst),
      }),
    );
  }
  for (const rate of values.rates ? values.rates.split(",").map(Number) : []) {
    const { outcomes, wallMs, maxInFlight } = await sustain(rate, Number(values.seconds));
    const tokens = outcomes.reduce((sum, o) => sum + (o.tokens ?? maxTokens), 0);
    const ttft = outcomes.map((o) => o.firstChunkMs);
    const answer = outcomes.map((o) => o.endMs);
    console.log(
      JSON.stringify({
        path,
        rate,
        seconds: Number(values.seconds),
        sequences: Number(values.sequences ?? Math.max(...batches)),
        messages: outcomes.length,
        answers: outcomes.filter((o) => o.kind === "answer").length,
        answersPerS: Math.round((outcomes.length / wallMs) * 10000) / 10,
        tokPerS: Math.round((tokens / wallMs) * 1000),
        maxInFlight,
        ttftP50Ms: Math.round(percentile(ttft, 50)),
        ttftP95Ms: Math.round(percentile(ttft, 95)),
        ttftP99Ms: Math.round(percentile(ttft, 99)),
        answerP50Ms: Math.round(percentile(answer, 50)),
        answerP99Ms: Math.round(percentile(answer, 99)),
      }),
    );
  }
} finally {
  await harness.stop();
}
