import type { Snippet } from "./citation.ts";

export interface RetrieveOptions {
  /** The snippets returned fit in this many tokens together. */
  tokenBudget: number;
}

/**
 * Finds knowledge for a question, after Teams AI's DataSource.renderData: it returns what fits the
 * prompt's budget, best first, and nothing below its relevance floor (an empty list means "don't know").
 */
export interface Retriever {
  retrieve(query: string, options: RetrieveOptions): Promise<Snippet[]>;
  /** True once at least one knowledge file is indexed. */
  readonly ready: boolean;
}
