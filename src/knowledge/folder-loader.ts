import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { chunkDocument } from "./chunker.ts";
import { isKnowledgeFile, loadDocument } from "./document-loader.ts";
import type { Chunk, KnowledgeDocument, KnowledgeProblem } from "./knowledge-document.ts";

/** Everything read from the folder in one pass. */
export interface FolderSnapshot {
  /** Whether the folder exists and could be listed. */
  exists: boolean;
  documents: KnowledgeDocument[];
  chunks: Chunk[];
  /** Every problem, errors (file skipped) and warnings (file kept). */
  problems: KnowledgeProblem[];
  /** Paths of files skipped because of an error. */
  skipped: string[];
}

export interface FolderLoaderOptions {
  /** Largest chunk in estimated tokens. @defaultValue 256 */
  maxChunkTokens?: number;
  /** Paths relative to the folder (files or whole subfolders) that are not read. @defaultValue [] */
  exclude?: readonly string[];
}

/** Files read at once. */
const readConcurrency = 16;

/** One file as last read: kept by modification time and size, and persisted with the index. */
export interface CachedFile {
  mtimeMs: number;
  size: number;
  document?: KnowledgeDocument;
  chunks: Chunk[];
  problems: KnowledgeProblem[];
}

async function listFiles(dir: string, exclude: readonly string[]): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files: string[] = [];
  for (const e of entries) {
    if (!e.isFile()) continue;
    const rel = relative(dir, join(e.parentPath, e.name)).split(sep).join("/");
    // Hidden folders (.git, editors' swap folders) are never knowledge.
    if (rel.split("/").some((part) => part.startsWith("."))) continue;
    if (exclude.some((x) => rel === x || rel.startsWith(`${x}/`))) continue;
    if (isKnowledgeFile(rel)) files.push(rel);
  }
  return files.sort();
}

/**
 * Reads a knowledge folder and remembers each file's parse by modification time and size, so a
 * reload after one edit re-reads one file.
 */
export class FolderLoader {
  readonly dir: string;
  readonly #maxChunkTokens: number;
  readonly #exclude: string[];
  #cache = new Map<string, CachedFile>();

  constructor(dir: string, { maxChunkTokens = 256, exclude = [] }: FolderLoaderOptions = {}) {
    this.dir = dir;
    this.#maxChunkTokens = maxChunkTokens;
    // Normalised like listed paths: forward slashes, no leading "./" or trailing "/".
    this.#exclude = exclude.map((x) => x.replace(/\\/g, "/").replace(/^\.\//, "").replace(/\/+$/, ""));
  }

  /** Every file as last read, for persisting. */
  entries(): [string, CachedFile][] {
    return [...this.#cache.entries()];
  }

  /** Takes files read by an earlier process: those unchanged since (same mtime and size) are not read again. */
  restore(entries: Iterable<[string, CachedFile]>): void {
    for (const [path, entry] of entries) this.#cache.set(path, entry);
  }

  /** @param onProgress called after each file with (done, total). */
  async load(onProgress?: (done: number, total: number) => void): Promise<FolderSnapshot> {
    let files: string[];
    try {
      files = await listFiles(this.dir, this.#exclude);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") {
        this.#cache.clear();
        return { exists: false, documents: [], chunks: [], problems: [], skipped: [] };
      }
      throw error;
    }
    const entries: CachedFile[] = new Array(files.length);
    let done = 0;
    let cursor = 0;
    // Several files in flight: reading is I/O-bound and one file at a time leaves the CPU idle
    // between reads (2,000 files: ~1 s of waiting). Order is kept by index, not by completion.
    const worker = async () => {
      while (cursor < files.length) {
        const i = cursor++;
        entries[i] = await this.#loadFile(files[i] as string);
        onProgress?.(++done, files.length);
      }
    };
    await Promise.all(Array.from({ length: Math.min(readConcurrency, files.length) }, worker));
    const next = new Map<string, CachedFile>(files.map((path, i) => [path, entries[i] as CachedFile]));
    this.#cache = next;
    return this.snapshot();
  }

  /**
   * Re-reads the given files only (relative paths, as the watcher reports them): changed ones are
   * parsed again, deleted ones leave, others keep their entry. For a folder of thousands of files
   * this spares a stat of every one of them.
   */
  async loadPaths(paths: Iterable<string>): Promise<FolderSnapshot> {
    for (const path of paths) {
      const listed =
        isKnowledgeFile(path) &&
        !path.split("/").some((part) => part.startsWith(".")) &&
        !this.#exclude.some((x) => path === x || path.startsWith(`${x}/`));
      if (!listed) continue;
      const entry = await this.#loadFile(path);
      // A file that is gone is no longer listed; any other failure is kept as a problem, as load() does.
      if (entry.size === -1 && entry.problems[0]?.message.includes("ENOENT")) this.#cache.delete(path);
      else this.#cache.set(path, entry);
    }
    // Listed in path order, like load().
    this.#cache = new Map([...this.#cache.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    return this.snapshot();
  }

  /** What the files as last read (or restored) hold, without looking at the folder. */
  snapshot(): FolderSnapshot {
    const snapshot: FolderSnapshot = { exists: true, documents: [], chunks: [], problems: [], skipped: [] };
    for (const [path, entry] of this.#cache) {
      snapshot.problems.push(...entry.problems);
      if (entry.document) {
        snapshot.documents.push(entry.document);
        snapshot.chunks.push(...entry.chunks);
      } else {
        snapshot.skipped.push(path);
      }
    }
    return snapshot;
  }

  async #loadFile(path: string): Promise<CachedFile> {
    const full = join(this.dir, path);
    try {
      const info = await stat(full);
      const cached = this.#cache.get(path);
      if (cached && cached.mtimeMs === info.mtimeMs && cached.size === info.size) return cached;
      const result = loadDocument(path, await readFile(full));
      const chunks = result.document
        ? chunkDocument(result.document, { maxTokens: this.#maxChunkTokens })
        : [];
      const entry: CachedFile = { mtimeMs: info.mtimeMs, size: info.size, chunks, problems: result.problems };
      // The chunks hold the text now: the document keeps its metadata, not a second copy of its lines.
      if (result.document) entry.document = { ...result.document, lines: [] };
      return entry;
    } catch (error) {
      const message = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      return {
        mtimeMs: 0,
        size: -1,
        chunks: [],
        problems: [{ path, line: 1, severity: "error", message: `unreadable file (${message})` }],
      };
    }
  }
}
