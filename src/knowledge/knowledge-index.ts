import type { Embedder } from "./embedder.ts";
import type { Chunk } from "./knowledge-document.ts";
import { detectLanguage, normalizeLang } from "./language.ts";
import {
  type LexicalHit,
  LexicalIndex,
  type LexicalOptions,
  type LexicalSnapshot,
  type QueryTerms,
} from "./lexical-index.ts";

/** One chunk in a ranking, with the signals that placed it there. */
export interface RankedChunk {
  chunk: Chunk;
  /** Fused rank score (higher is better); only comparable within one ranking. */
  score: number;
  /** How sure we are that the chunk is about the question, 0..1: what the relevance floor compares. */
  relevance: number;
  /** BM25F score, when the chunk matched lexically. */
  lexical?: number;
  /** Share of the question's information (IDF-weighted terms) the chunk holds, 0..1. */
  coverage?: number;
  /** Bit i set when query term i occurs in the chunk. */
  matched?: number;
  /** Cosine similarity to the question, when dense vectors are on. */
  cosine?: number;
}

/** A whole ranking: the question's terms in the language searched, and the chunks best first. */
export interface Ranking {
  /** The language the question was searched in. */
  lang: string;
  query: QueryTerms;
  hits: RankedChunk[];
}

export interface SearchOptions {
  /** Longest ranking returned. @defaultValue 20 */
  limit?: number;
  /** The question's language when the channel knows it (a widget's `lang`, a Slack locale). */
  lang?: string;
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
 * The searchable knowledge: chunks in one lexical index per language and, with dense retrieval,
 * their vectors. A question is searched in its own language's index (given by the channel, else
 * detected; when detection is unsure, the index whose vocabulary knows most of its words), so a
 * French question finds French articles first and statistics of one language never skew another.
 * Changes arrive through `update()`, which is synchronous, and `search()` reads the index in one
 * synchronous step after embedding the question: a search sees a change wholly or not at all.
 */
export class KnowledgeIndex {
  readonly #chunks = new Map<string, Chunk>();
  readonly #parts = new Map<string, LexicalIndex>();
  readonly #vectors = new Map<string, Float32Array>();
  readonly #embedder: Embedder | undefined;
  readonly #options: LexicalOptions;

  /**
   * @param vectors by chunk id, when dense retrieval is on.
   * @param embedder embeds questions; dense retrieval is on when it is given.
   */
  constructor(
    chunks: readonly Chunk[] = [],
    vectors?: ReadonlyMap<string, Float32Array>,
    embedder?: Embedder,
    options: LexicalOptions = {},
  ) {
    this.#embedder = embedder;
    this.#options = options;
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

  /** Chunks per language. */
  languages(): Record<string, number> {
    return Object.fromEntries([...this.#parts].map(([lang, part]) => [lang, part.size]));
  }

  /** Every chunk, in no particular order. */
  chunks(): Chunk[] {
    return [...this.#chunks.values()];
  }

  /** Applies one change: `removed` chunks leave, `added` ones (with their vectors) join. */
  update(
    added: readonly Chunk[],
    removed: readonly Chunk[],
    vectors?: ReadonlyMap<string, Float32Array>,
  ): void {
    const byLang = new Map<string, { added: Chunk[]; removed: Chunk[] }>();
    const slot = (lang: string) => {
      const s = byLang.get(lang) ?? { added: [], removed: [] };
      byLang.set(lang, s);
      return s;
    };
    for (const c of removed) slot(c.lang).removed.push(c);
    for (const c of added) slot(c.lang).added.push(c);
    for (const [lang, change] of byLang) {
      const part = this.#parts.get(lang) ?? new LexicalIndex(lang, [], this.#options);
      this.#parts.set(lang, part);
      part.update(change.added, change.removed);
      if (part.size === 0) this.#parts.delete(lang);
    }
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

  /** The lexical indexes as plain data, for persisting (dense vectors are not persisted). */
  snapshot(): LexicalSnapshot[] {
    return [...this.#parts.values()].map((p) => p.snapshot());
  }

  /**
   * Takes persisted lexical indexes whose chunks are these (the loader's restored files); false
   * when they do not fit (then nothing changed and the index builds from the chunks as usual).
   * Only for an index without dense retrieval, whose vectors are not persisted.
   */
  restore(snapshots: readonly LexicalSnapshot[], chunks: readonly Chunk[]): boolean {
    if (this.#embedder || this.#chunks.size > 0) return false;
    const byId = new Map(chunks.map((c) => [c.id, c]));
    const parts: LexicalIndex[] = [];
    for (const s of snapshots) {
      const part = LexicalIndex.restore(s, byId, this.#options);
      if (!part) return false;
      parts.push(part);
    }
    if (parts.reduce((n, p) => n + p.size, 0) !== chunks.length) return false;
    for (const p of parts) this.#parts.set(p.lang, p);
    for (const c of chunks) this.#chunks.set(c.id, c);
    return true;
  }

  /** The language index a question is searched in. */
  #partFor(query: string, lang: string | undefined): LexicalIndex | undefined {
    if (this.#parts.size <= 1) return this.#parts.values().next().value;
    const given = normalizeLang(lang);
    const declared = given ? this.#parts.get(given) : undefined;
    if (declared) return declared;
    const largest = [...this.#parts.values()].sort((a, b) => b.size - a.size)[0];
    const detected = detectLanguage(query, largest?.lang);
    const part = this.#parts.get(detected.lang);
    if (part && detected.confident) return part;
    // Unsure (a few words, or a language no article is in): the index that knows most of its words.
    let best = part ?? largest;
    let bestKnown = best ? best.known(best.analyze(query)) : 0;
    for (const p of this.#parts.values()) {
      const known = p.known(p.analyze(query));
      if (known > bestKnown) [best, bestKnown] = [p, known];
    }
    return best;
  }

  async search(query: string, { limit = 20, lang }: SearchOptions = {}): Promise<Ranking> {
    // The only await comes first: everything after it reads the index in one synchronous run.
    const q =
      this.#embedder && query.trim().length > 0 ? (await this.#embedder.embed([query]))[0] : undefined;
    const part = this.#partFor(query, lang);
    if (!part) return { lang: normalizeLang(lang) ?? "en", query: emptyQuery, hits: [] };
    const lexical = part.search(query, candidates);
    const byId = new Map<string, Omit<RankedChunk, "score">>();
    for (const hit of lexical.hits) byId.set(hit.id, fromLexical(hit));
    const lists: string[][] = [lexical.hits.map((h) => h.id)];
    if (q && this.#embedder) {
      const scored: { id: string; c: number }[] = [];
      for (const [id, v] of this.#vectors) {
        if (this.#chunks.get(id)?.lang === part.lang) scored.push({ id, c: cosine(q, v) });
      }
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
    let hits: RankedChunk[];
    if (lists.length === 1) {
      hits = lexical.hits.map((h) => ({ ...fromLexical(h), score: h.score }));
    } else {
      // Score fusion: BM25 relative to the best match, plus the cosine rescaled over the candidates,
      // weighed by how much the embedder is trusted. Unlike rank fusion it keeps BM25's margins (a
      // clear lexical winner stays first unless the vectors strongly disagree).
      const maxLexical = lexical.hits[0]?.score ?? 0;
      const cosines = [...byId.values()].flatMap((h) => (h.cosine === undefined ? [] : [h.cosine]));
      const lo = Math.min(...cosines);
      const hi = Math.max(...cosines);
      const weight = this.#embedder?.fusionWeight ?? 1;
      hits = [...byId.values()]
        .map((h) => ({
          ...h,
          score:
            (maxLexical > 0 ? (h.lexical ?? 0) / maxLexical : 0) +
            (h.cosine === undefined || hi <= lo ? 0 : (weight * (h.cosine - lo)) / (hi - lo)),
        }))
        .sort((a, b) => b.score - a.score);
    }
    return { lang: part.lang, query: lexical.query, hits: hits.slice(0, limit) };
  }
}

const emptyQuery: QueryTerms = { terms: [], idf: [], df: [], size: 0 };

function fromLexical(hit: LexicalHit): Omit<RankedChunk, "score"> {
  return {
    chunk: hit.chunk,
    relevance: hit.coverage,
    lexical: hit.score,
    coverage: hit.coverage,
    matched: hit.matched,
  };
}
