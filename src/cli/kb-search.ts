import type { KnowledgeBase } from "../knowledge/knowledge-base.ts";
import type { RankedChunk } from "../knowledge/knowledge-index.ts";

export interface PrintSearchOptions {
  budget: number;
  all: boolean;
  json: boolean;
  lang?: string;
  out: (line?: string) => void;
}

const chunkKey = (path: string, lines?: [number, number]) => `${path}@${lines?.join("-") ?? ""}`;

/**
 * `kb search`: the decision the bot would take, then the snippets it would get, each with its ranking
 * score (BM25, or fused rank with vectors: what orders them) and its relevance (0..1, the share of the
 * question it holds: what the relevance floor compares).
 */
export async function printSearch(
  kb: KnowledgeBase,
  question: string,
  o: PrintSearchOptions,
): Promise<number> {
  const { out } = o;
  const lang = o.lang ? { lang: o.lang } : {};
  if (o.all) {
    const ranked = await kb.search(question, 20, lang);
    if (o.json) out(JSON.stringify(ranked.map(({ chunk, ...s }) => ({ ...s, id: chunk.id }))));
    else {
      ranked.forEach((r, i) => {
        out(`${i + 1}. score ${r.score.toFixed(3)}  relevance ${r.relevance.toFixed(3)}  ${r.chunk.id}`);
      });
    }
    return 0;
  }
  const retrieval = await kb.retrieve(question, { tokenBudget: o.budget, ...lang });
  if (o.json) {
    out(JSON.stringify({ question, ...retrieval }));
    return 0;
  }
  const ranked = new Map<string, RankedChunk>();
  for (const r of await kb.search(question, 40, lang)) {
    const key = chunkKey(r.chunk.anchor ? `${r.chunk.path}#${r.chunk.anchor}` : r.chunk.path, r.chunk.lines);
    if (!ranked.has(key)) ranked.set(key, r);
  }
  const how = `confidence ${retrieval.confidence.toFixed(3)}, ${retrieval.reason}, language ${retrieval.lang}`;
  if (!retrieval.answerable) {
    out(`No answer (${how}): the bot would say it does not know and offer a person.`);
    if (retrieval.snippets.length > 0) out("Closest snippets, not used:");
  } else {
    out(`Answer (${how}) from these snippets:`);
  }
  for (const s of retrieval.snippets) {
    const c = s.citation;
    const score = ranked.get(chunkKey(c.path, c.lines))?.score;
    out(
      `[${c.n}] score ${score === undefined ? "?" : score.toFixed(3)}  relevance ${s.score.toFixed(3)}  ` +
        `${c.title}${c.heading ? ` > ${c.heading}` : ""}`,
    );
    out(`    ${c.url ?? c.path}  (lines ${c.lines?.join("-") ?? "?"})`);
    out(`    ${s.text.replace(/\s+/g, " ").slice(0, 160)}`);
  }
  return 0;
}
