/**
 * Knowledge retrieval: speed on a generated folder of 10,000 chunks (2,000 articles of 5 sections):
 * index build time from files, re-index time after one edit, search latency (p50/p99 over 1,000
 * questions, through `retrieve()` with the default budget) and memory. Lexical retrieval only: dense
 * retrieval's cost is the operator's embedding model. Then quality on CovidFAQ and the comparison of
 * BM25 libraries (bench/lexical-libraries.ts).
 *
 *   npx tsx bench/knowledge-bench.ts [--json]
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createKnowledgeBase } from "../src/knowledge/knowledge-base.ts";
import { type EvalResult, evaluateRetrieval, parseQuestions } from "../src/knowledge/retrieval-eval.ts";
import { createLogger } from "../src/logger.ts";
import { prepareCovidfaq } from "./covidfaq-eval.ts";
import { runLexicalLibrariesBench } from "./lexical-libraries.ts";
import { percentile, round, say, table } from "./stats.ts";

const ARTICLES = 2000;
const SECTIONS = 5;
const QUESTIONS = 1000;

/** Deterministic pseudo-random numbers (mulberry32), so every run indexes the same folder. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A vocabulary of made-up words with a Zipf-like frequency, as in real text. */
function vocabulary(random: () => number, size = 8000): () => string {
  const syllables = [
    "ka",
    "lo",
    "mi",
    "ne",
    "ru",
    "sa",
    "te",
    "vo",
    "pri",
    "der",
    "shi",
    "ton",
    "bel",
    "gar",
  ];
  const words = Array.from({ length: size }, () => {
    const n = 2 + Math.floor(random() * 3);
    return Array.from({ length: n }, () => syllables[Math.floor(random() * syllables.length)]).join("");
  });
  return () => words[Math.min(size - 1, Math.floor(size * random() ** 3))] ?? "ka";
}

async function generateFolder(dir: string): Promise<() => string> {
  const random = rng(42);
  const word = vocabulary(random);
  const sentence = (n: number) => Array.from({ length: n }, word).join(" ");
  for (let a = 0; a < ARTICLES; a++) {
    const folder = join(dir, `topic-${a % 20}`);
    if (a < 20) await mkdir(folder, { recursive: true });
    const sections = Array.from(
      { length: SECTIONS - 1 },
      (_, s) => `## ${sentence(3)} ${s}\n\n${sentence(40)}.\n\n${sentence(30)}.\n`,
    );
    await writeFile(
      join(folder, `article-${a}.md`),
      `---\ntitle: ${sentence(4)}\ntags: [${word()}, ${word()}]\n---\n\n${sentence(35)}.\n\n${sections.join("\n")}`,
    );
  }
  return () => sentence(3 + Math.floor(random() * 6));
}

/** Speed on the generated folder. */
export async function runSpeed(json: boolean): Promise<Record<string, unknown>> {
  const dir = await mkdtemp(join(tmpdir(), "kb-bench-"));
  try {
    const question = await generateFolder(dir);
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    // CPU time too: on a shared machine wall time also counts other processes' turns.
    const cpuMs = () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    };
    const t0 = performance.now();
    const c0 = cpuMs();
    const kb = await createKnowledgeBase({ dir, logger: createLogger({ level: "silent" }) });
    const buildMs = performance.now() - t0;
    const buildCpuMs = cpuMs() - c0;
    global.gc?.();
    const memory = process.memoryUsage();
    const heapMb = (memory.heapUsed - heapBefore) / 2 ** 20;
    const stats = kb.stats();

    // One edited file: only it is re-read, but the index is rebuilt whole (the atomic swap).
    await writeFile(join(dir, "topic-0", "article-0.md"), "---\ntitle: Edited\n---\nOne edited article.\n");
    const t1 = performance.now();
    const c1 = cpuMs();
    await kb.reload();
    const reloadMs = performance.now() - t1;
    const reloadCpuMs = cpuMs() - c1;

    for (let i = 0; i < 50; i++) await kb.retrieve(question(), { tokenBudget: 1200 });
    const latencies: number[] = [];
    let returned = 0;
    const c2 = cpuMs();
    for (let i = 0; i < QUESTIONS; i++) {
      const q = question();
      const s = performance.now();
      returned += (await kb.retrieve(q, { tokenBudget: 1200 })).snippets.length;
      latencies.push(performance.now() - s);
    }
    const searchCpuMs = (cpuMs() - c2) / QUESTIONS;
    await kb.close();

    const result = {
      files: stats.files,
      chunks: stats.chunks,
      tokens: stats.tokens,
      buildMs: round(buildMs),
      buildCpuMs: round(buildCpuMs),
      reloadAfterOneEditMs: round(reloadMs),
      reloadAfterOneEditCpuMs: round(reloadCpuMs),
      searchP50Ms: round(percentile(latencies, 50), 2),
      searchP99Ms: round(percentile(latencies, 99), 2),
      searchMeanCpuMs: round(searchCpuMs, 2),
      snippetsPerAnswer: round(returned / QUESTIONS, 2),
      indexHeapMb: round(heapMb),
      rssMb: round(memory.rss / 2 ** 20),
    };
    say(
      json,
      table(
        [
          "files",
          "chunks",
          "build ms (cpu ms)",
          "reload after 1 edit ms (cpu ms)",
          "search p50 ms",
          "search p99 ms",
          "search mean cpu ms",
          "index heap MB",
          "RSS MB",
        ],
        [
          [
            result.files,
            result.chunks,
            `${result.buildMs} (${result.buildCpuMs})`,
            `${result.reloadAfterOneEditMs} (${result.reloadAfterOneEditCpuMs})`,
            result.searchP50Ms,
            result.searchP99Ms,
            result.searchMeanCpuMs,
            result.indexHeapMb,
            result.rssMb,
          ],
        ],
      ),
    );
    return result;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** recall@1, recall@5 and MRR@10 on CovidFAQ, lexical only and with offline word vectors. */
async function runQuality(json: boolean): Promise<Record<string, unknown>> {
  const prepared = await prepareCovidfaq();
  if (!prepared) {
    say(json, "CovidFAQ not found at ../shared/datasets/covidfaq: quality skipped");
    return { skipped: true };
  }
  try {
    const questions = parseQuestions(await readFile(prepared.questions, "utf8"));
    const out: Record<string, EvalResult> = {};
    for (const [name, wordVectors] of [
      ["bm25", false],
      ["bm25+word-vectors", true],
    ] as const) {
      const kb = await createKnowledgeBase({
        dir: prepared.knowledge,
        wordVectors,
        logger: createLogger({ level: "silent" }),
      });
      out[name] = await evaluateRetrieval(kb, questions);
      await kb.close();
    }
    const rows = Object.entries(out).map(([name, r]) => [
      name,
      r.questions,
      r["recall@1"],
      r["recall@5"],
      r["mrr@10"],
    ]);
    rows.push(["file-level BM25 baseline (given)", 1387, 0.337, 0.689, 0.487]);
    say(json, table(["CovidFAQ", "questions", "recall@1", "recall@5", "MRR@10"], rows));
    return out;
  } finally {
    await rm(prepared.dir, { recursive: true, force: true });
  }
}

/** `npm run bench -- --only knowledge`: speed, CovidFAQ quality, and the lexical library comparison. */
export async function runKnowledgeBench(json = false): Promise<Record<string, unknown>> {
  const speed = await runSpeed(json);
  const covidfaq = await runQuality(json);
  const libraries = await runLexicalLibrariesBench(json);
  return { speed, covidfaq, libraries };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const json = process.argv.includes("--json");
  const result = await runKnowledgeBench(json);
  if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
}
