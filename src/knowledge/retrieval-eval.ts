import { z } from "zod";
import { ErrorCode, GatewayError } from "../errors.ts";
import type { KnowledgeBase } from "./knowledge-base.ts";

export interface EvalQuestion {
  question: string;
  /** File path relative to the knowledge folder that answers the question. */
  expected: string;
}

/** Key names are the ones `kb eval --json` prints. */
export interface EvalResult {
  questions: number;
  "recall@1": number;
  "recall@5": number;
  "mrr@10": number;
}

const QuestionSchema = z.object({ question: z.string().min(1), expected: z.string().min(1) });

/** Parses JSONL, one {"question", "expected"} a line; blank lines are allowed. */
export function parseQuestions(jsonl: string, source = "questions"): EvalQuestion[] {
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
    if (!parsed.success) {
      throw new GatewayError(
        ErrorCode.BadRequest,
        `${source}:${i + 1}: expected {"question": "...", "expected": "<file path>"}`,
      );
    }
    out.push(parsed.data);
  });
  return out;
}

/** Files in order of their best chunk: a file counts as found at the rank of its best chunk. */
export async function rankFiles(kb: KnowledgeBase, question: string, depth = 10): Promise<string[]> {
  const files: string[] = [];
  for (const hit of await kb.search(question, 100)) {
    if (!files.includes(hit.chunk.path)) files.push(hit.chunk.path);
    if (files.length >= depth) break;
  }
  return files;
}

/** recall@1, recall@5 and MRR@10 of the file rankings against the expected files. */
export async function evaluateRetrieval(
  kb: KnowledgeBase,
  questions: readonly EvalQuestion[],
): Promise<EvalResult> {
  let r1 = 0;
  let r5 = 0;
  let mrr = 0;
  for (const q of questions) {
    const rank = (await rankFiles(kb, q.question, 10)).indexOf(q.expected) + 1;
    if (rank === 1) r1++;
    if (rank >= 1 && rank <= 5) r5++;
    if (rank >= 1) mrr += 1 / rank;
  }
  const n = questions.length;
  const r = (x: number) => (n === 0 ? 0 : Math.round((x / n) * 10_000) / 10_000);
  return { questions: n, "recall@1": r(r1), "recall@5": r(r5), "mrr@10": r(mrr) };
}

/** How many questions get no snippet at all (nothing above the relevance floor): "don't know" answers. */
export async function countUnanswered(
  kb: KnowledgeBase,
  questions: readonly EvalQuestion[],
  tokenBudget: number,
): Promise<number> {
  let n = 0;
  for (const q of questions) if ((await kb.retrieve(q.question, { tokenBudget })).length === 0) n++;
  return n;
}
