import { z } from "zod";
import { ErrorCode, GatewayError } from "../errors.ts";
import { quotedSnippets } from "./excerpt-answer.ts";
import type { KnowledgeBase } from "./knowledge-base.ts";

export interface EvalQuestion {
  question: string;
  /** File path relative to the knowledge folder that answers the question; absent: it should be refused. */
  expected?: string;
  /** The question's language as a channel would pass it; detected when absent. */
  lang?: string;
}

/** A question whose expected file did not rank first. */
export interface EvalMiss {
  question: string;
  expected: string;
  /** The file that ranked first instead (none: nothing matched). */
  first: string | null;
  /** Where the expected file ranked (null: not in the first 10). */
  rank: number | null;
}

/** Key names are the ones `kb eval --json` prints. */
export interface EvalResult {
  questions: number;
  "recall@1": number;
  "recall@5": number;
  "mrr@10": number;
  /** Questions the bot would refuse (the answerability decision said no): "don't know" answers. */
  noAnswer: number;
  /** Share of questions answered (decision yes) with the expected file among the cited sources. */
  answeredRight: number;
  misses: EvalMiss[];
}

/** How a set of should-abstain questions fared (`kb eval --unanswerable FILE`). */
export interface AbstentionResult {
  questions: number;
  abstained: number;
  /** abstained / questions. */
  abstention: number;
  /** Questions answered anyway, with what the bot would have cited first. */
  answered: { question: string; first: string | null; confidence: number }[];
}

const QuestionSchema = z.object({
  question: z.string().min(1),
  expected: z.string().min(1).optional(),
  lang: z.string().min(2).max(35).optional(),
});

/**
 * Parses JSONL, one {"question", "expected", "lang"?} a line; blank lines are allowed. With
 * `requireExpected` false, "expected" may be left out (should-abstain questions).
 */
export function parseQuestions(jsonl: string, source = "questions", requireExpected = true): EvalQuestion[] {
  const out: EvalQuestion[] = [];
  jsonl.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new GatewayError(ErrorCode.BadRequest, `${source}:${i + 1}: not valid JSON`);
    }
    const parsed = QuestionSchema.safeParse(value);
    if (!parsed.success || (requireExpected && parsed.data.expected === undefined)) {
      throw new GatewayError(
        ErrorCode.BadRequest,
        requireExpected
          ? `${source}:${i + 1}: expected {"question": "...", "expected": "<file path>"}`
          : `${source}:${i + 1}: expected {"question": "..."}`,
      );
    }
    const q: EvalQuestion = { question: parsed.data.question };
    if (parsed.data.expected !== undefined) q.expected = parsed.data.expected;
    if (parsed.data.lang !== undefined) q.lang = parsed.data.lang;
    out.push(q);
  });
  return out;
}

/**
 * Refuses a questions file that expects a file the folder does not have: such a question could
 * never be found, and would silently lower recall.
 */
export function checkExpectedFiles(
  questions: readonly EvalQuestion[],
  files: ReadonlySet<string>,
  source: string,
) {
  const missing = [
    ...new Set(questions.flatMap((q) => (q.expected && !files.has(q.expected) ? [q.expected] : []))),
  ];
  if (missing.length > 0) {
    throw new GatewayError(
      ErrorCode.BadRequest,
      `${source}: expected file${missing.length === 1 ? "" : "s"} not in the knowledge folder: ${missing.slice(0, 5).join(", ")}${missing.length > 5 ? ", ..." : ""}`,
    );
  }
}

/** Files in order of their best chunk: a file counts as found at the rank of its best chunk. */
export async function rankFiles(
  kb: KnowledgeBase,
  question: string,
  depth = 10,
  lang?: string,
): Promise<string[]> {
  const files: string[] = [];
  for (const hit of await kb.search(question, 100, lang ? { lang } : {})) {
    if (!files.includes(hit.chunk.path)) files.push(hit.chunk.path);
    if (files.length >= depth) break;
  }
  return files;
}

const ratio = (x: number, n: number) => (n === 0 ? 0 : Math.round((x / n) * 10_000) / 10_000);

/** recall@1, recall@5 and MRR@10 of the file rankings, plus what the bot would do with each question. */
export async function evaluateRetrieval(
  kb: KnowledgeBase,
  questions: readonly EvalQuestion[],
  tokenBudget = 1200,
): Promise<EvalResult> {
  let r1 = 0;
  let r5 = 0;
  let mrr = 0;
  let noAnswer = 0;
  let right = 0;
  const misses: EvalMiss[] = [];
  for (const q of questions) {
    const expected = q.expected ?? "";
    const files = await rankFiles(kb, q.question, 10, q.lang);
    const rank = files.indexOf(expected) + 1;
    if (rank === 1) r1++;
    if (rank >= 1 && rank <= 5) r5++;
    if (rank >= 1) mrr += 1 / rank;
    if (rank !== 1)
      misses.push({ question: q.question, expected, first: files[0] ?? null, rank: rank || null });
    const retrieval = await kb.retrieve(q.question, { tokenBudget, ...(q.lang ? { lang: q.lang } : {}) });
    if (!retrieval.answerable) noAnswer++;
    else if (quotedSnippets(retrieval.snippets).some((s) => s.citation.path.split("#")[0] === expected))
      right++;
  }
  const n = questions.length;
  return {
    questions: n,
    "recall@1": ratio(r1, n),
    "recall@5": ratio(r5, n),
    "mrr@10": ratio(mrr, n),
    noAnswer,
    answeredRight: ratio(right, n),
    misses,
  };
}

/** Asks every should-abstain question and counts the refusals. */
export async function evaluateAbstention(
  kb: KnowledgeBase,
  questions: readonly EvalQuestion[],
  tokenBudget = 1200,
): Promise<AbstentionResult> {
  const answered: AbstentionResult["answered"] = [];
  for (const q of questions) {
    const r = await kb.retrieve(q.question, { tokenBudget, ...(q.lang ? { lang: q.lang } : {}) });
    if (r.answerable) {
      const first = r.snippets[0]?.citation.path.split("#")[0] ?? null;
      answered.push({ question: q.question, first, confidence: r.confidence });
    }
  }
  const n = questions.length;
  return {
    questions: n,
    abstained: n - answered.length,
    abstention: ratio(n - answered.length, n),
    answered,
  };
}
