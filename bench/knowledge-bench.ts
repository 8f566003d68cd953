/**
 * Knowledge retrieval, every figure of issue 17's Measure section and issue 23's retrieval figures:
 *
 * 1. Speed through the product path (files -> KnowledgeBase -> retrieve()) on generated folders of
 *    ~700 and 10,000 chunks in English and 10,000 in Chinese (word segmentation): index build, restart
 *    with the persisted index, reload after one edited file, search p50/p99 (wall and CPU) and memory.
 * 2. The lexical engines side by side at 700 and 10,000 chunks (bench/lexical-engines.ts), with
 *    CovidFAQ recall per engine.
 * 3. Quality: CovidFAQ (BM25, BM25 + word vectors), the sample folder, and `kb eval` per language on
 *    the multilingual sample folder (recall@1, recall@5, abstention on off-topic questions).
 * 4. Answerability on the development sets (bench/dev-sets.ts): answered right, missing topics and
 *    off-topic questions refused, with the decision and without it (relevance floor only).
 *
 *   npx tsx --expose-gc bench/knowledge-bench.ts [--json]
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { FolderLoader } from "../src/knowledge/folder-loader.ts";
import { createKnowledgeBase, type ReloadInfo } from "../src/knowledge/knowledge-base.ts";
import { analyzerFor } from "../src/knowledge/text-analyzer.ts";
import { createLogger } from "../src/logger.ts";
import { generateFolder, SECTIONS } from "./generated-folder.ts";
import { runKnowledgeQuality } from "./knowledge-quality.ts";
import { engines, timeEngine } from "./lexical-engines.ts";
import { percentile, round, say, table } from "./stats.ts";

const QUESTIONS = 1000;
const logger = createLogger({ level: "silent" });
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Speed through the product path on a generated folder. */
export async function runSpeed(
  articles: number,
  lang: "en" | "zh",
): Promise<Record<string, number | string>> {
  const dir = await mkdtemp(join(tmpdir(), "kb-bench-"));
  const knowledge = join(dir, "knowledge");
  const indexCache = join(dir, "index-cache");
  try {
    const question = await generateFolder(knowledge, articles, lang);
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    const c0 = cpuMs();
    const kb = await createKnowledgeBase({ dir: knowledge, logger, indexCache });
    const buildMs = performance.now() - t0;
    const buildCpuMs = cpuMs() - c0;
    global.gc?.();
    const memory = process.memoryUsage();
    const stats = kb.stats();

    // One edited file: only it is re-read and re-analyzed; the index changes in place.
    await writeFile(
      join(knowledge, "topic-0", "article-0.md"),
      "---\ntitle: Edited\n---\nOne edited article.\n",
    );
    const t1 = performance.now();
    const c1 = cpuMs();
    await kb.reload();
    const reloadMs = performance.now() - t1;
    const reloadCpuMs = cpuMs() - c1;

    for (let i = 0; i < 50; i++) await kb.retrieve(question(), { tokenBudget: 1200 });
    const wall: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < QUESTIONS; i++) {
      const q = question();
      const c = cpuMs();
      const s = performance.now();
      await kb.retrieve(q, { tokenBudget: 1200 });
      wall.push(performance.now() - s);
      cpu.push(cpuMs() - c);
    }
    await kb.close();

    // A restart: the persisted analysis of unchanged files makes the index ready without re-reading them.
    const t2 = performance.now();
    const c3 = cpuMs();
    const again = await createKnowledgeBase({ dir: knowledge, logger, indexCache });
    const restartMs = performance.now() - t2;
    const restartCpuMs = cpuMs() - c3;
    await again.close();

    // As the gateway runs: watching the folder, an edited file is re-read alone. Five edits, each
    // timed from the start of the reload it caused to the new index serving (ReloadInfo.ms).
    const watched = await createKnowledgeBase({ dir: knowledge, logger, indexCache, watch: true });
    const watchedMs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const reloaded = new Promise<ReloadInfo>((r) => {
        const listener = (info: ReloadInfo) => {
          watched.off("reload", listener);
          r(info);
        };
        watched.on("reload", listener);
      });
      await writeFile(
        join(knowledge, "topic-1", "article-1.md"),
        `---\ntitle: Edit ${i}\n---\nEdit number ${i}.\n`,
      );
      watchedMs.push((await reloaded).ms);
    }
    await watched.close();
    return {
      lang,
      files: stats.files,
      chunks: stats.chunks,
      buildMs: round(buildMs),
      buildCpuMs: round(buildCpuMs),
      restartMs: round(restartMs),
      restartCpuMs: round(restartCpuMs),
      reloadAfterOneEditMs: round(reloadMs),
      watchedReloadMedianMs: round(percentile(watchedMs, 50)),
      watchedReloadMaxMs: round(Math.max(...watchedMs)),
      reloadAfterOneEditCpuMs: round(reloadCpuMs),
      searchP50Ms: round(percentile(wall, 50), 2),
      searchP99Ms: round(percentile(wall, 99), 2),
      searchP99CpuMs: round(percentile(cpu, 99), 2),
      searchMeanCpuMs: round(cpu.reduce((a, b) => a + b, 0) / QUESTIONS, 3),
      indexHeapMb: round((memory.heapUsed - heapBefore) / 2 ** 20),
      rssMb: round(memory.rss / 2 ** 20),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The lexical engines side by side on the same generated chunks. */
async function runEngines(json: boolean): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const rows: (string | number)[][] = [];
  for (const articles of [140, 2000]) {
    const dir = await mkdtemp(join(tmpdir(), "kb-engines-"));
    try {
      const question = await generateFolder(dir, articles);
      const loader = new FolderLoader(dir);
      const { chunks } = await loader.load();
      const edited = chunks.filter((c) => c.path === "topic-0/article-0.md");
      const replacement = edited.map((c) => ({ ...c, text: `${c.text} edited`, hash: `${c.hash}-edited` }));
      const analyzer = analyzerFor("en");
      const questions = Array.from({ length: QUESTIONS }, () => [...new Set(analyzer.terms(question()))]);
      for (const engine of await engines()) {
        const key = `${engine.name}@${chunks.length}`;
        if ("missing" in engine) {
          out[key] = { missing: engine.missing };
          rows.push([engine.name, chunks.length, engine.missing, "", "", "", "", ""]);
          continue;
        }
        global.gc?.();
        const r = await timeEngine(engine, chunks, { added: replacement, removed: edited }, questions);
        await engine.close();
        out[key] = r;
        rows.push([
          engine.name,
          r.chunks,
          r.buildMs,
          r.updateMs,
          r.searchP50Ms,
          r.searchP99Ms,
          r.searchP99CpuMs,
          r.searchMeanCpuMs,
        ]);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  say(
    json,
    table(
      [
        "engine",
        "chunks",
        "build ms (analysis incl.)",
        "1-file edit ms",
        "search p50 ms",
        "search p99 ms",
        "search p99 cpu ms",
        "search mean cpu ms",
      ],
      rows,
    ),
  );
  return out;
}

/** `npm run bench -- --only knowledge`: speed, engines, quality, answerability. */
export async function runKnowledgeBench(json = false): Promise<Record<string, unknown>> {
  const speed = [];
  for (const [articles, lang] of [
    [140, "en"],
    [2000, "en"],
    [2000, "zh"],
  ] as const) {
    speed.push(await runSpeed(articles, lang));
  }
  say(
    json,
    `\nSpeed through the product path (generated folders, ${SECTIONS} chunks per file; 2 shared cores):`,
  );
  say(
    json,
    table(
      [
        "lang",
        "files",
        "chunks",
        "build ms (cpu)",
        "restart ms (cpu), persisted index",
        "full reload after 1 edit ms (cpu)",
        "watched 1-edit reload ms (median/max of 5)",
        "search p50 ms",
        "search p99 ms",
        "p99 cpu ms",
        "mean cpu ms",
        "heap MB",
        "RSS MB",
      ],
      speed.map((r) => [
        r.lang ?? "",
        r.files ?? 0,
        r.chunks ?? 0,
        `${r.buildMs} (${r.buildCpuMs})`,
        `${r.restartMs} (${r.restartCpuMs})`,
        `${r.reloadAfterOneEditMs} (${r.reloadAfterOneEditCpuMs})`,
        `${r.watchedReloadMedianMs}/${r.watchedReloadMaxMs}`,
        r.searchP50Ms ?? 0,
        r.searchP99Ms ?? 0,
        r.searchP99CpuMs ?? 0,
        r.searchMeanCpuMs ?? 0,
        r.indexHeapMb ?? 0,
        r.rssMb ?? 0,
      ]),
    ),
  );
  say(json, "\nLexical engines side by side (same chunks, same analyzed terms):");
  const lexicalEngines = await runEngines(json);
  const quality = await runKnowledgeQuality(json);
  return { speed, engines: lexicalEngines, ...quality };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const json = process.argv.includes("--json");
  const result = await runKnowledgeBench(json);
  if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
}
