import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Engine, GenerateRequest, JsonSchema } from "../../../src/inference/engine.ts";
import { LlamaEngine } from "../../../src/inference/llama-engine.ts";
import { NativeBatchEngine } from "../../../src/inference/native-batch-engine.ts";
import { createLogger } from "../../../src/logger.ts";
import { ensureTinyModel } from "../../../src/tiny-model/tiny-model.ts";

const binary = process.env.NATIVE_ENGINE_BIN ?? resolve(".cache/native/batch-engine");
const noBinary = existsSync(binary)
  ? false
  : `no batch-engine at ${binary}: build it with \`bash src/inference/native/build.sh\` (or set NATIVE_ENGINE_BIN)`;
const logger = createLogger({ level: "silent" });
const SEQUENCES = 4;
const GENERATIONS = 200;

/** A support decision's shape: an enum, a patterned string, both required, nothing else. */
const schema: JsonSchema = {
  type: "object",
  properties: {
    intent: { enum: ["order_status", "refund", "handoff"] },
    order_id: { type: "string", pattern: "^[A-Z]{2}-[0-9]{4}$" },
  },
  required: ["intent", "order_id"],
  additionalProperties: false,
};

/** Checks a value against `schema` by hand (the test must not trust the code under test to validate). */
function fits(value: unknown): string | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return "not an object";
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object).sort();
  if (keys.join(",") !== "intent,order_id") return `keys ${keys.join(",")}`;
  if (!["order_status", "refund", "handoff"].includes(object.intent as string))
    return `intent ${object.intent}`;
  if (typeof object.order_id !== "string" || !/^[A-Z]{2}-[0-9]{4}$/.test(object.order_id))
    return `order_id ${JSON.stringify(object.order_id)}`;
  return undefined;
}

const engines: { name: string; skip: string | false; load: (modelPath: string) => Promise<Engine> }[] = [
  {
    name: "node-llama-cpp",
    skip: false,
    load: (modelPath) =>
      LlamaEngine.load(
        { modelPath, gpu: false, threads: 1, contextSize: 1024, sequences: SEQUENCES, ignoreEos: true },
        logger,
      ),
  },
  {
    name: "native",
    skip: noBinary,
    load: (modelPath) =>
      NativeBatchEngine.load(
        {
          binPath: binary,
          modelPath,
          gpu: false,
          threads: 1,
          contextSize: 1024,
          sequences: SEQUENCES,
          ignoreEos: true,
        },
        logger,
      ),
  },
];

for (const { name, skip, load } of engines)
  describe(`JSON Schema output (${name})`, { skip }, () => {
    let engine: Engine;
    before(async () => {
      engine = await load(await ensureTinyModel());
    });
    after(async () => {
      await engine?.close();
    });

    it(`${GENERATIONS} generations of a random model under a schema all parse and fit it`, async () => {
      const request = (seed: number): GenerateRequest => ({
        messages: [
          { role: "system", content: "Decide." },
          { role: "user", content: `Where is order ${seed}?` },
        ],
        maxTokens: 400,
        temperature: 1,
        seed,
        jsonSchema: schema,
      });
      const failures: string[] = [];
      const intents = new Set<string>();
      // In waves of the sequence count, so that each wave's steps are batched together.
      for (let wave = 0; wave < GENERATIONS; wave += SEQUENCES) {
        const results = await Promise.all(
          Array.from({ length: SEQUENCES }, async (_, i) => {
            let streamed = "";
            const result = await engine.generate(request(wave + i), {
              signal: new AbortController().signal,
              onText: (chunk) => {
                streamed += chunk;
              },
            });
            return { result, streamed };
          }),
        );
        for (const { result, streamed } of results) {
          assert.equal(streamed, result.text, "the streamed chunks are the answer");
          assert.equal(result.stopReason, "eos", "the grammar, not the budget, ended the answer");
          let value: unknown;
          try {
            value = JSON.parse(result.text);
          } catch {
            failures.push(`unparsable: ${JSON.stringify(result.text)}`);
            continue;
          }
          const why = fits(value);
          if (why) failures.push(`${why}: ${result.text}`);
          else intents.add((value as { intent: string }).intent);
        }
      }
      assert.deepEqual(failures, []);
      assert.ok(intents.size > 1, "the noise model still chose among the enum's values");
    });
  });
