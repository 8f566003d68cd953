import { stat } from "node:fs/promises";
import { LLAMA_1B_SHAPE, TINY_SHAPE, writeTinyModel } from "../../src/tiny-model/tiny-model.ts";

/**
 * Writes a random-weight model for the GPU benchmarks: `make-model.ts <out.gguf> [1b|tiny]`.
 * The 1B shape (Q8_0, ~1.17 GB) does the same arithmetic per token as Llama-3.2-1B with a 32K vocabulary.
 */
const [out, shapeName = "1b"] = process.argv.slice(2);
if (!out) throw new Error("usage: make-model.ts <out.gguf> [1b|tiny]");
const started = performance.now();
await writeTinyModel(out, shapeName === "tiny" ? { ...TINY_SHAPE, seed: 1 } : { ...LLAMA_1B_SHAPE, seed: 1 });
const { size } = await stat(out);
console.log(
  `wrote ${out}: ${(size / 1e9).toFixed(3)} GB (${shapeName}) in ${Math.round(performance.now() - started)} ms`,
);
