import { type HTMLElement, parse } from "node-html-parser";
import type { SourceLine } from "./knowledge-document.ts";

export interface HtmlContent {
  title?: string;
  url?: string;
  tags: string[];
  lang?: string;
  lines: SourceLine[];
}

const skipped = new Set([
  "script",
  "style",
  "noscript",
  "template",
  "nav",
  "header",
  "footer",
  "svg",
  "head",
]);
const blocks = new Set(["p", "li", "dt", "dd", "pre", "blockquote", "td", "th", "figcaption", "caption"]);

/**
 * Converts an HTML article to Markdown-like lines: `h1`-`h6` become `#` headings and each block
 * element one text line, numbered by the source line where the element starts.
 */
export function htmlToLines(html: string): HtmlContent {
  const root = parse(html, { comment: false, blockTextElements: { pre: true } });
  const lineStarts: number[] = [0];
  for (let i = 0; i < html.length; i++) if (html.charCodeAt(i) === 10) lineStarts.push(i + 1);
  const lineAt = (offset: number): number => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((lineStarts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
  const lines: SourceLine[] = [];
  const text = (el: HTMLElement) => el.textContent.replace(/\s+/g, " ").trim();
  const walk = (el: HTMLElement): void => {
    for (const child of el.childNodes) {
      if (child.nodeType !== 1) {
        // Loose text directly inside a container (e.g. <div>Some text</div>) is content too.
        const loose = child.textContent.replace(/\s+/g, " ").trim();
        if (loose.length > 0 && el.tagName !== undefined) {
          lines.push({ text: loose, line: lineAt(child.range[0]) });
        }
        continue;
      }
      const node = child as HTMLElement;
      const tag = node.tagName?.toLowerCase() ?? "";
      if (skipped.has(tag)) continue;
      const heading = /^h([1-6])$/.exec(tag);
      if (heading) {
        const t = text(node);
        if (t) lines.push({ text: `${"#".repeat(Number(heading[1]))} ${t}`, line: lineAt(node.range[0]) });
      } else if (blocks.has(tag)) {
        const t = text(node);
        if (t) {
          lines.push({ text: tag === "li" ? `- ${t}` : t, line: lineAt(node.range[0]) });
          lines.push({ text: "", line: lineAt(node.range[1]) });
        }
      } else {
        walk(node);
      }
    }
  };
  const body = root.querySelector("body") ?? root;
  walk(body);
  const title = root.querySelector("title")?.textContent.trim() || undefined;
  const url = root.querySelector('link[rel="canonical"]')?.getAttribute("href") || undefined;
  const keywords = root.querySelector('meta[name="keywords"]')?.getAttribute("content") ?? "";
  const lang = root.querySelector("html")?.getAttribute("lang") || undefined;
  const tags = keywords
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
  return { title, url, tags, lang, lines };
}
