import type { Snippet } from "./citation.ts";

/** How many snippets a retrieval-only answer quotes. */
const quoted = 2;
/** Longest quote per snippet, in characters; the citation links to the rest. */
const maxQuote = 700;

function excerpt(text: string): string {
  const t = text.trim();
  if (t.length <= maxQuote) return t;
  const cut = t.lastIndexOf(" ", maxQuote);
  return `${t.slice(0, cut > 0 ? cut : maxQuote)} …`;
}

/**
 * The retrieval-only answer (no model configured): the best snippets quoted verbatim and labelled
 * plainly as excerpts, each with its source number, so the reader knows nothing was generated.
 */
export function composeExcerptAnswer(snippets: Snippet[]): string {
  const parts = snippets.slice(0, quoted).map((s) => {
    const where = s.citation.heading ? `${s.citation.title} > ${s.citation.heading}` : s.citation.title;
    return `[${s.citation.n}] ${where}:\n> ${excerpt(s.text).replaceAll("\n", "\n> ")}`;
  });
  return `Here are excerpts from our help articles that may answer your question:\n\n${parts.join("\n\n")}`;
}
