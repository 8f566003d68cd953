/** What the loader makes of one knowledge file before it is cut into chunks. */
export interface KnowledgeDocument {
  /** Path relative to the knowledge folder, with `/` separators. */
  path: string;
  format: "markdown" | "text" | "html";
  title: string;
  url?: string;
  tags: string[];
  audience?: string;
  /** Language, primary subtag (`en`, `zh`): from front matter or `<html lang>`, else detected. */
  lang: string;
  /**
   * The body as Markdown-like lines (`#` headings, text), each with its 1-based line in the source
   * file, so that a chunk can say which lines of the file it quotes.
   */
  lines: SourceLine[];
}

export interface SourceLine {
  text: string;
  line: number;
}

/** A problem found in a knowledge file; errors make the loader skip the file, warnings do not. */
export interface KnowledgeProblem {
  path: string;
  line: number;
  /** 1-based column, when the problem is at a precise place (a YAML syntax error). */
  column?: number;
  severity: "error" | "warning";
  message: string;
}

/** A piece of one document under one heading, small enough to quote in a prompt. */
export interface Chunk {
  /** Unique within an index: `path#anchor@part`. */
  id: string;
  path: string;
  title: string;
  url?: string;
  tags: string[];
  /** The document's language (primary subtag): chunks are indexed and searched per language. */
  lang: string;
  /** Headings above this chunk, outermost first (the document title excluded). */
  headingPath: string[];
  /** GitHub-style anchor of the innermost heading, when there is one. */
  anchor?: string;
  /** First and last source line quoted. */
  lines: [number, number];
  text: string;
  /** Estimated prompt tokens of `text`. */
  tokens: number;
  /** Hash of everything that is embedded, so that unchanged chunks keep their vectors. */
  hash: string;
}

export function formatProblem(problem: KnowledgeProblem): string {
  const where = `${problem.path}:${problem.line}${problem.column ? `:${problem.column}` : ""}`;
  return `${where}: ${problem.severity === "warning" ? "warning: " : ""}${problem.message}`;
}
