import MiniSearch from "minisearch";
import type { Chunk } from "./knowledge-document.ts";
import { analyze, analyzeTerm, tokenize } from "./text-analyzer.ts";

/** Field weights: a word in the title or a heading says more about a chunk than one in its body. */
export const fieldBoosts = { title: 3, headings: 2, tags: 2, text: 1 } as const;

/** Ranking knobs, exposed for evaluation; the defaults are what the gateway uses. */
export interface LexicalOptions {
  /** @defaultValue fieldBoosts */
  boost?: Partial<Record<keyof typeof fieldBoosts, number>>;
  /** Edit distance allowed, as a share of term length, for terms of 6+ characters; 0 turns it off. @defaultValue 0.2 */
  fuzzy?: number;
  /** BM25 parameters (MiniSearch's BM25+): k saturation, b length normalisation, d lower bound. */
  bm25?: { k: number; b: number; d: number };
}

export interface LexicalHit {
  /** The chunk's id. */
  id: string;
  /** BM25+ score (MiniSearch), field boosts applied. */
  score: number;
  /** Share of the query's information (IDF-weighted terms) that this chunk contains, 0..1. */
  coverage: number;
}

const documentOf = (c: Chunk) => ({
  id: c.id,
  title: c.title,
  headings: c.headingPath.join("\n"),
  tags: c.tags.join(" "),
  text: c.text,
});

const termsOf = (c: Chunk) => analyze(`${c.title} ${c.headingPath.join(" ")} ${c.tags.join(" ")} ${c.text}`);

/**
 * BM25 ranking over chunks with MiniSearch (stemmed terms, boosted title/heading/tag fields), plus
 * the document frequencies needed to say how much of a question a chunk covers: the relevance floor.
 * Updated in place, chunk by chunk; every method is synchronous, so a caller that applies a whole
 * change in one call is never observed half-way.
 */
export class LexicalIndex {
  readonly #search: MiniSearch<{ id: string }>;
  readonly #df = new Map<string, number>();
  readonly #options: LexicalOptions;

  constructor(chunks: readonly Chunk[] = [], options: LexicalOptions = {}) {
    this.#options = options;
    this.#search = new MiniSearch<{ id: string }>({
      fields: ["title", "headings", "tags", "text"],
      tokenize,
      processTerm: analyzeTerm,
    });
    this.update(chunks, []);
  }

  get size(): number {
    return this.#search.documentCount;
  }

  /** Removes then adds chunks (a changed chunk is removed in its old form and added in its new). */
  update(added: readonly Chunk[], removed: readonly Chunk[]): void {
    for (const c of removed) {
      // remove() with the document as it was indexed takes its terms out at once; discard() would
      // leave them for a later vacuum and skew BM25 statistics until then.
      this.#search.remove(documentOf(c));
      for (const term of termsOf(c)) {
        const n = (this.#df.get(term) ?? 0) - 1;
        if (n > 0) this.#df.set(term, n);
        else this.#df.delete(term);
      }
    }
    this.#search.addAll(added.map(documentOf));
    for (const c of added) {
      for (const term of termsOf(c)) this.#df.set(term, (this.#df.get(term) ?? 0) + 1);
    }
  }

  /**
   * Inverse document frequency for the coverage measure. A word the folder never uses ("much",
   * a typo, a product we do not sell) weighs half as much as the rarest word it does use: enough
   * that a question made only of unknown words covers nothing, not so much that one filler word
   * sinks a question whose topic words all match.
   */
  #idf(term: string): number {
    const count = this.#search.documentCount;
    const df = this.#df.get(term);
    const rarest = Math.log(1 + (count + 1) / 1.5);
    return df === undefined ? rarest / 2 : Math.log(1 + (count + 1) / (df + 0.5));
  }

  search(query: string, limit: number): LexicalHit[] {
    const terms = analyze(query);
    if (terms.length === 0 || this.size === 0) return [];
    const total = terms.reduce((s, t) => s + this.#idf(t), 0);
    const results = this.#search.search(query, {
      boost: { ...fieldBoosts, ...this.#options.boost },
      // Typos in customers' questions ("pasword") still find the article. Only words the folder does
      // not use are treated as typos: short words and known words must match exactly (which also
      // spares the costly fuzzy walk of the term tree for most words).
      fuzzy: (term) =>
        term.length >= 6 && !this.#df.has(term) && (this.#options.fuzzy ?? 0.2) > 0
          ? (this.#options.fuzzy ?? 0.2)
          : false,
      ...(this.#options.bm25 ? { bm25: this.#options.bm25 } : {}),
      weights: { fuzzy: 0.3, prefix: 0.3 },
      combineWith: "OR",
    });
    return results.slice(0, limit).map((r) => {
      const matched = new Set(r.queryTerms);
      const covered = terms.reduce((s, t) => s + (matched.has(t) ? this.#idf(t) : 0), 0);
      return { id: String(r.id), score: r.score, coverage: total > 0 ? covered / total : 0 };
    });
  }
}
