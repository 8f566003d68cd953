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
 * The searchable knowledge: chunks, their BM25 index and, with dense retrieval, their vectors.
 * Changes arrive through `update()`, which is synchronous, and `search()` reads the index in one
 * synchronous step after embedding the question; JavaScript runs one of them at a time, so a search
 * sees the index wholly before or wholly after a change, never half of one.
 */
export class KnowledgeIndex {
  readonly #chunks = new Map<string, Chunk>();
  readonly #lexical = new LexicalIndex();
  readonly #vectors = new Map<string, Float32Array>();
  readonly #embedder: Embedder | undefined;

  /**
   * @param vectors by chunk id, when dense retrieval is on.
   * @param embedder embeds questions; dense retrieval is on when it is given.
   */
  constructor(
    chunks: readonly Chunk[] = [],
    vectors?: ReadonlyMap<string, Float32Array>,
    embedder?: Embedder,
  ) {
    this.#embedder = embedder;
    this.update(chunks, [], vectors);
  }

  static empty(): KnowledgeIndex {
    return new KnowledgeIndex([]);
  }

  get size(): number {
    return this.#chunks.size;
  }

  get dense(): boolean {
    return this.#embedder !== undefined;
  }

  /** Every chunk, in no particular order. */
  chunks(): Chunk[] {
    return [...this.#chunks.values()];
  }

  /**
   * Applies one change: `removed` chunks leave, `added` ones (with their vectors) join.
   * @throws when a removed chunk is not in the index or an added id already is.
   */
  update(
    added: readonly Chunk[],
    removed: readonly Chunk[],
    vectors?: ReadonlyMap<string, Float32Array>,
  ): void {
    this.#lexical.update(added, removed);
    for (const c of removed) {
      this.#chunks.delete(c.id);
      this.#vectors.delete(c.id);
    }
    for (const c of added) {
      this.#chunks.set(c.id, c);
      const v = vectors?.get(c.id);
      if (v) this.#vectors.set(c.id, v);
    }
  }

  async search(query: string, { limit = 20 }: SearchOptions = {}): Promise<RankedChunk[]> {
    // The only await comes first: everything after it reads the index in one synchronous run.
    const q =
      this.#embedder && query.trim().length > 0 ? (await this.#embedder.embed([query]))[0] : undefined;
    const lexical = this.#lexical.search(query, candidates);
    const byId = new Map<string, Omit<RankedChunk, "score">>();
    for (const hit of lexical) {
      const chunk = this.#chunks.get(hit.id);
      if (chunk) byId.set(hit.id, { chunk, relevance: hit.coverage, lexical: hit.score });
    }
    const lists: string[][] = [lexical.map((h) => h.id)];
    if (q && this.#embedder) {
      const scored: { id: string; c: number }[] = [];
      for (const [id, v] of this.#vectors) scored.push({ id, c: cosine(q, v) });
      scored.sort((a, b) => b.c - a.c);
      const top = scored.slice(0, candidates);
      const base = this.#embedder.unrelatedCosine ?? denseBase;
      for (const { id, c } of top) {
        const chunk = this.#chunks.get(id);
        if (!chunk) continue;
        // Dense similarity also vouches for relevance (a paraphrase may share no word with the
        // article), rescaled because unrelated texts commonly score cosine 0.3-0.5.
        const dense = base >= 1 ? 0 : Math.max(0, (c - base) / (1 - base));
        const seen = byId.get(id);
        if (seen) Object.assign(seen, { cosine: c, relevance: Math.max(seen.relevance, dense) });
        else byId.set(id, { chunk, relevance: dense, cosine: c });
      }
      lists.push(top.map((t) => t.id));
    }
    const fused = reciprocalRankFusion(lists);
    return [...fused.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .flatMap(([id, score]) => {
        const hit = byId.get(id);
        return hit ? [{ ...hit, score }] : [];
      });
  }
}
