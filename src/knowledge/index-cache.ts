import { createHash } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { deserialize, serialize } from "node:v8";
import type { Logger } from "../logger.ts";
import type { CachedFile } from "./folder-loader.ts";
import type { LexicalSnapshot } from "./lexical-index.ts";

/**
 * The persisted index of one knowledge folder (KNOWLEDGE_INDEX_CACHE): every file as last read
 * (modification time, size, parse, chunks) and the lexical indexes themselves (dictionary, postings,
 * per-chunk statistics, as typed arrays). A restart stats the files, takes the index as it was, and
 * then applies only what changed since, like any reload: no file is read or analyzed again unless it
 * changed. Written with V8's serializer, which moves typed arrays in bulk.
 */
export interface PersistedIndex {
  files: [string, CachedFile][];
  lexical: LexicalSnapshot[];
}

interface Persisted extends PersistedIndex {
  v: typeof VERSION;
  dir: string;
}

/** Bump when the analysis, the index layout or this format changes: an old cache is then ignored. */
const VERSION = 1;

/** The cache file of a folder inside the cache directory (one per folder: tenants have their own). */
export function indexCacheFile(cacheDir: string, knowledgeDir: string): string {
  const id = createHash("sha256").update(resolve(knowledgeDir)).digest("hex").slice(0, 16);
  return join(cacheDir, `knowledge-${id}.v8`);
}

/** The persisted index of this folder, or undefined (none yet, another version, unreadable). */
export async function readIndexCache(
  file: string,
  knowledgeDir: string,
): Promise<PersistedIndex | undefined> {
  try {
    const data = deserialize(await readFile(file)) as Persisted;
    if (data?.v !== VERSION || data.dir !== resolve(knowledgeDir)) return undefined;
    return { files: data.files, lexical: data.lexical };
  } catch {
    return undefined;
  }
}

export async function writeIndexCache(
  file: string,
  knowledgeDir: string,
  index: PersistedIndex,
): Promise<void> {
  const data: Persisted = { v: VERSION, dir: resolve(knowledgeDir), ...index };
  await mkdir(dirname(file), { recursive: true });
  // Written aside and renamed: a process starting meanwhile reads the old file or the new, never half.
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, serialize(data));
  await rename(temp, file);
}

/** Quiet time after a change before the index is persisted again. */
const persistDelayMs = 2000;

/**
 * The persisted index of one folder: read once at start, written a moment after the last change
 * (writes never overlap), and written at once on close if a change is still unwritten.
 */
export class IndexCache {
  readonly #file: string;
  readonly #dir: string;
  readonly #logger: Logger;
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();
  #data: (() => PersistedIndex) | undefined;

  constructor(cacheDir: string, knowledgeDir: string, logger: Logger) {
    this.#file = indexCacheFile(cacheDir, knowledgeDir);
    this.#dir = knowledgeDir;
    this.#logger = logger;
  }

  read(): Promise<PersistedIndex | undefined> {
    return readIndexCache(this.#file, this.#dir);
  }

  /** Persists what `data` returns then, a moment after the last call. */
  schedule(data: () => PersistedIndex): void {
    this.#data = data;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#write(), persistDelayMs);
    this.#timer.unref();
  }

  #write(): void {
    this.#timer = undefined;
    const data = this.#data;
    if (!data) return;
    this.#writing = this.#writing
      .then(() => writeIndexCache(this.#file, this.#dir, data()))
      .catch((error: unknown) =>
        this.#logger.warn(
          { err: (error as Error).message },
          "knowledge index not persisted: the next start reads every file again",
        ),
      );
  }

  /** Writes a change not persisted yet, and waits for writing to end. */
  async flush(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#write();
    }
    await this.#writing;
  }
}
