/**
 * Why MiniSearch: three BM25 libraries on the CovidFAQ set, each fed the same terms (the project's
 * tokenizer, stop words and Porter2 stems) with the title weighted 3x, one document per FAQ.
 * Prints recall@1, recall@5, MRR@10, index build time and time per query.
 *
 *   npx tsx bench/lexical-libraries.ts [--json]
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { create, insertMultiple, search } from "@orama/orama";
import MiniSearch from "minisearch";
import BM25 from "wink-bm25-text-search";
import { analyzeTerm, tokenize } from "../src/knowledge/text-analyzer.ts";
import { covidfaqDir } from "./covidfaq-eval.ts";
import { round, say, table } from "./stats.ts";

interface Doc {
  id: string;
  title: string;
  text: string;
}
type Ranker = (query: string) => string[];

/** Search terms with repeats kept (term frequency matters to BM25). */
const terms = (text: string) => tokenize(text).flatMap((t) => analyzeTerm(t) ?? []);

const libraries: Record<string, (docs: Doc[]) => Promise<Ranker>> = {
  minisearch: async (docs) => {
    const ms = new MiniSearch<Doc>({ fields: ["title", "text"], tokenize, processTerm: analyzeTerm });
    ms.addAll(docs);
    return (q) => ms.search(q, { boost: { title: 3 } }).map((r) => String(r.id));
  },
  orama: async (docs) => {
    const db = create({
      schema: { title: "string", text: "string" } as const,
      components: { tokenizer: { language: "english", normalizationCache: new Map(), tokenize: terms } },
    });
    await insertMultiple(db, docs);
    return (q) => {
      const r = search(db, { term: q, boost: { title: 3 }, limit: 10, threshold: 1 });
      // Orama answers synchronously with the default components; a Promise here would be a misuse.
      if (r instanceof Promise) throw new Error("orama returned a promise");
      return r.hits.map((h) => String(h.document.id));
    };
  },
  "wink-bm25-text-search": async (docs) => {
    const engine = BM25();
    engine.defineConfig({ fldWeights: { title: 3, text: 1 } });
    engine.definePrepTasks([terms]);
    docs.forEach((d) => {
      engine.addDoc({ title: d.title, text: d.text }, d.id);
    });
    engine.consolidate();
    return (q) => engine.search(q, 10).map(([id]) => String(id));
  },
};

export async function runLexicalLibrariesBench(json = false): Promise<Record<string, unknown>> {
  if (!existsSync(join(covidfaqDir, "faqs.jsonl"))) {
    say(json, `lexical libraries: CovidFAQ not found at ${covidfaqDir}; skipped`);
    return { skipped: true };
  }
  const lines = async (f: string) =>
    (await readFile(join(covidfaqDir, f), "utf8"))
      .split("\n")
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l));
  const docs: Doc[] = (await lines("faqs.jsonl")).map(
    (f: { id: string; question: string; answer: string }) => ({
      id: f.id,
      title: f.question,
      text: f.answer,
    }),
  );
  const queries: { query: string; faq_id: string }[] = await lines("queries.jsonl");
  const out: Record<string, unknown> = {};
  const rows: (string | number)[][] = [];
  for (const [name, build] of Object.entries(libraries)) {
    const t0 = performance.now();
    const rank = await build(docs);
    const buildMs = performance.now() - t0;
    let r1 = 0;
    let r5 = 0;
    let mrr = 0;
    const t1 = performance.now();
    for (const q of queries) {
      const r = rank(q.query).slice(0, 10).indexOf(q.faq_id) + 1;
      if (r === 1) r1++;
      if (r >= 1 && r <= 5) r5++;
      if (r >= 1) mrr += 1 / r;
    }
    const perQueryMs = (performance.now() - t1) / queries.length;
    const n = queries.length;
    const result = {
      "recall@1": round(r1 / n, 3),
      "recall@5": round(r5 / n, 3),
      "mrr@10": round(mrr / n, 3),
      buildMs: round(buildMs, 1),
      queryMs: round(perQueryMs, 3),
    };
    out[name] = result;
    rows.push([
      name,
      result["recall@1"],
      result["recall@5"],
      result["mrr@10"],
      result.buildMs,
      result.queryMs,
    ]);
  }
  say(json, table(["library", "recall@1", "recall@5", "MRR@10", "build ms", "ms/query"], rows));
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const json = process.argv.includes("--json");
  const result = await runLexicalLibrariesBench(json);
  if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
}
