import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { decodeEntry } from "../../../src/answering/reply-stream.ts";
import type { FinalAnswer, ReplySink } from "../../../src/conversation/conversations.ts";
import { GatewayError } from "../../../src/errors.ts";
import { NativeBatchEngine } from "../../../src/inference/native-batch-engine.ts";
import { createLogger } from "../../../src/logger.ts";
import { Keyspace } from "../../../src/redis/keyspace.ts";
import { ensureTinyModel } from "../../../src/tiny-model/tiny-model.ts";
import { type Harness, startHarness } from "../../helpers/harness.ts";

const binary = process.env.NATIVE_ENGINE_BIN ?? resolve(".cache/native/batch-engine");
const skip = existsSync(binary)
  ? false
  : `no batch-engine at ${binary}: build it with \`bash src/inference/native/build.sh\` (or set NATIVE_ENGINE_BIN)`;
const logger = createLogger({ level: "silent" });

describe("native engine: start-up errors", () => {
  it("refuses a missing executable with model_load_failed and says how to build it", async () => {
    await assert.rejects(
      NativeBatchEngine.load(
        {
          binPath: "/nonexistent/batch-engine",
          modelPath: await ensureTinyModel(),
          gpu: false,
          threads: 1,
          contextSize: 256,
          sequences: 2,
        },
        logger,
      ),
      (error: unknown) =>
        error instanceof GatewayError &&
        error.code === "model_load_failed" &&
        /build\.sh/.test(error.message),
    );
  });

  it("refuses a missing model with model_load_failed", { skip }, async () => {
    await assert.rejects(
      NativeBatchEngine.load(
        {
          binPath: binary,
          modelPath: "/nonexistent/m.gguf",
          gpu: false,
          threads: 1,
          contextSize: 256,
          sequences: 2,
        },
        logger,
      ),
      (error: unknown) => error instanceof GatewayError && error.code === "model_load_failed",
    );
  });
});

describe("native engine: generations batched in one process", { skip }, () => {
  let engine: NativeBatchEngine;
  before(async () => {
    engine = await NativeBatchEngine.load(
      {
        binPath: binary,
        modelPath: await ensureTinyModel(),
        gpu: false,
        threads: 1,
        contextSize: 512,
        sequences: 3,
      },
      logger,
    );
  });
  after(async () => {
    await engine.close();
  });

  const request = (seed: number, maxTokens = 16) => ({
    system: "Be brief.",
    history: [{ user: "hi", assistant: "hello" }],
    prompt: "How do I reset my password?",
    maxTokens,
    temperature: 0.8,
    seed,
  });
  const run = async (seed: number, maxTokens?: number) => {
    const chunks: string[] = [];
    const result = await engine.generate(request(seed, maxTokens), {
      signal: new AbortController().signal,
      onText: (c) => chunks.push(c),
    });
    return { result, streamed: chunks.join("") };
  };

  it("streams the answer's text and reports the tokens; the same seed gives the same text while others run", async () => {
    // Five at once on three sequences: two wait inside the process for a free sequence.
    const runs = await Promise.all([7, 8, 7, 9, 10].map((seed) => run(seed)));
    for (const { result, streamed } of runs) {
      assert.equal(result.text, streamed);
      assert.ok(result.tokens >= 1 && result.tokens <= 16);
      if (result.stopReason === "max_tokens") assert.equal(result.tokens, 16);
      else assert.equal(result.stopReason, "eos");
    }
    assert.equal(runs[0]?.result.text, runs[2]?.result.text);
  });

  it("stops a generation when its signal aborts and keeps serving others", async () => {
    const controller = new AbortController();
    let pieces = 0;
    const long = engine.generate(
      { ...request(3, 100_000), prompt: "Tell me everything" },
      {
        signal: controller.signal,
        onText: () => {
          pieces += 1;
          if (pieces === 3) controller.abort();
        },
      },
    );
    const result = await long;
    assert.equal(result.stopReason, "aborted");
    assert.ok(result.tokens < 400);
    const next = await run(11, 8);
    assert.ok(next.result.tokens >= 1);
  });
});

for (const kvUnified of [false, true])
  describe(`native engine: prefix cache, ${kvUnified ? "one KV buffer" : "a KV stream per sequence"}`, {
    skip,
  }, () => {
    // Two processes on the same model: one keeps finished sequences' cells (the default), one does not.
    // With a stream per sequence a copied prefix is a copy of the stream; with one buffer, shared cells.
    let cached: NativeBatchEngine;
    let cold: NativeBatchEngine;
    before(async () => {
      const options = {
        binPath: binary,
        modelPath: await ensureTinyModel(),
        gpu: false as const,
        threads: 1,
        contextSize: 512,
        sequences: 3,
        kvUnified,
      };
      [cached, cold] = await Promise.all([
        NativeBatchEngine.load(options, logger),
        NativeBatchEngine.load({ ...options, prefixCache: false }, logger),
      ]);
    });
    after(async () => {
      await Promise.all([cached.close(), cold.close()]);
    });

    const rules = "You are a support assistant. Answer only from the sources below. ".repeat(3);
    const ask = (engine: NativeBatchEngine, question: string, seed = 5) =>
      engine.generate(
        { system: rules, history: [], prompt: question, maxTokens: 12, temperature: 0.8, seed },
        { signal: new AbortController().signal, onText: () => undefined },
      );

    it("decodes only what a finished sequence does not already hold, with the text a cold start gives", async () => {
      const reference = await ask(cold, "How do I reset my password?");
      assert.equal(reference.cachedPromptTokens, 0);
      const first = await ask(cached, "How do I reset my password?");
      const again = await ask(cached, "How do I reset my password?");
      assert.equal(first.text, reference.text);
      assert.equal(again.text, reference.text);
      // All but the last prompt token (whose logits give the first answer token) come from the cache.
      assert.ok(again.promptTokens && again.promptTokens > 100);
      assert.equal(again.cachedPromptTokens, (again.promptTokens ?? 0) - 1);
      // Another question shares the rules: only its own tail is decoded.
      const other = await ask(cached, "Where is my invoice?", 9);
      const otherCold = await ask(cold, "Where is my invoice?", 9);
      assert.equal(other.text, otherCold.text);
      assert.ok((other.cachedPromptTokens ?? 0) > rules.length / 2);
      assert.ok((other.cachedPromptTokens ?? 0) < (other.promptTokens ?? 0) - 5);
    });

    it("copies a prefix into free sequences when several ask at once, without changing any answer", async () => {
      const question = "Can I change the email address on my account?";
      const reference = await ask(cold, question, 13);
      await ask(cached, question, 13); // one sequence now holds the whole prompt
      // Three at once on three sequences: one reuses its own cells, the other two receive a copy.
      const runs = await Promise.all([13, 13, 13].map((seed) => ask(cached, question, seed)));
      for (const r of runs) {
        assert.equal(r.text, reference.text);
        assert.equal(r.cachedPromptTokens, (r.promptTokens ?? 0) - 1);
      }
    });
  });

describe("native engine on the real job path (BullMQ job in, Redis reply stream out)", { skip }, () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({
      env: {
        ENGINE: "native",
        NATIVE_ENGINE_BIN: binary,
        LLM_SEQUENCES: "4",
        LLM_IGNORE_EOS: "true",
        MAX_ANSWER_TOKENS: "20",
      },
    });
  });
  after(async () => {
    await h.stop();
  });

  it("answers six concurrent conversations, each with exactly the configured token count", async () => {
    assert.match(h.worker?.status.engine ?? "", /^native: /);
    const outcomes = await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        const { messageId } = await h.conversations.submit({
          channel: "webchat",
          tenant: "t",
          conversationKey: `native-${i}`,
          userId: `u${i}`,
          text: `Question ${i}: how do I reset my password?`,
          platformMessageId: `native-m${i}`,
          receivedAt: Date.now(),
          replyTo: {},
        });
        const chunks: string[] = [];
        let final: FinalAnswer | undefined;
        let failure = "";
        const sink: ReplySink = {
          onChunk: async (chunk) => {
            chunks.push(chunk);
          },
          onFinal: async (answer) => {
            final = answer;
          },
          onError: async (error) => {
            failure = error.code;
          },
        };
        await h.conversations.follow(messageId, sink);
        // The worker's final entry in the reply stream carries the generated token count.
        const entries = await h.redis.xrange(new Keyspace(h.config.redis.prefix).reply(messageId), "-", "+");
        const last = entries.map(([, fields]) => decodeEntry(fields)).find((e) => e?.t === "final");
        return { chunks, final, failure, tokens: last?.t === "final" ? last.d.tokens : undefined };
      }),
    );
    for (const o of outcomes) {
      assert.equal(o.failure, "");
      assert.equal(o.final?.kind, "answer");
      assert.ok(o.chunks.length >= 1);
      assert.equal(o.tokens, 20);
      assert.equal(o.chunks.join("").trim(), o.final?.text);
    }
  });
});
