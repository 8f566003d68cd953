/**
 * A small Markdown subset parsed into a tree of allow-listed node kinds. Answers come from a model
 * grounded in editable documents, so they are untrusted: raw HTML is never interpreted (it stays
 * literal text), links survive only with http(s)/mailto targets, and images become their alt text so
 * that an answer cannot make the browser fetch a remote URL (a data-leak channel).
 *
 * Pure (no DOM) so that it runs in the browser bundle and in Node's tests alike.
 */

export type Inline =
  | { t: "text"; v: string }
  | { t: "code"; v: string }
  | { t: "strong"; c: Inline[] }
  | { t: "em"; c: Inline[] }
  | { t: "link"; href: string; c: Inline[] }
  | { t: "br" };

export type Block =
  | { t: "p"; c: Inline[] }
  | { t: "heading"; c: Inline[] }
  | { t: "pre"; v: string }
  | { t: "ul"; items: Inline[][] }
  | { t: "ol"; items: Inline[][]; start: number }
  | { t: "quote"; c: Block[] };

const allowedProtocols = new Set(["http:", "https:", "mailto:"]);

/**
 * The link target to use, or null when the URL is not absolute http(s)/mailto. `new URL` applies the
 * WHATWG rules browsers use (tabs and newlines stripped, scheme lower-cased), so `java\tscript:` and
 * `JaVaScRiPt:` are recognised for what they are. Relative URLs are refused: they would resolve against
 * the host page, not the knowledge base.
 */
export function safeHref(raw: string): string | null {
  const trimmed = raw.trim();
  if (trimmed === "" || trimmed.length > 2048) return null;
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return null;
  }
  if (!allowedProtocols.has(url.protocol)) return null;
  if ((url.protocol === "http:" || url.protocol === "https:") && url.username + url.password !== "")
    return null;
  return url.href;
}

const listItem = /^\s{0,3}([-*+]|(\d{1,9})[.)])\s+(.*)$/;
const fence = /^\s{0,3}(```|~~~)/;
const heading = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/;
const quote = /^\s{0,3}>\s?(.*)$/;

/** Parses Markdown text into blocks. Never throws; unknown syntax stays text. */
export function parseMarkdown(text: string): Block[] {
  return parseBlocks(text.replace(/\r\n?/g, "\n").split("\n"), 0);
}

function parseBlocks(lines: string[], depth: number): Block[] {
  const blocks: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? "";
    if (line.trim() === "") {
      i++;
      continue;
    }
    const fenceOpen = fence.exec(line);
    if (fenceOpen) {
      const marker = fenceOpen[1] ?? "```";
      const body: string[] = [];
      i++;
      while (i < lines.length && !(lines[i] ?? "").trimStart().startsWith(marker))
        body.push(lines[i++] ?? "");
      i++; // closing fence (or end of text while streaming)
      blocks.push({ t: "pre", v: body.join("\n") });
      continue;
    }
    const h = heading.exec(line);
    if (h) {
      blocks.push({ t: "heading", c: parseInline(h[1] ?? "") });
      i++;
      continue;
    }
    // Depth limit: a poisoned answer of ">>>>>>..." must not recurse without bound.
    if (quote.test(line) && depth < 4) {
      const body: string[] = [];
      while (i < lines.length && quote.test(lines[i] ?? ""))
        body.push(quote.exec(lines[i++] ?? "")?.[1] ?? "");
      blocks.push({ t: "quote", c: parseBlocks(body, depth + 1) });
      continue;
    }
    const first = listItem.exec(line);
    if (first) {
      const ordered = first[2] !== undefined;
      const items: Inline[][] = [];
      while (i < lines.length) {
        const m = listItem.exec(lines[i] ?? "");
        if (!m || (m[2] !== undefined) !== ordered) break;
        let item = m[3] ?? "";
        i++;
        // Lazy continuation lines belong to the item.
        while (i < lines.length && /^\s{2,}\S/.test(lines[i] ?? "") && !listItem.test(lines[i] ?? "")) {
          item += ` ${(lines[i] ?? "").trim()}`;
          i++;
        }
        items.push(parseInline(item));
      }
      blocks.push(ordered ? { t: "ol", items, start: Number(first[2]) } : { t: "ul", items });
      continue;
    }
    const para: string[] = [];
    while (i < lines.length) {
      const l = lines[i] ?? "";
      // The first line always belongs here (e.g. a quote nested past the depth limit), so that the
      // outer loop always advances.
      const starts = fence.test(l) || heading.test(l) || quote.test(l) || listItem.test(l);
      if (l.trim() === "" || (para.length > 0 && starts)) break;
      para.push(l.trim());
      i++;
    }
    const c: Inline[] = [];
    para.forEach((l, n) => {
      if (n > 0) c.push({ t: "br" });
      c.push(...parseInline(l));
    });
    blocks.push({ t: "p", c });
  }
  return blocks;
}

/** Bare URLs in text become links (citations often arrive that way). */
const bareUrl = /\bhttps?:\/\/[^\s<>()"'`]+[^\s<>()"'`.,;:!?]/g;

/** Parses one line of inline Markdown: code spans, links, images (as text), strong, emphasis. */
export function parseInline(src: string, depth = 0): Inline[] {
  const out: Inline[] = [];
  let text = "";
  const flush = () => {
    if (text !== "") out.push(...autolink(text));
    text = "";
  };
  let i = 0;
  while (i < src.length) {
    const ch = src[i];
    if (ch === "\\" && i + 1 < src.length && /[\\`*_[\]()#!>~-]/.test(src[i + 1] ?? "")) {
      text += src[i + 1];
      i += 2;
      continue;
    }
    if (ch === "`") {
      const end = src.indexOf("`", i + 1);
      if (end > i) {
        flush();
        out.push({ t: "code", v: src.slice(i + 1, end) });
        i = end + 1;
        continue;
      }
    }
    if (ch === "[" || (ch === "!" && src[i + 1] === "[")) {
      const isImage = ch === "!";
      const link = matchLink(src, isImage ? i + 1 : i);
      if (link) {
        flush();
        const label =
          depth < 3 ? parseInline(link.label, depth + 1) : [{ t: "text" as const, v: link.label }];
        const href = safeHref(link.target);
        // Images are never loaded: the alt text stands in, so no remote host learns who read the answer.
        if (isImage) out.push({ t: "text", v: link.label });
        else if (href) out.push({ t: "link", href, c: label });
        else out.push(...label);
        i = link.end;
        continue;
      }
    }
    if ((ch === "*" || ch === "_") && depth < 3) {
      const double = src[i + 1] === ch;
      const marker = double ? ch + ch : ch;
      const end = src.indexOf(marker, i + marker.length + 1);
      const inner = end > 0 ? src.slice(i + marker.length, end) : "";
      // Intra-word underscores (snake_case) are not emphasis.
      const intraWord =
        ch === "_" && (/\w/.test(src[i - 1] ?? "") || /\w/.test(src[end + marker.length] ?? ""));
      if (end > 0 && inner.trim() === inner && inner !== "" && !intraWord) {
        flush();
        const c = parseInline(inner, depth + 1);
        out.push(double ? { t: "strong", c } : { t: "em", c });
        i = end + marker.length;
        continue;
      }
    }
    text += ch;
    i++;
  }
  flush();
  return out;
}

function matchLink(src: string, open: number): { label: string; target: string; end: number } | null {
  let depth = 0;
  let close = -1;
  for (let j = open; j < src.length; j++) {
    if (src[j] === "[") depth++;
    else if (src[j] === "]" && --depth === 0) {
      close = j;
      break;
    }
  }
  if (close < 0 || src[close + 1] !== "(") return null;
  const end = src.indexOf(")", close + 2);
  if (end < 0) return null;
  // `[x](url "title")`: the title is dropped.
  const target =
    src
      .slice(close + 2, end)
      .trim()
      .split(/\s+/)[0] ?? "";
  return { label: src.slice(open + 1, close), target, end: end + 1 };
}

function autolink(text: string): Inline[] {
  const out: Inline[] = [];
  let last = 0;
  for (const m of text.matchAll(bareUrl)) {
    const href = safeHref(m[0]);
    if (!href) continue;
    if (m.index > last) out.push({ t: "text", v: text.slice(last, m.index) });
    out.push({ t: "link", href, c: [{ t: "text", v: m[0] }] });
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push({ t: "text", v: text.slice(last) });
  return out;
}
