import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ErrorCode } from "../../../src/errors.ts";
import type { GenerateRequest } from "../../../src/inference/engine.ts";
import { LlamaEngine, type LlamaEngineOptions } from "../../../src/inference/llama-engine.ts";
import { createLogger } from "../../../src/logger.ts";
import { ensureTinyModel } from "../../../src/tiny-model/tiny-model.ts";

const logger = createLogger({ level: "silent" });
const SEQUENCES = 4;

function request(overrides: Partial<GenerateRequest> = {}): GenerateRequest {
  return { system: "Be brief.", history: [], prompt: "hi", maxTokens: 12, temperature: 0, ...overrides };
}

const quiet = () => ({ signal: new AbortController().signal, onText: () => {} });

for (const scheduler of ["lockstep", "session"] as const)
  describe(`LlamaEngine with the tiny model (${scheduler})`, () => {
    let modelPath: string;
    let engine: LlamaEngine;
    let options: LlamaEngineOptions;

    before(async () => {
      modelPath = await ensureTinyModel();
      options = {
        modelPath,
        gpu: false,
        threads: 1,
        contextSize: 512,
        sequences: SEQUENCES,
        ignoreEos: true,
        scheduler,
      };
      engine = await LlamaEngine.load(options, logger);
    });
    after(async () => {
      await engine.close();
    });

    it("reports one slot per sequence and describes the model and backend", () => {
      assert.equal(engine.capacity, SEQUENCES);
      assert.match(engine.description, /tiny\.gguf, 4 sequences, cpu/);
    });

    it("streams chunks that concatenate to the returned text, and counts maxTokens tokens", async () => {
      const chunks: string[] = [];
      const result = await engine.generate(request({ maxTokens: 10 }), {
        signal: new AbortController().signal,
        onText: (chunk) => chunks.push(chunk),
      });
      assert.ok(chunks.length > 0);
      assert.equal(chunks.join(""), result.text);
      assert.equal(result.stopReason, "max_tokens");
      assert.equal(result.tokens, 10);
    });

    it("runs as many generations at once as it has sequences, and queues the rest", async () => {
      const firstChunkAt: number[] = [];
      const finishedAt: number[] = [];
      const runs = Array.from({ length: SEQUENCES + 2 }, (_, i) => {
        let first = true;
        return engine
          .generate(request({ prompt: `question ${i}`, maxTokens: 16, seed: i }), {
            signal: new AbortController().signal,
            onText: () => {
              if (first) firstChunkAt[i] = performance.now();
              first = false;
            },
          })
          .then((result) => {
            finishedAt[i] = performance.now();
            return result;
          });
      });
      const before = { ...engine.batchStats };
      const results = await Promise.all(runs);
      const batches = engine.batchStats.batches - before.batches;
      const items = engine.batchStats.items - before.items;
      assert.ok(items / batches > 1.5, `decode steps carried several sequences (${items} in ${batches})`);
      for (const result of results) {
        assert.equal(result.stopReason, "max_tokens");
        assert.equal(result.tokens, 16);
      }
      const firstBatch = firstChunkAt.slice(0, SEQUENCES) as number[];
      const firstFinish = Math.min(...(finishedAt as number[]));
      assert.ok(
        Math.max(...firstBatch) < firstFinish,
        "every one of the first N generations streamed before any of them finished",
      );
      const queued = firstChunkAt.slice(SEQUENCES) as number[];
      assert.ok(Math.min(...queued) > firstFinish, "the extra generations waited for a free sequence");
    });

    // Only the lockstep scheduler promises full steps; the session scheduler has no such test.
    const lockstepOnly = scheduler === "lockstep" ? it : () => undefined;
    lockstepOnly("in lockstep, makes every decode step carry every running generation", async () => {
      const before = { ...engine.batchStats };
      await Promise.all(
        Array.from({ length: SEQUENCES }, (_, i) =>
          engine.generate(request({ maxTokens: 16, seed: i }), quiet()),
        ),
      );
      const batches = engine.batchStats.batches - before.batches;
      const items = engine.batchStats.items - before.items;
      const runs = engine.batchStats.runs - before.runs;
      // The first caller reaches the barrier alone and steps at once; the others join at its next step.
      assert.ok(batches <= 17, `one decode per generated token, plus one for a late arrival (${batches})`);
      assert.equal(items, SEQUENCES * 16);
      assert.equal(runs, batches, "each step is one run of consecutive sequence ids");
    });

    it("returns the partial text when aborted, and frees the sequence for the next caller", async () => {
      const controller = new AbortController();
      let streamed = "";
      const result = await engine.generate(request({ maxTokens: 200 }), {
        signal: controller.signal,
        onText: (chunk) => {
          streamed += chunk;
          if (streamed.length >= 3) controller.abort();
        },
      });
      assert.equal(result.stopReason, "aborted");
      assert.ok(result.tokens < 200);
      assert.ok(result.text.length > 0 && streamed.startsWith(result.text.slice(0, 1)));
      const again = await Promise.all(
        Array.from({ length: SEQUENCES }, () => engine.generate(request({ maxTokens: 4 }), quiet())),
      );
      assert.equal(again.filter((r) => r.tokens === 4).length, SEQUENCES, "all sequences are free again");
    });

    it("returns an empty aborted result when the signal aborts before a sequence is free", async () => {
      const controller = new AbortController();
      controller.abort();
      const result = await engine.generate(request(), { signal: controller.signal, onText: () => {} });
      assert.deepEqual(result, { text: "", stopReason: "aborted", tokens: 0 });
    });

    it("gives the same output for the same seed, also on a reused sequence after another conversation", async () => {
      const sampled = request({ temperature: 0.9, seed: 42, maxTokens: 16 });
      const first = await engine.generate(sampled, quiet());
      await engine.generate(
        request({ prompt: "something else", history: [{ user: "a", assistant: "b" }] }),
        quiet(),
      );
      const second = await engine.generate(sampled, quiet());
      const other = await engine.generate({ ...sampled, seed: 43 }, quiet());
      assert.equal(second.text, first.text);
      assert.notEqual(other.text, first.text);
    });

    it("feeds earlier turns to the model: the same prompt after a different history answers differently", async () => {
      // A noise model's greedy choice hardly depends on early tokens; sampling with one seed shows the shift.
      const sampled = { temperature: 1, seed: 5, maxTokens: 24 };
      const a = await engine.generate(
        request({ ...sampled, history: [{ user: "one", assistant: "two" }] }),
        quiet(),
      );
      const b = await engine.generate(
        request({ ...sampled, history: [{ user: "3", assistant: "4" }] }),
        quiet(),
      );
      assert.notEqual(a.text, b.text);
    });

    it("stops at end of generation unless told to ignore it", async () => {
      const natural = await LlamaEngine.load({ ...options, sequences: 1, ignoreEos: false }, logger);
      try {
        const result = await natural.generate(request({ maxTokens: 8 }), quiet());
        assert.ok(["eos", "max_tokens"].includes(result.stopReason));
        assert.ok(result.tokens <= 8);
        if (result.stopReason === "max_tokens") assert.equal(result.tokens, 8);
      } finally {
        await natural.close();
      }
    });
  });

describe("LlamaEngine.load errors", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "llama-engine-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const base = { gpu: false as const, threads: 1, contextSize: 256, sequences: 1 };

  it("says which file is missing", async () => {
    const path = join(dir, "absent.gguf");
    await assert.rejects(LlamaEngine.load({ ...base, modelPath: path }, logger), (error: Error) => {
      assert.equal((error as { code?: string }).code, ErrorCode.ModelLoadFailed);
      assert.match(error.message, new RegExp(`cannot load model ${path}: file not found`));
      return true;
    });
  });

  it("rejects a corrupt file with a clear model_load_failed error", async () => {
    const path = join(dir, "corrupt.gguf");
    await writeFile(path, Buffer.concat([Buffer.from("GGUF"), Buffer.alloc(64, 0xab)]));
    await assert.rejects(LlamaEngine.load({ ...base, modelPath: path }, logger), (error: Error) => {
      assert.equal((error as { code?: string }).code, ErrorCode.ModelLoadFailed);
      assert.match(error.message, new RegExp(`^cannot load model ${path}: .+`));
      return true;
    });
  });

  it("rejects a file that is not GGUF at all", async () => {
    const path = join(dir, "text.gguf");
    await writeFile(path, "this is not a model\n");
    await assert.rejects(
      LlamaEngine.load({ ...base, modelPath: path }, logger),
      (error: { code?: string }) => error.code === ErrorCode.ModelLoadFailed,
    );
  });
});
