/**
 * Retrieval quality for the knowledge benchmark: CovidFAQ (lexical, with word vectors, and per lexical
 * engine), the English sample folder, `kb eval` per language on the multilingual sample folder, and
 * the answerability decision on the development sets, with and without it.
 */
import { readFile, rm } from "node:fs/promises";

import { FolderLoader } from "../src/knowledge/folder-loader.ts";
import { createKnowledgeBase } from "../src/knowledge/knowledge-base.ts";
import {
  type EvalQuestion,
  evaluateAbstention,
  evaluateRetrieval,
  parseQuestions,
} from "../src/knowledge/retrieval-eval.ts";
import { analyzerFor } from "../src/knowledge/text-analyzer.ts";
import { createLogger } from "../src/logger.ts";
import { outcome, rates, type Sample, samplesOf } from "./answerability-fit.ts";
import { prepareCovidfaq } from "./covidfaq-eval.ts";
import { buildDevCollections, devSources, offTopicQuestions } from "./dev-sets.ts";
import { engines } from "./lexical-engines.ts";
import { round, say, table } from "./stats.ts";

const logger = createLogger({ level: "silent" });

async function covidfaq(json: boolean): Promise<Record<string, unknown>> {
  const prepared = await prepareCovidfaq();
  if (!prepared) {
    say(json, "CovidFAQ not found (shared/datasets/covidfaq): skipped");
    return { skipped: true };
  }
  try {
    const questions = parseQuestions(await readFile(prepared.questions, "utf8"));
    const out: Record<string, unknown> = {};
    const rows: (string | number)[][] = [];
    for (const [name, wordVectors] of [
      ["product: BM25F", false],
      ["product: BM25F + word vectors", true],
    ] as const) {
      const kb = await createKnowledgeBase({ dir: prepared.knowledge, wordVectors, logger });
      const r = await evaluateRetrieval(kb, questions);
      await kb.close();
      out[name] = { "recall@1": r["recall@1"], "recall@5": r["recall@5"], "mrr@10": r["mrr@10"] };
      rows.push([name, r.questions, r["recall@1"], r["recall@5"], r["mrr@10"]]);
    }
    // Each lexical engine on the same analyzed terms, one chunk per FAQ.
    const { chunks } = await new FolderLoader(prepared.knowledge).load();
    const analyzer = analyzerFor("en");
    for (const engine of await engines()) {
      if ("missing" in engine) continue;
      await engine.build(chunks);
      let r1 = 0;
      let r5 = 0;
      let mrr = 0;
      for (const q of questions) {
        const ids = await engine.search([...new Set(analyzer.terms(q.question))], 10);
        const rank = ids.map((id) => id.split("#")[0]).indexOf(q.expected ?? "") + 1;
        if (rank === 1) r1++;
        if (rank >= 1 && rank <= 5) r5++;
        if (rank >= 1) mrr += 1 / rank;
      }
      await engine.close();
      const n = questions.length;
      const r = { "recall@1": round(r1 / n, 3), "recall@5": round(r5 / n, 3), "mrr@10": round(mrr / n, 3) };
      out[`engine: ${engine.name}`] = r;
      rows.push([`engine: ${engine.name}`, n, r["recall@1"], r["recall@5"], r["mrr@10"]]);
    }
    rows.push(["file-level BM25 baseline (given)", 1387, 0.337, 0.689, 0.487]);
    say(json, "\nCovidFAQ (67 FAQs, 1,387 real questions, noisy labels):");
    say(json, table(["ranker", "questions", "recall@1", "recall@5", "MRR@10"], rows));
    return out;
  } finally {
    await rm(prepared.dir, { recursive: true, force: true });
  }
}

/** `kb eval` on the sample folders: English, and each language of the multilingual one. */
async function samples(json: boolean): Promise<Record<string, unknown>> {
  const { sources, cleanup } = await devSources();
  const offTopic = await offTopicQuestions();
  const out: Record<string, unknown> = {};
  const rows: (string | number)[][] = [];
  try {
    for (const source of sources.filter((s) => s.name !== "covidfaq")) {
      const kb = await createKnowledgeBase({ dir: source.dir, logger });
      const byLang = new Map<string, EvalQuestion[]>();
      for (const q of source.questions) {
        const lang = source.name === "sample-en" ? "en" : (q.expected?.split("/")[0] ?? "?");
        byLang.set(lang, [...(byLang.get(lang) ?? []), q]);
      }
      for (const [lang, questions] of byLang) {
        const r = await evaluateRetrieval(kb, questions);
        const refused = await evaluateAbstention(
          kb,
          offTopic.filter((q) => q.lang === lang),
        );
        const key = `${source.name}/${lang}`;
        out[key] = { ...r, misses: r.misses.length, offTopicAbstention: refused.abstention };
        rows.push([
          key,
          r.questions,
          r["recall@1"],
          r["recall@5"],
          r["mrr@10"],
          r.answeredRight,
          `${refused.abstained}/${refused.questions}`,
        ]);
      }
      await kb.close();
    }
  } finally {
    await cleanup();
  }
  say(json, "\nkb eval per language (sample folders; questions worded unlike the articles):");
  say(
    json,
    table(
      ["folder/lang", "questions", "recall@1", "recall@5", "MRR@10", "answered right", "off-topic refused"],
      rows,
    ),
  );
  return out;
}

/** The answerability decision on the development sets, and the relevance floor alone for comparison. */
async function answerability(json: boolean): Promise<Record<string, unknown>> {
  const { collections, cleanup } = await buildDevCollections([1, 2, 3]);
  const all: Sample[] = [];
  try {
    for (const c of collections) all.push(...(await samplesOf(c)));
  } finally {
    await cleanup();
  }
  const out: Record<string, unknown> = {};
  const rows: (string | number)[][] = [];
  for (const source of [...new Set(all.map((s) => s.source))]) {
    const mine = all.filter((s) => s.source === source);
    const withDecision = rates(outcome(mine, (s) => s.answerable));
    const floorOnly = rates(outcome(mine, (s) => !s.noMatch));
    out[source] = { withDecision, floorOnly };
    for (const [how, r] of [
      ["answerability decision", withDecision],
      ["relevance floor only (before)", floorOnly],
    ] as const) {
      rows.push([source, how, r.answeredRight, r.missingAbstention, r.offTopicAbstention]);
    }
  }
  say(
    json,
    "\nAnswerability (a fifth of each collection removed, 3 seeds; goals: >= 0.85, >= 0.70, >= 0.95):",
  );
  say(
    json,
    table(
      ["collection", "deciding by", "answered right", "missing topic refused", "off-topic refused"],
      rows,
    ),
  );
  return out;
}

export async function runKnowledgeQuality(json: boolean): Promise<Record<string, unknown>> {
  return {
    covidfaq: await covidfaq(json),
    samples: await samples(json),
    answerability: await answerability(json),
  };
}
