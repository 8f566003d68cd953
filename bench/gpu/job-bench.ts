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
  },
});
if (!values.model) throw new Error("--model is required");
const batches = values.batches.split(",").map(Number);
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
  adapters: [],
  env: {
    MODEL_PATH: values.model,
    LLM_GPU: values.gpu,
    LLM_THREADS: values.threads,
    LLM_SEQUENCES: String(Math.max(...batches)),
    LLM_CONTEXT_SIZE: values.context,
    MAX_ANSWER_TOKENS: String(maxTokens),
    LLM_IGNORE_EOS: "true",
    LLM_TEMPERATURE: values.temperature,
    RETRIEVAL_TOKEN_BUDGET: "64",
    QUEUE_MAX_DEPTH: "100000",
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

let round = 0;
async function ask(concurrency: number): Promise<Outcome[]> {
  round += 1;
  const started = performance.now();
  return Promise.all(
    Array.from({ length: concurrency }, async (_, i) => {
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
          if (Number.isNaN(firstChunkMs)) firstChunkMs = performance.now() - started;
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
      return { firstChunkMs, endMs: performance.now() - started, tokens, kind: final?.kind ?? failure };
    }),
  );
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

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
        path:
          values.engine === "native"
            ? `job-native${values["kv-unified"] ? "-kvu" : ""}${prefixCache ? "" : "-nocache"}${values["batch-size"] ? `-b${values["batch-size"]}` : ""}-${values.questions}`
            : `job-${values.questions}`,
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
} finally {
  await harness.stop();
}
