import { createHash } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { deserialize, serialize } from "node:v8";
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
