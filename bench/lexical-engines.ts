/**
 * The lexical engine, chosen by measurement: the same chunks and the same analyzed terms (the
 * project's analyzer: stop words, stems, segmentation) in our own compact BM25F index, MiniSearch,
 * SQLite FTS5 (better-sqlite3) and LanceDB's full-text index, side by side. Each is timed building
 * the index (analysis included), applying a one-file edit, and answering questions (p50/p99 wall
 * time and CPU time per search), and judged on CovidFAQ's recall. Engines whose package is missing
 * are reported as such.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import MiniSearch from "minisearch";
import type { Chunk } from "../src/knowledge/knowledge-document.ts";
import { fieldBoosts, LexicalIndex } from "../src/knowledge/lexical-index.ts";
import { analyzerFor } from "../src/knowledge/text-analyzer.ts";
import { percentile, round } from "./stats.ts";

export interface Engine {
  name: string;
  build(chunks: readonly Chunk[]): Promise<void>;
  update(added: readonly Chunk[], removed: readonly Chunk[]): Promise<void>;
  /** Chunk ids, best first. */
  search(terms: readonly string[], limit: number): Promise<string[]>;
  close(): Promise<void>;
}

const fields = (c: Chunk) => {
  const a = analyzerFor(c.lang);
  return {
    id: c.id,
    title: a.terms(c.title).join(" "),
    headings: a.terms(c.headingPath.join("\n")).join(" "),
    tags: a.terms(c.tags.join("\n")).join(" "),
    text: a.terms(c.text).join(" "),
  };
};

function ownEngine(): Engine {
  let index = new LexicalIndex("en");
  return {
    name: "own BM25F (product)",
    async build(chunks) {
      index = new LexicalIndex(chunks[0]?.lang ?? "en", chunks);
    },
    async update(added, removed) {
      index.update(added, removed);
    },
    async search(terms, limit) {
      return index.search(terms, limit).hits.map((h) => h.id);
    },
    async close() {},
  };
}

function miniSearchEngine(): Engine {
  const make = () =>
    new MiniSearch<ReturnType<typeof fields>>({
      fields: ["title", "headings", "tags", "text"],
      // Terms arrive analyzed: split on spaces, nothing more.
      tokenize: (t) => t.split(" ").filter((x) => x.length > 0),
      processTerm: (t) => t,
    });
  let ms = make();
  const docs = new Map<string, ReturnType<typeof fields>>();
  return {
    name: "MiniSearch 7.2",
    async build(chunks) {
      ms = make();
      const all = chunks.map(fields);
      for (const d of all) docs.set(d.id, d);
      ms.addAll(all);
    },
    async update(added, removed) {
      for (const c of removed) {
        const d = docs.get(c.id);
        if (d) ms.remove(d);
        docs.delete(c.id);
      }
      const all = added.map(fields);
      for (const d of all) docs.set(d.id, d);
      ms.addAll(all);
    },
    async search(terms, limit) {
      return (
        ms
          // No typo matching: every bench question word is in the index, and the product index only
          // looks for typos of words the folder does not use.
          .search(terms.join(" "), { boost: fieldBoosts, combineWith: "OR" })
          .slice(0, limit)
          .map((r) => String(r.id))
      );
    },
    async close() {},
  };
}

async function sqliteEngine(): Promise<Engine | string> {
  let Database: typeof import("better-sqlite3").default;
  try {
    Database = (await import("better-sqlite3")).default;
  } catch {
    return "better-sqlite3 not installed";
  }
  const db = new Database(":memory:");
  db.exec(
    "CREATE VIRTUAL TABLE chunks USING fts5(id UNINDEXED, title, headings, tags, text, tokenize = 'unicode61 remove_diacritics 0')",
  );
  const insert = db.prepare(
    "INSERT INTO chunks (id, title, headings, tags, text) VALUES (@id, @title, @headings, @tags, @text)",
  );
  const remove = db.prepare("DELETE FROM chunks WHERE id = ?");
  const addAll = db.transaction((chunks: readonly Chunk[]) => {
    for (const c of chunks) insert.run(fields(c));
  });
  const change = db.transaction((added: readonly Chunk[], removed: readonly Chunk[]) => {
    for (const c of removed) remove.run(c.id);
    for (const c of added) insert.run(fields(c));
  });
  const { title, headings, tags, text } = fieldBoosts;
  const query = db.prepare(
    `SELECT id FROM chunks WHERE chunks MATCH ? ORDER BY bm25(chunks, 0, ${title}, ${headings}, ${tags}, ${text}) LIMIT ?`,
  );
  return {
    name: "SQLite FTS5 (better-sqlite3 12)",
    async build(chunks) {
      db.exec("DELETE FROM chunks");
      addAll(chunks);
    },
    async update(added, removed) {
      change(added, removed);
    },
    async search(terms, limit) {
      if (terms.length === 0) return [];
      const match = terms.map((t) => `"${t.replaceAll('"', '""')}"`).join(" OR ");
      return (query.all(match, limit) as { id: string }[]).map((r) => r.id);
    },
    async close() {
      db.close();
    },
  };
}

async function lanceEngine(): Promise<Engine | string> {
  let lancedb: typeof import("@lancedb/lancedb");
  try {
    lancedb = await import("@lancedb/lancedb");
  } catch {
    return "@lancedb/lancedb not installed";
  }
  const dir = await mkdtemp(join(tmpdir(), "lance-"));
  const db = await lancedb.connect(dir);
  // One indexed column: the title repeated 3 times and headings and tags twice stand in for boosts.
  const row = (c: Chunk) => {
    const f = fields(c);
    return {
      id: c.id,
      text: [f.title, f.title, f.title, f.headings, f.headings, f.tags, f.tags, f.text].join(" "),
    };
  };
  let table: Awaited<ReturnType<typeof db.createTable>> | undefined;
  return {
    name: "LanceDB FTS 0.31",
    async build(chunks) {
      table = await db.createTable("chunks", chunks.map(row), { mode: "overwrite" });
      await table.createIndex("text", { config: lancedb.Index.fts({ withPosition: false }) });
    },
    async update(added, removed) {
      if (!table) return;
      if (removed.length > 0) {
        await table.delete(`id IN (${removed.map((c) => `'${c.id.replaceAll("'", "''")}'`).join(", ")})`);
      }
      if (added.length > 0) await table.add(added.map(row));
      // New rows are searched unindexed until the index is optimised; optimise so search stays indexed.
      await table.optimize();
    },
    async search(terms, limit) {
      if (!table || terms.length === 0) return [];
      const rows = (await table.search(terms.join(" "), "fts").limit(limit).toArray()) as { id: string }[];
      return rows.map((r) => r.id);
    },
    async close() {
      table?.close();
      db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function engines(): Promise<(Engine | { name: string; missing: string })[]> {
  const out: (Engine | { name: string; missing: string })[] = [ownEngine(), miniSearchEngine()];
  const sqlite = await sqliteEngine();
  out.push(typeof sqlite === "string" ? { name: "SQLite FTS5", missing: sqlite } : sqlite);
  const lance = await lanceEngine();
  out.push(typeof lance === "string" ? { name: "LanceDB FTS", missing: lance } : lance);
  return out;
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

export interface EngineSpeed {
  chunks: number;
  buildMs: number;
  updateMs: number;
  searchP50Ms: number;
  searchP99Ms: number;
  searchP99CpuMs: number;
  searchMeanCpuMs: number;
}

/** Times one engine on a corpus: build, a one-file edit, and the questions. */
export async function timeEngine(
  engine: Engine,
  chunks: readonly Chunk[],
  edit: { added: Chunk[]; removed: Chunk[] },
  questions: readonly string[][],
): Promise<EngineSpeed> {
  const t0 = performance.now();
  await engine.build(chunks);
  const buildMs = performance.now() - t0;
  const t1 = performance.now();
  await engine.update(edit.added, edit.removed);
  const updateMs = performance.now() - t1;
  for (const q of questions.slice(0, 50)) await engine.search(q, 50);
  const wall: number[] = [];
  const cpu: number[] = [];
  for (const q of questions) {
    const c = cpuMs();
    const s = performance.now();
    await engine.search(q, 50);
    wall.push(performance.now() - s);
    cpu.push(cpuMs() - c);
  }
  return {
    chunks: chunks.length,
    buildMs: round(buildMs),
    updateMs: round(updateMs, 2),
    searchP50Ms: round(percentile(wall, 50), 2),
    searchP99Ms: round(percentile(wall, 99), 2),
    searchP99CpuMs: round(percentile(cpu, 99), 2),
    searchMeanCpuMs: round(cpu.reduce((a, b) => a + b, 0) / Math.max(1, cpu.length), 3),
  };
}
