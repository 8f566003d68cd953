import { basename, extname } from "node:path";
import { parseFrontMatter } from "./front-matter.ts";
import { htmlToLines } from "./html-to-lines.ts";
import type { KnowledgeDocument, KnowledgeProblem, SourceLine } from "./knowledge-document.ts";
import { detectLanguage, normalizeLang } from "./language.ts";

const formats: Record<string, KnowledgeDocument["format"]> = {
  ".md": "markdown",
  ".markdown": "markdown",
  ".txt": "text",
  ".html": "html",
  ".htm": "html",
};

/** True for files the loader reads; anything else in the folder is ignored. */
export function isKnowledgeFile(path: string): boolean {
  const name = basename(path);
  if (name.startsWith(".") || name.startsWith("_")) return false;
  // The folder's own README documents the format for support leads; it is not an article.
  if (path === "README.md" || path === "readme.md") return false;
  return extname(name).toLowerCase() in formats;
}

export interface LoadResult {
  document?: KnowledgeDocument;
  problems: KnowledgeProblem[];
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/** The line where a byte offset falls, for pointing at undecodable bytes. */
function lineOfByte(bytes: Uint8Array, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < bytes.length; i++) if (bytes[i] === 10) line++;
  return line;
}

function firstBadUtf8(bytes: Uint8Array): number {
  // Binary search for the shortest prefix that fails to decode; cheap because it only runs on bad files.
  let lo = 0;
  let hi = bytes.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(0, mid + 1), { stream: true });
      lo = mid + 1;
    } catch {
      hi = mid;
    }
  }
  return lo;
}

/** True for absolute http: and https: URLs: the only ones a citation may link to. */
export function isWebUrl(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === "http:" || protocol === "https:";
  } catch {
    return false;
  }
}

function humanize(path: string): string {
  const stem = basename(path, extname(path)).replace(/[-_]+/g, " ").trim();
  return stem.charAt(0).toUpperCase() + stem.slice(1);
}

/**
 * Parses one knowledge file (Markdown with optional front matter, plain text, or HTML). A file that
 * cannot be used comes back without a document and with at least one error naming the line.
 */
export function loadDocument(path: string, bytes: Uint8Array): LoadResult {
  const format = formats[extname(path).toLowerCase()];
  const error = (line: number, message: string): LoadResult => ({
    problems: [{ path, line, severity: "error", message }],
  });
  if (!format) return error(1, `unsupported file type (use .md, .txt or .html)`);
  const nul = bytes.indexOf(0);
  if (nul >= 0) return error(lineOfByte(bytes, nul), "unreadable content: binary data (NUL byte)");
  let raw: string;
  try {
    raw = decoder.decode(bytes);
  } catch {
    return error(lineOfByte(bytes, firstBadUtf8(bytes)), "unreadable content: not valid UTF-8 text");
  }
  raw = raw.replace(/^\uFEFF/, "");
  const fileLines = raw.split(/\r?\n/);
  const problems: KnowledgeProblem[] = [];
  let title: string | undefined;
  let meta: {
    url?: string | undefined;
    audience?: string | undefined;
    lang?: string | undefined;
    tags: string[];
  } = {
    tags: [],
  };
  let lines: SourceLine[];
  if (format === "html") {
    const html = htmlToLines(raw);
    title = html.title;
    meta = { tags: html.tags, lang: html.lang };
    if (html.url !== undefined) {
      // Only a web address may become a citation link (never javascript: or data:).
      if (isWebUrl(html.url)) meta.url = html.url;
      else
        problems.push({
          path,
          line: 1,
          severity: "warning",
          message: `canonical link ignored: "${html.url.slice(0, 80)}" is not an absolute http(s) URL`,
        });
    }
    lines = html.lines;
  } else {
    let start = 0;
    if (format === "markdown") {
      const fm = parseFrontMatter(path, fileLines);
      problems.push(...fm.problems);
      if (fm.fatal) return { problems };
      start = fm.bodyStart;
      title = fm.data.title;
      meta = { tags: fm.data.tags ?? [], url: fm.data.url, audience: fm.data.audience, lang: fm.data.lang };
    }
    lines = fileLines.slice(start).map((text, i) => ({ text, line: start + i + 1 }));
  }
  const isHeading = (text: string) => format !== "text" && /^#{1,6}\s+\S/.test(text);
  // Without a title in front matter, a leading H1 (Markdown) or first line (text) names the article.
  const firstIndex = lines.findIndex((l) => l.text.trim().length > 0);
  const first = lines[firstIndex];
  if (first && /^#\s+\S/.test(first.text) && format !== "text") {
    title ??= first.text.replace(/^#\s+/, "").trim();
    lines = lines.filter((_, i) => i !== firstIndex);
  } else if (first && format === "text" && title === undefined) {
    title = first.text.trim();
    lines = lines.filter((_, i) => i !== firstIndex);
  }
  if (!lines.some((l) => l.text.trim().length > 0 && !isHeading(l.text))) {
    problems.push({ path, line: 1, severity: "error", message: "no content: the article has no text" });
    return { problems };
  }
  if (title === undefined) {
    problems.push({
      path,
      line: 1,
      severity: "warning",
      message: "no title: add `title:` in front matter or a leading `# Heading` (using the file name)",
    });
  }
  const finalTitle = title ?? humanize(path);
  const document: KnowledgeDocument = {
    path,
    format,
    title: finalTitle,
    tags: meta.tags,
    // Without a declared language, the article's own words tell (the first few thousand characters).
    lang:
      normalizeLang(meta.lang) ??
      detectLanguage(`${finalTitle}\n${lines.map((l) => l.text).join("\n")}`.slice(0, 4000)).lang,
    lines,
  };
  if (meta.url) document.url = meta.url;
  if (meta.audience) document.audience = meta.audience;
  return { document, problems };
}
