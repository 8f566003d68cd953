import { parseArgs } from "node:util";
import type { GenerateResult } from "../../src/inference/engine.ts";
import { LlamaEngine } from "../../src/inference/llama-engine.ts";
import { createLogger } from "../../src/logger.ts";

/**
 * Engine-direct throughput: B concurrent generations of a fixed length through LlamaEngine (the same
 * object the inference worker calls), for each B. Prints one JSON line per batch size, so that
 * bench/gpu/report.ts can put it beside llama-batched-bench's figures.
 *
 *   tsx bench/gpu/engine-bench.ts --model m.gguf --batches 1,8,32 --tokens 128 --gpu cuda
 */
const { values } = parseArgs({
  options: {
    model: { type: "string" },
    batches: { type: "string", default: "1,8,16,32,64" },
    tokens: { type: "string", default: "128" },
    gpu: { type: "string", default: "auto" },
    threads: { type: "string", default: "4" },
    context: { type: "string", default: "512" },
    order: { type: "string", default: "sequence" },
    gather: { type: "string", default: "0" },
    scheduler: { type: "string", default: "lockstep" },
    temperature: { type: "string", default: "0.2" },
    label: { type: "string", default: "engine" },
  },
});
if (!values.model) throw new Error("--model is required");
const batches = values.batches.split(",").map(Number);
const maxTokens = Number(values.tokens);
const gpu = values.gpu === "false" ? false : (values.gpu as "auto" | "cuda");
const order = values.order === "arrival" ? "arrival" : "sequence";

const engine = await LlamaEngine.load(
  {
    modelPath: values.model,
    gpu,
    threads: Number(values.threads),
    contextSize: Number(values.context),
    sequences: Math.max(...batches),
    ignoreEos: true,
    batchOrder: order,
    batchGatherMs: Number(values.gather),
    scheduler: values.scheduler === "session" ? "session" : "lockstep",
  },
  createLogger({ level: "warn" }),
);

/**
 * Times the native decode calls: node-llama-cpp's native context object is wrapped in a Proxy (its
 * methods are read-only), so each step splits into time inside llama_decode (GPU) and the gap until the
 * next decode starts (sampling, JavaScript, scheduling).
 */
const steps = { decodes: 0, decodeMs: 0, gapMs: 0, lastEnd: Number.NaN };
{
  // Internal fields: LlamaEngine.context (TypeScript-private) and node-llama-cpp's LlamaContext._ctx.
  const context = (engine as unknown as { context: { _ctx: Record<string, unknown> } }).context;
  const native = context._ctx;
  context._ctx = new Proxy(native, {
    get(target, property) {
      const value = target[property as string];
      if (property === "decodeBatch" && typeof value === "function") {
        return async (...args: unknown[]) => {
          const started = performance.now();
          if (!Number.isNaN(steps.lastEnd)) steps.gapMs += started - steps.lastEnd;
          await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          steps.lastEnd = performance.now();
          steps.decodes += 1;
          steps.decodeMs += steps.lastEnd - started;
        };
      }
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

interface Run {
  result: GenerateResult;
  firstTextMs: number;
  endMs: number;
}

async function round(concurrency: number): Promise<Run[]> {
  const started = performance.now();
  return Promise.all(
    Array.from({ length: concurrency }, async (_, i) => {
      let firstTextMs = Number.NaN;
      const result = await engine.generate(
        {
          system: "Answer from the sources.",
          history: [],
          prompt: `Question number ${i}: where is my order?`,
          maxTokens,
          temperature: Number(values.temperature),
          seed: i,
        },
        {
          signal: new AbortController().signal,
          onText: () => {
            if (Number.isNaN(firstTextMs)) firstTextMs = performance.now() - started;
          },
        },
      );
      return { result, firstTextMs, endMs: performance.now() - started };
    }),
  );
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};

await round(Math.min(2, Math.max(...batches))); // warm-up: CUDA kernels, graph allocation
for (const b of batches) {
  const before = { ...engine.batchStats };
  Object.assign(steps, { decodes: 0, decodeMs: 0, gapMs: 0, lastEnd: Number.NaN });
  const runs = await round(b);
  const after = engine.batchStats;
  const wallMs = Math.max(...runs.map((r) => r.endMs));
  const tokens = runs.reduce((sum, r) => sum + r.result.tokens, 0);
  const lastFirst = Math.max(...runs.map((r) => r.firstTextMs));
  const decodeTokens = tokens - b;
  const decodes = after.batches - before.batches;
  console.log(
    JSON.stringify({
      path: values.label,
      order,
      gatherMs: Number(values.gather),
      scheduler: values.scheduler,
      batch: b,
      tokens,
      wallMs: Math.round(wallMs),
      tokPerS: Math.round((tokens / wallMs) * 1000),
      decodeTokPerS: Math.round((decodeTokens / (wallMs - lastFirst)) * 1000),
      ttftMedianMs: Math.round(median(runs.map((r) => r.firstTextMs))),
      ttftMaxMs: Math.round(lastFirst),
      decodes,
      msPerDecode: decodes ? +(wallMs / decodes).toFixed(2) : null,
      nativeDecodeMsPerStep: steps.decodes ? +(steps.decodeMs / steps.decodes).toFixed(2) : null,
      gapMsPerStep: steps.decodes > 1 ? +(steps.gapMs / (steps.decodes - 1)).toFixed(2) : null,
      promptTokensPerRequest: Math.round((after.tokens - before.tokens - (tokens - b)) / b),
      sequencesPerDecode: decodes ? +((after.items - before.items) / decodes).toFixed(1) : null,
      microBatchRunsPerDecode: decodes ? +((after.runs - before.runs) / decodes).toFixed(2) : null,
    }),
  );
}
await engine.close();
