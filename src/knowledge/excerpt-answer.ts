import type { Snippet } from "../conversation/citation.ts";

/** The retrieval-only answer: the best snippets, labelled plainly as excerpts, with their numbers. */
export function composeExcerptAnswer(snippets: Snippet[]): string {
  const best = snippets.slice(0, 2);
  const parts = best.map(
    (s) => `[${s.citation.n}] ${s.citation.title}:\n> ${s.text.trim().replaceAll("\n", "\n> ")}`,
  );
  return `Here are excerpts from our help articles that may answer your question:\n\n${parts.join("\n\n")}`;
}
