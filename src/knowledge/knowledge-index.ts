import type { Embedder } from "./embedder.ts";
import type { Chunk } from "./knowledge-document.ts";
import { LexicalIndex } from "./lexical-index.ts";
import { reciprocalRankFusion } from "./rank-fusion.ts";

/** One chunk in a ranking, with the signals that placed it there. */
export interface RankedChunk {
  chunk: Chunk;
  /** Fused rank score (higher is better); only comparable within one ranking. */
  score: number;
  /** How sure we are that the chunk is about the question, 0..1: what the relevance floor compares. */
  relevance: number;
  /** BM25 score, when the chunk matched lexically. */
  lexical?: number;
  /** Cosine similarity to the question, when dense vectors are on. */
  cosine?: number;
}

export interface SearchOptions {
  /** Longest ranking returned. @defaultValue 20 */
  limit?: number;
}

/** How many candidates each signal contributes before fusion. */
const candidates = 50;
/** Cosine similarity that counts as no evidence of relevance at all. */
const denseBase = 0.5;

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/**
 * An immutable, searchable snapshot of the knowledge folder. A reload builds a new one and swaps the
 * reference, so a search always runs against one whole index.
 */
export class KnowledgeIndex {
  readonly chunks: readonly Chunk[];
  readonly #lexical: LexicalIndex;
  readonly #vectors: readonly Float32Array[] | undefined;
  readonly #embedder: Embedder | undefined;

  /**
   * @param vectors one per chunk, in the same order, when dense retrieval is on.
   * @param embedder embeds questions; required with `vectors`.
   */
  constructor(chunks: readonly Chunk[], vectors?: readonly Float32Array[], embedder?: Embedder) {
    this.chunks = chunks;
    this.#lexical = new LexicalIndex(chunks);
    if (vectors && embedder) {
      this.#vectors = vectors;
      this.#embedder = embedder;
    }
  }

  static empty(): KnowledgeIndex {
    return new KnowledgeIndex([]);
  }

  get dense(): boolean {
    return this.#vectors !== undefined;
  }

  async search(query: string, { limit = 20 }: SearchOptions = {}): Promise<RankedChunk[]> {
    const lexical = this.#lexical.search(query, candidates);
    const byIndex = new Map<number, Omit<RankedChunk, "score">>();
    for (const hit of lexical) {
      const chunk = this.chunks[hit.index];
      if (chunk) byIndex.set(hit.index, { chunk, relevance: hit.coverage, lexical: hit.score });
    }
    const lists: number[][] = [lexical.map((h) => h.index)];
    if (this.#vectors && this.#embedder && query.trim().length > 0) {
      const [q] = await this.#embedder.embed([query]);
      if (q) {
        const scored = this.#vectors.map((v, i) => ({ i, c: cosine(q, v) }));
        scored.sort((a, b) => b.c - a.c);
        const top = scored.slice(0, candidates);
        for (const { i, c } of top) {
          const chunk = this.chunks[i];
          if (!chunk) continue;
          const seen = byIndex.get(i);
          // Dense similarity also vouches for relevance (a paraphrase may share no word with the
          // article), rescaled because unrelated texts commonly score cosine 0.3-0.5.
          const base = this.#embedder.unrelatedCosine ?? denseBase;
          const dense = base >= 1 ? 0 : Math.max(0, (c - base) / (1 - base));
          if (seen) Object.assign(seen, { cosine: c, relevance: Math.max(seen.relevance, dense) });
          else byIndex.set(i, { chunk, relevance: dense, cosine: c });
        }
        lists.push(top.map((t) => t.i));
      }
    }
    const fused = reciprocalRankFusion(lists);
    return [...fused.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .flatMap(([i, score]) => {
        const hit = byIndex.get(i);
        return hit ? [{ ...hit, score }] : [];
      });
  }
}
