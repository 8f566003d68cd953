import { createHash } from "node:crypto";
import type { Chunk, KnowledgeDocument, SourceLine } from "./knowledge-document.ts";
import { estimateTokens } from "./token-estimate.ts";

export interface ChunkOptions {
  /** Largest chunk, in estimated tokens; longer sections are split between paragraphs. @defaultValue 256 */
  maxTokens?: number;
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
export function slugify(heading: string): string {
  return heading
    .toLowerCase()
    .trim()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

interface Section {
  headingPath: string[];
  anchor?: string;
  lines: SourceLine[];
}

function sections(doc: KnowledgeDocument): Section[] {
  const out: Section[] = [];
  const stack: { level: number; text: string }[] = [];
  const seen = new Map<string, number>();
  let current: Section = { headingPath: [], lines: [] };
  let fence: string | null = null;
  for (const line of doc.lines) {
    const fenceMatch = /^\s*(```|~~~)/.exec(line.text);
    if (fenceMatch) fence = fence === null ? (fenceMatch[1] ?? null) : fence === fenceMatch[1] ? null : fence;
    const heading =
      fence === null && doc.format !== "text" ? /^(#{1,6})\s+(.+?)\s*#*\s*$/.exec(line.text) : null;
    if (!heading) {
      current.lines.push(line);
      continue;
    }
    out.push(current);
    const level = heading[1]?.length ?? 1;
    const text = heading[2] ?? "";
    while (stack.length > 0 && (stack.at(-1)?.level ?? 0) >= level) stack.pop();
    stack.push({ level, text });
    // A heading of punctuation only has an empty slug; it still needs an anchor of its own.
    const base = slugify(text) || "section";
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    current = { headingPath: stack.map((s) => s.text), anchor: n === 0 ? base : `${base}-${n}`, lines: [] };
  }
  out.push(current);
  return out;
}

/** Splits a section's lines into runs that fit the budget, cutting at blank lines where possible. */
function split(lines: SourceLine[], maxTokens: number): SourceLine[][] {
  const parts: SourceLine[][] = [];
  let part: SourceLine[] = [];
  let size = 0;
  let lastBreak = -1;
  for (const line of lines) {
    const lineCost = estimateTokens(line.text) + 1;
    if (size + lineCost > maxTokens && part.length > 0) {
      // Cut at the last paragraph break when what follows it still fits with this line, else here.
      const cost = (ls: SourceLine[]) => ls.reduce((s, l) => s + estimateTokens(l.text) + 1, 0);
      let cut = lastBreak > 0 ? lastBreak : part.length;
      if (cost(part.slice(cut)) + lineCost > maxTokens) cut = part.length;
      parts.push(part.slice(0, cut));
      part = part.slice(cut);
      size = cost(part);
      lastBreak = -1;
    }
    part.push(line);
    size += lineCost;
    if (line.text.trim() === "") lastBreak = part.length;
  }
  parts.push(part);
  return parts;
}

function trimBlank(lines: SourceLine[]): SourceLine[] {
  let a = 0;
  let b = lines.length;
  while (a < b && lines[a]?.text.trim() === "") a++;
  while (b > a && lines[b - 1]?.text.trim() === "") b--;
  return lines.slice(a, b);
}

/**
 * Cuts a document into chunks: one per heading section, split between paragraphs when a section is
 * longer than the budget. Each chunk keeps its heading path and source lines for the citation.
 */
export function chunkDocument(doc: KnowledgeDocument, { maxTokens = 256 }: ChunkOptions = {}): Chunk[] {
  const chunks: Chunk[] = [];
  for (const section of sections(doc)) {
    const parts = split(section.lines, maxTokens).map(trimBlank);
    parts.forEach((lines, i) => {
      const first = lines[0];
      const last = lines.at(-1);
      if (!first || !last) return;
      const text = lines.map((l) => l.text).join("\n");
      const chunk: Chunk = {
        id: `${doc.path}#${section.anchor ?? ""}@${i}`,
        path: doc.path,
        title: doc.title,
        tags: doc.tags,
        lang: doc.lang,
        headingPath: section.headingPath,
        lines: [first.line, last.line],
        text,
        tokens: estimateTokens(text),
        hash: createHash("sha256")
          .update(`${doc.title}\n${section.headingPath.join("\n")}\n${text}`)
          .digest("base64url"),
      };
      if (section.anchor !== undefined) chunk.anchor = section.anchor;
      if (doc.url !== undefined) chunk.url = doc.url;
      chunks.push(chunk);
    });
  }
  return chunks;
}
