import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gguf } from "@huggingface/gguf";
import { getLlama, type Llama, LlamaChatSession, resolveChatWrapper } from "node-llama-cpp";
import { tensorBytes } from "../../../src/tiny-model/gguf-writer.ts";
import {
  ensureTinyModel,
  LLAMA_1B_SHAPE,
  SPECIAL_TOKENS,
  TINY_SHAPE,
  writeTinyModel,
} from "../../../src/tiny-model/tiny-model.ts";

describe("tiny model generator", () => {
  let dir: string;
  let llama: Llama;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "tiny-model-"));
    llama = await getLlama({ build: "never", gpu: false, maxThreads: 1 });
  });
  after(async () => {
    await llama.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it("writes a GGUF whose header, vocabulary and tensors parse with @huggingface/gguf", async () => {
    const path = join(dir, "f32.gguf");
    await writeTinyModel(path);
    const parsed = await gguf(path, { allowLocalFile: true });
    const metadata = parsed.metadata as Record<string, unknown>;
    const { tensorInfos } = parsed;
    assert.equal(metadata["general.architecture"], "llama");
    assert.equal(metadata["llama.embedding_length"], TINY_SHAPE.embedding);
    assert.equal(metadata["llama.block_count"], TINY_SHAPE.layers);
    const tokens = metadata["tokenizer.ggml.tokens"] as string[];
    const types = metadata["tokenizer.ggml.token_type"] as number[];
    assert.equal(tokens.length, TINY_SHAPE.vocab);
    assert.equal(tokens[SPECIAL_TOKENS.imEnd], "<|im_end|>");
    assert.equal(types[SPECIAL_TOKENS.imStart], 3, "<|im_start|> is a control token");
    const byteTokens = tokens.filter((t, i) => /^<0x[0-9A-F]{2}>$/.test(t) && types[i] === 6);
    assert.equal(byteTokens.length, 256);
    assert.match(String(metadata["tokenizer.chat_template"]), /<\|im_start\|>/);
    assert.equal(tensorInfos.length, 3 + 9 * TINY_SHAPE.layers);
    const q = tensorInfos.find((t) => t.name === "blk.1.attn_k.weight");
    assert.deepEqual(q?.shape.map(Number), [64, 32], "k projection is embedding x kv width");
  });

  it("writes the same bytes for the same seed and different bytes for another seed", async () => {
    await writeTinyModel(join(dir, "a.gguf"), { seed: 7 });
    await writeTinyModel(join(dir, "b.gguf"), { seed: 7 });
    await writeTinyModel(join(dir, "c.gguf"), { seed: 8 });
    const [a, b, c] = await Promise.all(["a", "b", "c"].map((n) => readFile(join(dir, `${n}.gguf`))));
    assert.ok(a?.equals(b as Buffer));
    assert.ok(!a?.equals(c as Buffer));
  });

  it("sizes Q8_0 tensors as 34-byte blocks of 32 weights, so the 1B shape is about 1.17 GB", () => {
    assert.equal(tensorBytes([64, 2], "q8_0"), 4 * 34);
    assert.throws(() => tensorBytes([48, 2], "q8_0"), /multiple of 32/);
    const s = LLAMA_1B_SHAPE;
    const kv = (s.embedding / s.heads) * s.kvHeads;
    const perLayer = [
      [s.embedding, s.embedding],
      [s.embedding, kv],
      [s.embedding, kv],
      [s.embedding, s.embedding],
      [s.embedding, s.ffn],
      [s.embedding, s.ffn],
      [s.ffn, s.embedding],
    ].reduce((sum, dims) => sum + tensorBytes(dims, "q8_0"), 0);
    const total = 2 * tensorBytes([s.embedding, s.vocab], "q8_0") + s.layers * perLayer;
    assert.ok(total > 1.1e9 && total < 1.25e9, `1B shape is ${total} bytes`);
  });

  for (const quant of ["f32", "q8_0"] as const) {
    it(`loads in node-llama-cpp and generates tokens (${quant})`, async () => {
      const path = join(dir, `gen-${quant}.gguf`);
      await writeTinyModel(path, { quant });
      const model = await llama.loadModel({ modelPath: path });
      try {
        assert.equal(model.tokens.bos, SPECIAL_TOKENS.bos);
        assert.equal(model.tokens.eos, SPECIAL_TOKENS.eos);
        const chatWrapper = resolveChatWrapper(model);
        assert.equal(chatWrapper?.wrapperName, "ChatML");
        const context = await model.createContext({ contextSize: 512 });
        const session = new LlamaChatSession({
          contextSequence: context.getSequence(),
          chatWrapper,
          systemPrompt: "Be brief.",
        });
        const chunks: string[] = [];
        const result = await session.promptWithMeta("hi", {
          maxTokens: 8,
          seed: 1,
          customStopTriggers: [],
          onTextChunk: (chunk) => chunks.push(chunk),
        });
        assert.ok(chunks.length > 0, "tokens were streamed");
        assert.equal(chunks.join(""), result.responseText);
        await context.dispose();
      } finally {
        await model.dispose();
      }
    });
  }

  it("ensureTinyModel returns one path and survives concurrent callers", async () => {
    const paths = await Promise.all([ensureTinyModel(), ensureTinyModel(), ensureTinyModel()]);
    assert.equal(new Set(paths).size, 1);
    const { metadata } = await gguf(paths[0] as string, { allowLocalFile: true });
    assert.equal((metadata as Record<string, unknown>)["llama.block_count"], TINY_SHAPE.layers);
  });
});
