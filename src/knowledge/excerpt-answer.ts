import type { Snippet } from "./citation.ts";

/** How many snippets a retrieval-only answer quotes. */
const quoted = 2;
/** Longest quote per snippet, in characters; the citation links to the rest. */
const maxQuote = 700;

/**
 * The snippets a retrieval-only answer quotes: the best one, then the best one from another file
 * (a second article is a better second chance than a second section of the first), else the next.
 */
export function quotedSnippets(snippets: readonly Snippet[]): Snippet[] {
  const first = snippets[0];
  if (!first) return [];
  const file = (s: Snippet) => s.citation.path.split("#")[0];
  const other = snippets.find((s) => file(s) !== file(first)) ?? snippets[1];
  return (other ? [first, other] : [first]).slice(0, quoted);
}

/** Lines that start a Markdown block of their own: list items, quotes, headings, table rows, fences. */
const BLOCK_START = /^\s*([-*+]\s|\d+[.)]\s|>|#{1,6}\s|\||```|~~~)/;
/** Scripts written without spaces: a line break inside their text joins with nothing. */
const UNSPACED_END = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}、。，；：！？]$/u;

/**
 * Joins the hard line breaks that source files wrap their paragraphs with ("We issue refunds to the
 * original payment method within 3 business days of approving them. Banks\nthen take..."), so that
 * a chat bubble flows the text itself. Paragraph breaks, list items, headings, tables and code
 * blocks keep their lines.
 */
export function reflow(text: string): string {
  const out: string[] = [];
  let fenced = false;
  let prevRaw = "";
  for (const raw of text.split("\n")) {
    const line = raw.trimEnd();
    const prev = out.at(-1);
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const joins =
      !fenced &&
      prev !== undefined &&
      prev.trim() !== "" &&
      line.trim() !== "" &&
      !BLOCK_START.test(line) &&
      !/^\s*(```|~~~|\|)/.test(prev) &&
      // Markdown's own hard break (two trailing spaces or a backslash) is meant: keep it.
      !/ {2}$|\\$/.test(prevRaw);
    prevRaw = raw;
    if (joins) out[out.length - 1] = `${prev}${UNSPACED_END.test(prev) ? "" : " "}${line.trim()}`;
    else out.push(line);
  }
  return out.join("\n");
}

function excerpt(text: string): string {
  const t = reflow(text).trim();
  if (t.length <= maxQuote) return t;
  const cut = t.lastIndexOf(" ", maxQuote);
  return `${t.slice(0, cut > 0 ? cut : maxQuote)} …`;
}

/**
 * The retrieval-only answer (no model configured): the best snippets quoted verbatim (their
 * paragraphs reflowed) and labelled plainly as excerpts, each with its source number, so the reader
 * knows nothing was generated.
 */
export function composeExcerptAnswer(snippets: Snippet[]): string {
  const parts = quotedSnippets(snippets).map((s) => {
    const where = s.citation.heading ? `${s.citation.title} > ${s.citation.heading}` : s.citation.title;
    return `[${s.citation.n}] ${where}:\n> ${excerpt(s.text).replaceAll("\n", "\n> ")}`;
  });
  return `Here are excerpts from our help articles that may answer your question:\n\n${parts.join("\n\n")}`;
}
