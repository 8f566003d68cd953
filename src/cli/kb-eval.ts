import { readFile } from "node:fs/promises";
import type { Config } from "../config.ts";
import type { KnowledgeBase } from "../knowledge/knowledge-base.ts";
import {
  type AbstentionResult,
  checkExpectedFiles,
  type EvalResult,
  evaluateAbstention,
  evaluateRetrieval,
  parseQuestions,
} from "../knowledge/retrieval-eval.ts";

/** Misses and wrongly answered questions listed in text output (all of them go to --json). */
const listed = 20;

/**
 * `kb eval --questions FILE [--unanswerable FILE] [--json]`: ranking quality on answerable questions
 * (recall@1, recall@5, MRR@10, the misses, how many the bot would answer with the right file cited)
 * and, for should-abstain questions, how many the bot refuses.
 */
/** The `kb eval` options, as parsed by `kb`. */
export interface KbEvalOptions {
  questions?: string | undefined;
  unanswerable?: string | undefined;
  json?: boolean | undefined;
}

export async function runKbEval(
  args: { values: KbEvalOptions },
  open: () => Promise<KnowledgeBase>,
  config: Config,
  out: (line?: string) => void,
): Promise<number> {
  const { questions: questionsFile, unanswerable: unanswerableFile } = args.values;
  if (!questionsFile && !unanswerableFile) {
    throw new Error("eval needs --questions FILE (JSONL), --unanswerable FILE, or both");
  }
  const questions = questionsFile ? parseQuestions(await readFile(questionsFile, "utf8"), questionsFile) : [];
  const refused = unanswerableFile
    ? parseQuestions(await readFile(unanswerableFile, "utf8"), unanswerableFile, false)
    : [];
  const base = await open();
  if (questionsFile) checkExpectedFiles(questions, new Set(base.paths()), questionsFile);
  const budget = config.knowledge.tokenBudget;
  const result: EvalResult | undefined = questionsFile
    ? await evaluateRetrieval(base, questions, budget)
    : undefined;
  const abstention: AbstentionResult | undefined = unanswerableFile
    ? await evaluateAbstention(base, refused, budget)
    : undefined;
  if (args.values.json) {
    out(JSON.stringify({ ...result, ...(abstention ? { unanswerable: abstention } : {}) }));
    return 0;
  }
  if (result) {
    out(`questions  ${result.questions}`);
    out(`recall@1   ${result["recall@1"].toFixed(3)}`);
    out(`recall@5   ${result["recall@5"].toFixed(3)}`);
    out(`MRR@10     ${result["mrr@10"].toFixed(3)}`);
    out(`no answer  ${result.noAnswer} (the bot would say it does not know and offer a person)`);
    out(`answered right  ${result.answeredRight.toFixed(3)} (answered, with the expected file cited)`);
  }
  if (abstention) {
    out(
      `unanswerable  ${abstention.questions} questions, refused ${abstention.abstained} ` +
        `(abstention ${abstention.abstention.toFixed(3)})`,
    );
  }
  if (result && result.misses.length > 0) {
    out();
    out(`misses (expected file not first): ${result.misses.length}`);
    for (const m of result.misses.slice(0, listed)) {
      out(`  "${m.question}"`);
      out(
        `      expected ${m.expected} (${m.rank ? `rank ${m.rank}` : "not in the first 10"}), first ${m.first ?? "nothing"}`,
      );
    }
    if (result.misses.length > listed)
      out(`  ... and ${result.misses.length - listed} more (--json lists all)`);
  }
  if (abstention && abstention.answered.length > 0) {
    out();
    out(`answered though unanswerable: ${abstention.answered.length}`);
    for (const a of abstention.answered.slice(0, listed)) {
      out(`  "${a.question}" -> ${a.first ?? "?"} (confidence ${a.confidence.toFixed(3)})`);
    }
    if (abstention.answered.length > listed) {
      out(`  ... and ${abstention.answered.length - listed} more (--json lists all)`);
    }
  }
  return 0;
}
