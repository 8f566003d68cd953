import type { Citation, Snippet } from "./citation.ts";
import { isWebUrl } from "./document-loader.ts";
import type { Chunk } from "./knowledge-document.ts";
import type { RankedChunk } from "./knowledge-index.ts";

/**
 * The relevance floor used when RETRIEVAL_MIN_SCORE is 0: a chunk must hold at least this share of
 * the question's information (IDF-weighted terms). Below it the bot says it does not know.
 */
export const DEFAULT_MIN_RELEVANCE = 0.3;

export interface SelectOptions {
  tokenBudget: number;
  /** Floor on `relevance` (0..1); 0 means DEFAULT_MIN_RELEVANCE. */
  minScore?: number;
  /** Most snippets returned whatever the budget. @defaultValue 8 */
  maxSnippets?: number;
}

/** Rounds to 4 decimals so that scores read well in logs, jobs and `kb search`. */
const round = (x: number) => Math.round(x * 10_000) / 10_000;

export function citationOf(chunk: Chunk, n: number): Citation {
  const citation: Citation = {
    n,
    title: chunk.title,
    path: chunk.anchor ? `${chunk.path}#${chunk.anchor}` : chunk.path,
    lines: chunk.lines,
  };
  // The loader keeps only http(s) URLs; checked again here because every channel renders it as a link.
  if (chunk.url && isWebUrl(chunk.url)) citation.url = chunk.url;
  if (chunk.headingPath.length > 0) citation.heading = chunk.headingPath.join(" > ");
  return citation;
}

/**
 * Takes a ranking best first and keeps what clears the floor and fits the budget (a chunk too big
 * for what is left is passed over for smaller ones further down), numbering the snippets 1..k.
 */
export function selectSnippets(
  ranked: readonly RankedChunk[],
  { tokenBudget, minScore = 0, maxSnippets = 8 }: SelectOptions,
): Snippet[] {
  const floor = minScore > 0 ? minScore : DEFAULT_MIN_RELEVANCE;
  const out: Snippet[] = [];
  let left = tokenBudget;
  for (const hit of ranked) {
    if (out.length >= maxSnippets) break;
    if (hit.relevance < floor) continue;
    if (hit.chunk.tokens > left) continue;
    left -= hit.chunk.tokens;
    out.push({
      citation: citationOf(hit.chunk, out.length + 1),
      text: hit.chunk.text,
      score: round(hit.relevance),
    });
  }
  return out;
}
