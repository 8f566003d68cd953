import { type Block, type Inline, parseMarkdown, safeHref } from "./markdown.ts";

/**
 * Builds DOM from the parsed Markdown tree with createElement/createTextNode only (never innerHTML), so
 * answer text can never become markup. `sanitizeTree` then re-checks the result against the same
 * allow-list: a second, independent line in case a future change to the builder slips.
 */

/** The only elements an answer may contain. */
export const allowedTags = new Set([
  "P",
  "STRONG",
  "EM",
  "CODE",
  "PRE",
  "UL",
  "OL",
  "LI",
  "A",
  "BR",
  "BLOCKQUOTE",
]);
/** The only attributes, per element. */
const allowedAttributes: Record<string, Set<string>> = {
  A: new Set(["href", "rel", "target"]),
  OL: new Set(["start"]),
};

/** Renders untrusted Markdown into a fragment of allow-listed elements. */
export function renderMarkdown(doc: Document, text: string): DocumentFragment {
  const fragment = doc.createDocumentFragment();
  for (const block of parseMarkdown(text)) fragment.append(renderBlock(doc, block));
  sanitizeTree(fragment);
  return fragment;
}

function renderBlock(doc: Document, block: Block): Node {
  switch (block.t) {
    case "p":
      return withInline(doc, doc.createElement("p"), block.c);
    case "heading": {
      const p = doc.createElement("p");
      p.append(withInline(doc, doc.createElement("strong"), block.c));
      return p;
    }
    case "pre": {
      const pre = doc.createElement("pre");
      const code = doc.createElement("code");
      code.textContent = block.v;
      pre.append(code);
      return pre;
    }
    case "ul":
    case "ol": {
      const list = doc.createElement(block.t);
      if (block.t === "ol" && block.start !== 1) list.setAttribute("start", String(block.start));
      for (const item of block.items) list.append(withInline(doc, doc.createElement("li"), item));
      return list;
    }
    case "quote": {
      const q = doc.createElement("blockquote");
      for (const b of block.c) q.append(renderBlock(doc, b));
      return q;
    }
  }
}

function withInline(doc: Document, parent: HTMLElement, nodes: Inline[]): HTMLElement {
  for (const node of nodes) parent.append(renderInline(doc, node));
  return parent;
}

function renderInline(doc: Document, node: Inline): Node {
  switch (node.t) {
    case "text":
      return doc.createTextNode(node.v);
    case "br":
      return doc.createElement("br");
    case "code": {
      const code = doc.createElement("code");
      code.textContent = node.v;
      return code;
    }
    case "strong":
    case "em":
      return withInline(doc, doc.createElement(node.t), node.c);
    case "link":
      return linkElement(doc, node.href, node.c);
  }
}

function linkElement(doc: Document, href: string, label: Inline[]): HTMLElement {
  const a = doc.createElement("a");
  a.setAttribute("href", href);
  // noopener: the target page gets no window.opener; noreferrer: it does not learn the host page URL.
  a.setAttribute("rel", "noopener noreferrer nofollow");
  a.setAttribute("target", "_blank");
  return withInline(doc, a, label);
}

/**
 * Removes every element outside the allow-list (keeping its text) and every attribute outside the
 * per-element allow-list; re-validates link targets.
 */
export function sanitizeTree(root: ParentNode): void {
  for (const el of Array.from(root.querySelectorAll("*"))) {
    if (!el.isConnected && !root.contains(el)) continue; // already removed with an ancestor
    if (!allowedTags.has(el.tagName)) {
      el.replaceWith(el.ownerDocument.createTextNode(el.textContent ?? ""));
      continue;
    }
    const allowed = allowedAttributes[el.tagName];
    for (const attr of Array.from(el.attributes)) {
      if (!allowed?.has(attr.name)) el.removeAttribute(attr.name);
    }
    if (el.tagName === "A") {
      const href = safeHref(el.getAttribute("href") ?? "");
      if (href === null) el.removeAttribute("href");
      el.setAttribute("rel", "noopener noreferrer nofollow");
      el.setAttribute("target", "_blank");
    }
  }
}
