import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { chunkDocument, slugify } from "../../../src/knowledge/chunker.ts";
import { loadDocument } from "../../../src/knowledge/document-loader.ts";
import type { KnowledgeDocument } from "../../../src/knowledge/knowledge-document.ts";

const doc = (text: string, path = "billing/refunds.md"): KnowledgeDocument => {
  const { document } = loadDocument(path, Buffer.from(text));
  assert.ok(document);
  return document;
};

describe("chunkDocument", () => {
  const article = [
    "---", // 1
    "title: Refunds", // 2
    "url: https://help.example.com/refunds", // 3
    "---", // 4
    "Intro line.", // 5
    "", // 6
    "## Store orders", // 7
    "Refunded in 5 days.", // 8
    "", // 9
    "### Partial refunds", // 10
    "Part of the price.", // 11
    "```", // 12
    "## not a heading inside code", // 13
    "```", // 14
    "## Store orders", // 15
    "Same heading again.", // 16
  ].join("\n");

  it("cuts at headings and records heading path, anchor and line range", () => {
    const chunks = chunkDocument(doc(article));
    assert.deepEqual(
      chunks.map((c) => [c.headingPath, c.anchor, c.lines, c.text]),
      [
        [[], undefined, [5, 5], "Intro line."],
        [["Store orders"], "store-orders", [8, 8], "Refunded in 5 days."],
        [
          ["Store orders", "Partial refunds"],
          "partial-refunds",
          [11, 14],
          "Part of the price.\n```\n## not a heading inside code\n```",
        ],
        [["Store orders"], "store-orders-1", [16, 16], "Same heading again."],
      ],
    );
    assert.ok(chunks.every((c) => c.title === "Refunds" && c.url === "https://help.example.com/refunds"));
    assert.equal(new Set(chunks.map((c) => c.id)).size, chunks.length);
  });

  it("splits a long section between paragraphs to stay within the budget", () => {
    const para = (i: number) => `Paragraph ${i} ${"word ".repeat(30)}`;
    const text = `# Long\n\n## Section\n${[1, 2, 3, 4, 5, 6].map(para).join("\n\n")}\n`;
    const chunks = chunkDocument(doc(text), { maxTokens: 100 });
    assert.ok(chunks.length >= 3);
    for (const c of chunks) {
      assert.ok(c.tokens <= 100, `chunk of ${c.tokens} tokens`);
      assert.match(c.text, /^Paragraph \d/, "each part starts at a paragraph");
      assert.deepEqual(c.headingPath, ["Section"]);
    }
  });

  it("keeps every body line exactly once and within budget for any paragraph layout", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constant(""), fc.stringMatching(/^[a-z]{1,8}( [a-z]{1,8}){0,12}$/)), {
          minLength: 1,
          maxLength: 60,
        }),
        fc.integer({ min: 20, max: 200 }),
        (lines, maxTokens) => {
          fc.pre(lines.some((l) => l.trim() !== ""));
          const d: KnowledgeDocument = {
            path: "p.md",
            format: "markdown",
            title: "T",
            tags: [],
            lang: "en",
            lines: lines.map((text, i) => ({ text, line: i + 1 })),
          };
          const chunks = chunkDocument(d, { maxTokens });
          const kept = chunks.flatMap((c) => c.text.split("\n")).filter((l) => l !== "");
          assert.deepEqual(
            kept,
            lines.filter((l) => l !== ""),
          );
          for (const c of chunks) {
            // A chunk only exceeds the budget when it is one line that does.
            assert.ok(c.tokens <= maxTokens || !c.text.includes("\n"), `${c.tokens} > ${maxTokens}`);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it("gives a chunk a new hash only when its content changes", () => {
    const a = chunkDocument(doc("# T\n## A\none\n## B\ntwo\n"));
    const b = chunkDocument(doc("# T\n## A\none\n## B\ntwo changed\n"));
    assert.equal(a[0]?.hash, b[0]?.hash);
    assert.notEqual(a[1]?.hash, b[1]?.hash);
  });
});

describe("slugify", () => {
  it("makes GitHub-style anchors", () => {
    assert.equal(slugify("Refunds: How long?"), "refunds-how-long");
    assert.equal(slugify("E2: wrong Wi-Fi password"), "e2-wrong-wi-fi-password");
  });
});
