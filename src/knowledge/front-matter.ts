import { isMap, LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import type { KnowledgeProblem } from "./knowledge-document.ts";

/** The keys a support lead may set at the top of a Markdown file. */
export interface FrontMatter {
  title?: string;
  url?: string;
  tags?: string[];
  audience?: string;
  lang?: string;
}

const FrontMatterSchema = z.object({
  title: z.string().trim().min(1, "title must not be empty").optional(),
  // Citations link to this address in every channel: only web addresses, never javascript: or data:.
  url: z
    .url({
      protocol: /^https?$/,
      message: "url must be an absolute http(s) URL such as https://help.example.com/refunds",
    })
    .optional(),
  tags: z
    .union([z.array(z.string().min(1)), z.string().transform((s) => s.split(",").map((t) => t.trim()))])
    .transform((tags) => tags.filter((t) => t.length > 0))
    .optional(),
  audience: z.string().min(1).optional(),
  lang: z
    .string()
    .regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, "lang must be a language tag such as en or en-GB")
    .optional(),
});
const knownKeys = new Set(Object.keys(FrontMatterSchema.shape));

export interface FrontMatterResult {
  data: FrontMatter;
  /** Index of the first body line (0-based into the file's lines). */
  bodyStart: number;
  problems: KnowledgeProblem[];
  /** True when the block could not be used at all and the file should be skipped. */
  fatal: boolean;
}

/**
 * Reads an optional YAML block fenced by `---` lines at the very top of a file. Problems carry the
 * line in the file (not in the block), so `kb lint` points at the exact place to fix.
 */
export function parseFrontMatter(path: string, lines: string[]): FrontMatterResult {
  const none: FrontMatterResult = { data: {}, bodyStart: 0, problems: [], fatal: false };
  if (lines[0]?.trim() !== "---") return none;
  const end = lines.findIndex((l, i) => i > 0 && (l.trim() === "---" || l.trim() === "..."));
  if (end < 0) {
    return {
      ...none,
      fatal: true,
      problems: [
        {
          path,
          line: 1,
          severity: "error",
          message: "front matter starts with --- but has no closing --- line",
        },
      ],
    };
  }
  const problem = (line: number, message: string, severity: KnowledgeProblem["severity"] = "error") => ({
    path,
    line,
    severity,
    message,
  });
  const lineCounter = new LineCounter();
  const doc = parseDocument(lines.slice(1, end).join("\n"), { lineCounter });
  // Block line k (1-based) is file line k + 1, because the opening --- is line 1.
  if (doc.errors.length > 0) {
    return {
      ...none,
      bodyStart: end + 1,
      fatal: true,
      // One position, in the file: the yaml library's own "at line 1, column 8" counts within the block.
      problems: doc.errors.map((e) => ({
        ...problem(
          (e.linePos?.[0]?.line ?? 1) + 1,
          `bad front matter: ${(e.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "")}`,
        ),
        ...(e.linePos?.[0]?.col ? { column: e.linePos[0].col } : {}),
      })),
    };
  }
  if (doc.contents === null) return { ...none, bodyStart: end + 1 };
  if (!isMap(doc.contents)) {
    return {
      ...none,
      bodyStart: end + 1,
      fatal: true,
      problems: [
        problem(2, "bad front matter: expected key: value lines (title, url, tags, audience, lang)"),
      ],
    };
  }
  const lineOfKey = new Map<string, number>();
  for (const pair of doc.contents.items) {
    const keyNode = pair.key as unknown as { value?: unknown; range?: [number, number] } | null;
    const key = String(keyNode?.value ?? keyNode);
    const offset = keyNode?.range?.[0] ?? 0;
    lineOfKey.set(key, lineCounter.linePos(offset).line + 1);
  }
  const raw = doc.toJS() as Record<string, unknown>;
  const problems: KnowledgeProblem[] = [];
  for (const key of Object.keys(raw)) {
    if (!knownKeys.has(key)) {
      problems.push(
        problem(
          lineOfKey.get(key) ?? 2,
          `unknown front matter key "${key}" (known: title, url, tags, audience, lang)`,
          "warning",
        ),
      );
    }
  }
  const parsed = FrontMatterSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0] ?? "");
      problems.push(problem(lineOfKey.get(key) ?? 2, `bad front matter: ${key}: ${issue.message}`));
    }
    return { data: {}, bodyStart: end + 1, problems, fatal: true };
  }
  const data: FrontMatter = {};
  for (const [k, v] of Object.entries(parsed.data)) {
    if (v !== undefined) (data as Record<string, unknown>)[k] = v;
  }
  return { data, bodyStart: end + 1, problems, fatal: false };
}
