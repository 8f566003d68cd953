import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ErrorCode, isCodedError } from "../../src/errors.ts";
import type {
  Engine,
  GenerateOptions,
  GenerateRequest,
  GenerateResult,
  JsonSchema,
} from "../../src/inference/engine.ts";

/**
 * What every Engine promises (src/inference/engine.ts), run against each implementation: node-llama-cpp
 * and the native engine with the tiny random model, and the FakeEngine. The model is noise, so the suite
 * asserts on structure (streams, stop reasons, counts, JSON shape), never on wording.
 */

export interface EngineContractSettings {
  /** Generations at once. */
  capacity: number;
  /** Tokens per sequence, prompt and answer together. */
  contextSize: number;
}

/**
 * Makes an engine for the suite: with these settings, and never ending an answer before maxTokens
 * unless a grammar or a stop string ends it (LLM_IGNORE_EOS), so that counts are exact.
 */
export type EngineFactory = (settings: EngineContractSettings) => Promise<Engine>;

const SETTINGS: EngineContractSettings = { capacity: 3, contextSize: 512 };

const chat = (overrides: Partial<GenerateRequest> = {}): GenerateRequest =>
  ({
    system: "Be brief.",
    history: [{ user: "hi", assistant: "hello" }],
    prompt: "How do I reset my password?",
    maxTokens: 12,
    temperature: 0.8,
    seed: 1,
    ...overrides,
  }) as GenerateRequest;

/** Runs a generation and records its chunks. */
async function run(
  engine: Engine,
  request: GenerateRequest,
  onChunk?: (chunk: string, controller: AbortController) => void,
  controller = new AbortController(),
): Promise<{ result: GenerateResult; streamed: string; chunks: number }> {
  let streamed = "";
  let chunks = 0;
  const options: GenerateOptions = {
    signal: controller.signal,
    onText: (chunk) => {
      streamed += chunk;
      chunks += 1;
      onChunk?.(chunk, controller);
    },
  };
  const result = await engine.generate(request, options);
  return { result, streamed, chunks };
}

/** A decision's shape: an enum and a patterned string, both required, nothing else. */
const decision: JsonSchema = {
  type: "object",
  properties: {
    intent: { enum: ["order_status", "refund", "handoff"] },
    order_id: { type: "string", pattern: "^[A-Z]{2}-[0-9]{4}$" },
  },
  required: ["intent", "order_id"],
  additionalProperties: false,
};

/** Registers the contract's tests for one implementation. */
export function engineContract(
  name: string,
  factory: EngineFactory,
  { skip = false as string | false } = {},
) {
  describe(`Engine contract: ${name}`, { skip }, () => {
    let engine: Engine;
    before(async () => {
      engine = await factory(SETTINGS);
    });
    after(async () => {
      await engine?.close();
    });

    it("streams chunks that concatenate to the final text, counting maxTokens tokens and the prompt's", async () => {
      const request = chat({ maxTokens: 10 });
      const { result, streamed, chunks } = await run(engine, request);
      assert.ok(chunks > 0);
      assert.equal(streamed, result.text);
      assert.equal(result.stopReason, "max_tokens");
      assert.equal(result.tokens, 10);
      assert.equal(result.promptTokens, (await engine.countTokens(request)).tokens);
    });

    it("returns the partial text with reason aborted, and an empty one when aborted before starting", async () => {
      const { result, streamed } = await run(engine, chat({ maxTokens: 400 }), (_, controller) => {
        controller.abort();
      });
      assert.equal(result.stopReason, "aborted");
      assert.ok(result.tokens >= 1 && result.tokens < 400, `tokens: ${result.tokens}`);
      assert.equal(result.text, streamed);
      const early = new AbortController();
      early.abort();
      const none = await run(engine, chat(), undefined, early);
      assert.equal(none.result.stopReason, "aborted");
      assert.equal(none.result.text, "");
      assert.equal(none.result.tokens, 0);
    });

    it("gives the same output for the same seed, and another for another seed", async () => {
      const first = await run(engine, chat({ seed: 42, maxTokens: 16 }));
      const again = await run(engine, chat({ seed: 42, maxTokens: 16 }));
      const other = await run(engine, chat({ seed: 43, maxTokens: 16 }));
      assert.equal(again.result.text, first.result.text);
      assert.notEqual(other.result.text, first.result.text);
    });

    it("ends before a stop string, with reason stop, and streams only what comes before it", async () => {
      const request = chat({ seed: 7, maxTokens: 24 });
      const { result: free } = await run(engine, request);
      // A printable character from the middle of the free-running answer: the same seed meets it again.
      const stop = [...free.text.slice(3)].find((c) => c > " " && c < "\x7F");
      assert.ok(stop, `a printable character in ${JSON.stringify(free.text)}`);
      const { result, streamed } = await run(engine, { ...request, stop: [stop, "never-generated-stop"] });
      assert.equal(result.stopReason, "stop");
      assert.equal(result.text, free.text.slice(0, free.text.indexOf(stop)));
      assert.equal(streamed, result.text);
      assert.ok(result.tokens < 24);
    });

    it("takes message lists in any order and raw prompts without a template", async () => {
      const messages = await run(engine, {
        messages: [
          { role: "assistant", content: "Hello! How can I help?" },
          { role: "user", content: "My order is late." },
          { role: "system", content: "Answer politely." },
          { role: "user", content: "Where is it?" },
        ],
        maxTokens: 6,
        temperature: 0,
      });
      assert.equal(messages.result.tokens, 6);
      assert.equal(messages.streamed, messages.result.text);
      const raw = { rawPrompt: "Once upon a time", maxTokens: 6, temperature: 0 };
      const completion = await run(engine, raw);
      assert.equal(completion.result.tokens, 6);
      const counted = await engine.countTokens(raw);
      assert.equal(completion.result.promptTokens, counted.tokens);
      assert.ok(counted.controlTokens <= 1, "no template around a raw prompt (at most BOS)");
    });

    it("refuses a prompt that does not fit a sequence with context_overflow, and keeps serving", async () => {
      const long = chat({ prompt: "word ".repeat(SETTINGS.contextSize * 2) });
      await assert.rejects(
        engine.generate(long, { signal: new AbortController().signal, onText: () => undefined }),
        (error: unknown) => isCodedError(error) && error.code === ErrorCode.ContextOverflow,
      );
      const next = await run(engine, chat({ maxTokens: 4 }));
      assert.equal(next.result.tokens, 4);
    });

    it("runs more requests than it has sequences: all complete, never more than capacity at once", async () => {
      // Each generation streams from its first chunk to its last, numbered in the order all chunks came;
      // no chunk may fall inside more than `capacity` of these spans.
      let counter = 0;
      const spans: { first: number; last: number }[] = [];
      const runs = Array.from({ length: engine.capacity * 2 + 1 }, (_, i) => {
        const span = { first: -1, last: -1 };
        spans[i] = span;
        return run(engine, chat({ seed: i, maxTokens: 8 }), () => {
          counter += 1;
          if (span.first < 0) span.first = counter;
          span.last = counter;
        });
      });
      const results = await Promise.all(runs);
      for (const { result, streamed } of results) {
        assert.equal(result.tokens, 8);
        assert.equal(streamed, result.text);
      }
      let most = 0;
      for (let at = 1; at <= counter; at++) {
        most = Math.max(most, spans.filter((s) => s.first <= at && at <= s.last).length);
      }
      assert.ok(most <= engine.capacity, `${most} generations streamed at once; capacity ${engine.capacity}`);
      assert.ok(most >= 2, "generations ran together");
    });

    it("generates under a JSON Schema: every answer parses and fits it", async () => {
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, seed) =>
          run(engine, {
            messages: [{ role: "user", content: "Where is my order?" }],
            maxTokens: 400,
            temperature: 1,
            seed,
            jsonSchema: decision,
          }),
        ),
      );
      for (const { result, streamed } of results) {
        assert.equal(result.stopReason, "eos", "the grammar ended the answer");
        assert.equal(streamed, result.text);
        const value = JSON.parse(result.text) as Record<string, unknown>;
        assert.deepEqual(Object.keys(value).sort(), ["intent", "order_id"]);
        assert.ok(["order_status", "refund", "handoff"].includes(value.intent as string));
        assert.match(String(value.order_id), /^[A-Z]{2}-[0-9]{4}$/);
      }
    });
  });

  describe(`Engine contract: ${name}, closing`, { skip }, () => {
    it("lets close() settle every pending generation cleanly and refuses work afterwards", async () => {
      const engine = await factory(SETTINGS);
      const pending = Array.from({ length: engine.capacity + 2 }, (_, i) =>
        engine.generate(chat({ seed: i, maxTokens: 64 }), {
          signal: new AbortController().signal,
          onText: () => undefined,
        }),
      );
      const outcomes = Promise.allSettled(pending);
      await engine.close();
      const settled = await outcomes;
      for (const outcome of settled) {
        if (outcome.status === "fulfilled") {
          assert.ok(["max_tokens", "aborted"].includes(outcome.value.stopReason));
        } else {
          assert.ok(isCodedError(outcome.reason), `a coded error, got ${outcome.reason}`);
          assert.equal(outcome.reason.code, ErrorCode.ModelUnavailable);
        }
      }
      await assert.rejects(
        engine.generate(chat(), { signal: new AbortController().signal, onText: () => undefined }),
        (error: unknown) => isCodedError(error) && error.code === ErrorCode.ModelUnavailable,
      );
    });
  });
}
