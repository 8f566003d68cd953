import type { Logger } from "../logger.ts";

/** Turns texts into vectors for dense retrieval. */
export interface Embedder {
  readonly description: string;
  /**
   * Cosine similarity that is no evidence of relevance at all; similarity above it can lift a chunk
   * over the relevance floor. 1 means never. @defaultValue 0.5
   */
  readonly unrelatedCosine?: number;
  /** How much the dense ranking counts against the lexical one in fusion (1: as much). @defaultValue 1 */
  readonly fusionWeight?: number;
  embed(texts: readonly string[]): Promise<Float32Array[]>;
  close(): Promise<void>;
}

export interface LlamaEmbedderOptions {
  modelPath: string;
  /** CPU threads for embedding. @defaultValue 1 */
  threads?: number;
  logger?: Logger;
}

/**
 * Embeds with a GGUF model through node-llama-cpp (an embedding model such as a bge GGUF; a
 * generative model also yields vectors, of no particular quality). Embedding runs one text at a time:
 * the embedding context holds one sequence.
 */
export async function createLlamaEmbedder({
  modelPath,
  threads = 1,
  logger,
}: LlamaEmbedderOptions): Promise<Embedder> {
  const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
  // build: "never": a missing prebuilt binary must fail fast instead of compiling from source.
  const llama = await getLlama({
    build: "never",
    gpu: false,
    maxThreads: threads,
    logLevel: LlamaLogLevel.error,
  });
  const model = await llama.loadModel({ modelPath });
  // Texts longer than the context would make the embedding call throw: they are cut to fit (the
  // start of a chunk carries its title and headings, the part that matters most for its vector).
  const contextSize = Math.min(model.trainContextSize, 2048);
  const context = await model.createEmbeddingContext({ threads, contextSize });
  logger?.info({ modelPath }, "embedding model loaded");
  let queue: Promise<unknown> = Promise.resolve();
  return {
    description: `llama embeddings: ${modelPath}`,
    async embed(texts) {
      // Calls are serialised: the single embedding sequence cannot evaluate two texts at once.
      const run = queue.then(async () => {
        const out: Float32Array[] = [];
        for (const text of texts) {
          const tokens = model.tokenize(text);
          // A few tokens of room: the context adds its own begin and end markers to the input.
          const embedding = await context.getEmbeddingFor(tokens.slice(0, contextSize - 8));
          out.push(Float32Array.from(embedding.vector));
        }
        return out;
      });
      queue = run.catch(() => undefined);
      return run;
    },
    async close() {
      await context.dispose();
      await model.dispose();
      await llama.dispose();
    },
  };
}

/**
 * Vectors by chunk content hash, so that a reload embeds only chunks whose text (or title or
 * headings) changed. Entries of chunks that no longer exist are dropped on each pass.
 */
export class EmbeddingCache {
  #vectors = new Map<string, Float32Array>();
  /** Texts embedded since the cache was made (for stats and tests). */
  embedded = 0;

  constructor(private readonly embedder: Embedder) {}

  get size(): number {
    return this.#vectors.size;
  }

  /** Vectors for the given chunks in order, embedding only the ones not seen before. */
  async vectorsFor(items: readonly { hash: string; text: string }[]): Promise<Float32Array[]> {
    const missing = items.filter((c) => !this.#vectors.has(c.hash));
    const unique = [...new Map(missing.map((c) => [c.hash, c.text])).entries()];
    const vectors = await this.embedder.embed(unique.map(([, text]) => text));
    const next = new Map<string, Float32Array>();
    unique.forEach(([hash], i) => {
      const v = vectors[i];
      if (v) next.set(hash, v);
    });
    this.embedded += unique.length;
    for (const c of items) {
      const v = this.#vectors.get(c.hash);
      if (v) next.set(c.hash, v);
    }
    this.#vectors = next;
    return items.map((c) => next.get(c.hash) ?? new Float32Array());
  }
}
