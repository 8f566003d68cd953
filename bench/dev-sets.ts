/**
 * Development sets for the answerability decision, built as issue 17 says: take a collection, remove
 * a fifth of its files (seeded, so every run removes the same ones), keep the removed files'
 * questions as "should abstain", and add off-topic questions. Collections: CovidFAQ (from
 * ../shared/datasets, when present), the English sample folder, and the multilingual sample folder.
 */
import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type EvalQuestion, parseQuestions } from "../src/knowledge/retrieval-eval.ts";
import { prepareCovidfaq } from "./covidfaq-eval.ts";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const questionsDir = join(repo, "test/integration/knowledge");

export interface DevCollection {
  name: string;
  /** The folder with a fifth of its files removed. */
  knowledge: string;
  /** Questions whose file is still there. */
  answerable: EvalQuestion[];
  /** Questions whose file was removed: the bot should refuse them. */
  missing: EvalQuestion[];
  offTopic: EvalQuestion[];
}

export interface Source {
  name: string;
  /** The whole folder. */
  dir: string;
  questions: EvalQuestion[];
}

/** Deterministic pseudo-random numbers (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const readQuestions = async (file: string, requireExpected = true) =>
  parseQuestions(await readFile(file, "utf8"), file, requireExpected);

/** The question sets of the multilingual sample folder, one file per language. */
export const intlLanguages = ["zh", "fr", "de", "es", "pt", "ja"] as const;

/** The collections the sets are made from; `cleanup` removes CovidFAQ's temporary folder. */
export async function devSources(): Promise<{ sources: Source[]; cleanup: () => Promise<void> }> {
  const sources: Source[] = [];
  const covid = await prepareCovidfaq();
  if (covid) {
    sources.push({ name: "covidfaq", dir: covid.knowledge, questions: await readQuestions(covid.questions) });
  }
  sources.push({
    name: "sample-en",
    dir: join(repo, "knowledge"),
    questions: await readQuestions(join(questionsDir, "sample-questions.jsonl")),
  });
  const intl = join(repo, "knowledge-intl");
  if (existsSync(intl)) {
    const questions: EvalQuestion[] = [];
    for (const lang of intlLanguages) {
      const file = join(questionsDir, `questions-${lang}.jsonl`);
      if (existsSync(file)) questions.push(...(await readQuestions(file)));
    }
    sources.push({ name: "sample-intl", dir: intl, questions });
  }
  return {
    sources,
    cleanup: async () => void (covid && (await rm(covid.dir, { recursive: true, force: true }))),
  };
}

export async function offTopicQuestions(): Promise<EvalQuestion[]> {
  return readQuestions(join(questionsDir, "off-topic-questions.jsonl"), false);
}

/**
 * Copies a source without a fifth of the files its questions expect (chosen by `seed`) into a new
 * folder under `root`, and splits its questions into answerable and missing.
 */
export async function withoutAFifth(
  source: Source,
  seed: number,
  root: string,
  offTopic: EvalQuestion[],
): Promise<DevCollection> {
  const files = [...new Set(source.questions.map((q) => q.expected ?? ""))].sort();
  const random = rng(seed);
  const shuffled = files
    .map((f) => [random(), f] as const)
    .sort((a, b) => a[0] - b[0])
    .map(([, f]) => f);
  const removed = new Set(shuffled.slice(0, Math.max(1, Math.round(files.length / 5))));
  const knowledge = join(root, `${source.name}-${seed}`);
  await mkdir(knowledge, { recursive: true });
  await cp(source.dir, knowledge, {
    recursive: true,
    filter: (src) => {
      const rel = src
        .slice(source.dir.length + 1)
        .split("\\")
        .join("/");
      return !removed.has(rel);
    },
  });
  return {
    name: `${source.name}#${seed}`,
    knowledge,
    answerable: source.questions.filter((q) => !removed.has(q.expected ?? "")),
    missing: source.questions.filter((q) => removed.has(q.expected ?? "")).map(({ expected: _, ...q }) => q),
    offTopic,
  };
}

/** Every source, each with a fifth removed once per seed; remove `root` when done. */
export async function buildDevCollections(seeds: readonly number[] = [1]): Promise<{
  root: string;
  collections: DevCollection[];
  cleanup: () => Promise<void>;
}> {
  const root = await mkdtemp(join(tmpdir(), "kb-dev-"));
  const { sources, cleanup } = await devSources();
  const offTopic = await offTopicQuestions();
  const collections: DevCollection[] = [];
  for (const source of sources) {
    for (const seed of seeds) collections.push(await withoutAFifth(source, seed, root, offTopic));
  }
  return {
    root,
    collections,
    cleanup: async () => {
      await cleanup();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Writes a set as JSONL in `kb eval` form (for running the same figures through the CLI). */
export async function writeQuestions(file: string, questions: readonly EvalQuestion[]): Promise<void> {
  await writeFile(file, `${questions.map((q) => JSON.stringify(q)).join("\n")}\n`);
}
