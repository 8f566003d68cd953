import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type Block,
  type Inline,
  parseInline,
  parseMarkdown,
  safeHref,
} from "../../../../../adapters/webchat/widget/markdown.ts";

/** Every link target anywhere in a parsed tree. */
function hrefs(blocks: Block[]): string[] {
  const out: string[] = [];
  const inline = (nodes: Inline[]) => {
    for (const n of nodes) {
      if (n.t === "link") out.push(n.href);
      if (n.t === "link" || n.t === "strong" || n.t === "em") inline(n.c);
    }
  };
  for (const b of blocks) {
    if (b.t === "p" || b.t === "heading") inline(b.c);
    if (b.t === "ul" || b.t === "ol") for (const item of b.items) inline(item);
    if (b.t === "quote") out.push(...hrefs(b.c));
  }
  return out;
}

function text(nodes: Inline[]): string {
  return nodes
    .map((n) => (n.t === "text" || n.t === "code" ? n.v : n.t === "br" ? "\n" : text(n.c)))
    .join("");
}

describe("safeHref", () => {
  it("keeps absolute http, https and mailto links", () => {
    assert.equal(safeHref("https://example.com/a?b=1"), "https://example.com/a?b=1");
    assert.equal(safeHref("http://example.com"), "http://example.com/");
    assert.equal(safeHref("mailto:help@example.com"), "mailto:help@example.com");
  });

  it("refuses javascript:, data:, vbscript: and relative links in any disguise", () => {
    for (const bad of [
      "javascript:alert(1)",
      "JaVaScRiPt:alert(1)",
      " javascript:alert(1)",
      "java\tscript:alert(1)",
      "java\nscript:alert(1)",
      "\u0001javascript:alert(1)",
      "data:text/html,<script>alert(1)</script>",
      "vbscript:msgbox(1)",
      "/relative/path",
      "//evil.example/x",
      "file:///etc/passwd",
      "https://user:pass@example.com/",
    ]) {
      assert.equal(safeHref(bad), null, bad);
    }
  });
});

describe("parseMarkdown", () => {
  it("parses paragraphs, emphasis, code, lists, quotes and fenced code", () => {
    const blocks = parseMarkdown(
      "# Refunds\n\nSee **the policy** and _terms_ with `code`.\n\n- one\n- two\n\n2. b\n3. c\n\n> quoted\n\n```\nx < y\n```",
    );
    assert.deepEqual(
      blocks.map((b) => b.t),
      ["heading", "p", "ul", "ol", "quote", "pre"],
    );
    const p = blocks[1];
    assert.ok(p?.t === "p");
    assert.deepEqual(
      p.c.map((n) => n.t),
      ["text", "strong", "text", "em", "text", "code", "text"],
    );
    const ol = blocks[3];
    assert.ok(ol?.t === "ol");
    assert.equal(ol.start, 2);
    const pre = blocks[5];
    assert.ok(pre?.t === "pre");
    assert.equal(pre.v, "x < y");
  });

  it("keeps raw HTML as literal text, never as markup", () => {
    const payload =
      '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script><svg onload=alert(1)>';
    const blocks = parseMarkdown(payload);
    assert.equal(blocks.length, 1);
    const p = blocks[0];
    assert.ok(p?.t === "p");
    assert.equal(text(p.c), payload);
    assert.ok(p.c.every((n) => n.t === "text"));
  });

  it("drops javascript: link targets but keeps the label as text", () => {
    const blocks = parseMarkdown(
      "[click me](javascript:alert(document.cookie)) and [ok](https://example.com/ok)",
    );
    assert.deepEqual(hrefs(blocks), ["https://example.com/ok"]);
    const p = blocks[0];
    assert.ok(p?.t === "p");
    // The target ends at the first ")" (CommonMark without balanced parentheses), so ")" stays as text.
    assert.equal(text(p.c), "click me) and ok");
  });

  it("turns images into their alt text so no remote image is ever loaded", () => {
    const blocks = parseMarkdown("![tracking pixel](https://evil.example/pixel.png?u=1)");
    assert.deepEqual(hrefs(blocks), []);
    const p = blocks[0];
    assert.ok(p?.t === "p");
    assert.equal(text(p.c), "tracking pixel");
  });

  it("links bare https URLs and leaves trailing punctuation out", () => {
    const inline = parseInline("Read https://help.example.com/refunds.");
    const link = inline.find((n) => n.t === "link");
    assert.ok(link?.t === "link");
    assert.equal(link.href, "https://help.example.com/refunds");
    assert.equal(text(inline), "Read https://help.example.com/refunds.");
  });

  it("does not treat snake_case underscores as emphasis", () => {
    assert.deepEqual(
      parseInline("set max_answer_tokens now").map((n) => n.t),
      ["text"],
    );
  });

  it("survives deeply nested and unterminated input without throwing", () => {
    const nasty = `${">".repeat(500)} x\n${"[".repeat(2000)}${"**".repeat(2000)}\n\`\`\`\nunterminated`;
    const blocks = parseMarkdown(nasty);
    assert.ok(blocks.length > 0);
  });
});
