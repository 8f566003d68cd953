/**
 * Retrieval quality on the CovidFAQ set: each FAQ becomes one knowledge file (title = the FAQ's
 * question, body = its answer), every query is asked, and `kb eval` prints recall@1, recall@5 and
 * MRR@10. The data set is read from ../shared/datasets/covidfaq (never copied into the repository).
 *
 *   npx tsx bench/covidfaq-eval.ts [--json] [--word-vectors]
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { runKb } from "../src/cli/kb-command.ts";

/**
 * The data set lives in shared/ beside the checkout (../shared); a git worktree sits one level deeper,
 * so the folders above are looked in too.
 */
export const covidfaqDir = findShared(resolve(dirname(fileURLToPath(import.meta.url)), ".."));

function findShared(repo: string): string {
  let dir = dirname(repo);
  for (let i = 0; i < 4; i++) {
    const candidate = join(dir, "shared", "datasets", "covidfaq");
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return join(dirname(repo), "shared", "datasets", "covidfaq");
}

interface Faq {
  id: string;
  question: string;
  answer: string;
}

const jsonl = async <T>(path: string): Promise<T[]> =>
  (await readFile(path, "utf8"))
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as T);

/** Writes the knowledge folder and questions file; returns their paths (remove `dir` when done). */
export async function prepareCovidfaq(): Promise<{
  dir: string;
  knowledge: string;
  questions: string;
} | null> {
  if (!existsSync(join(covidfaqDir, "faqs.jsonl"))) return null;
  const dir = await mkdtemp(join(tmpdir(), "covidfaq-"));
  const knowledge = join(dir, "knowledge");
  await mkdir(knowledge);
  for (const faq of await jsonl<Faq>(join(covidfaqDir, "faqs.jsonl"))) {
    // JSON strings are valid YAML scalars: the question is written safely whatever it contains.
    await writeFile(
      join(knowledge, `${faq.id}.md`),
      `---\ntitle: ${JSON.stringify(faq.question)}\n---\n${faq.answer}\n`,
    );
  }
  const queries = await jsonl<{ query: string; faq_id: string }>(join(covidfaqDir, "queries.jsonl"));
  const questions = join(dir, "questions.jsonl");
  await writeFile(
    questions,
    queries.map((q) => JSON.stringify({ question: q.query, expected: `${q.faq_id}.md` })).join("\n"),
  );
  return { dir, knowledge, questions };
}

async function main(): Promise<number> {
  const prepared = await prepareCovidfaq();
  if (!prepared) {
    process.stderr.write(`covidfaq: data set not found at ${covidfaqDir}; skipping\n`);
    return 0;
  }
  try {
    const json = process.argv.slice(2).filter((a) => a === "--json" || a === "--word-vectors");
    return await runKb(
      ["eval", "--knowledge", prepared.knowledge, "--questions", prepared.questions, ...json],
      {
        stdout: process.stdout,
        stderr: process.stderr,
      },
    );
  } finally {
    await rm(prepared.dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main();
}
