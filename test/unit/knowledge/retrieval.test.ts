import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { chunkDocument } from "../../../src/knowledge/chunker.ts";
import { loadDocument } from "../../../src/knowledge/document-loader.ts";
import type { Chunk } from "../../../src/knowledge/knowledge-document.ts";
import { KnowledgeIndex, type RankedChunk } from "../../../src/knowledge/knowledge-index.ts";
import { reciprocalRankFusion } from "../../../src/knowledge/rank-fusion.ts";
import { DEFAULT_MIN_RELEVANCE, selectSnippets } from "../../../src/knowledge/snippet-selection.ts";

function chunksOf(files: Record<string, string>): Chunk[] {
  return Object.entries(files).flatMap(([path, text]) => {
    const { document } = loadDocument(path, Buffer.from(text));
    assert.ok(document, path);
    return chunkDocument(document);
  });
}

const folder = chunksOf({
  "billing/refunds.md":
    "---\ntitle: Refunds\ntags: [money back]\n---\nWe refund within 3 days.\n\n## Partial refunds\nDamaged returns are refunded in part.\n",
  "shipping/delivery.md": "# Delivery times\nOrders ship the same day and arrive in 2 days.\n",
  "accounts/password.md": "# Reset your password\nUse the reset link on the sign-in screen.\n",
  "shipping/costs.md":
    "# Shipping costs\nShipping is free over 50 EUR. Refunds of shipping costs happen when an item is faulty.\n",
});

describe("KnowledgeIndex (lexical)", () => {
  const index = new KnowledgeIndex(folder);
  const search = async (q: string) => (await index.search(q)).hits;

  it("finds an article by a stemmed word form", async () => {
    const [top] = await search("I was refunded only partially");
    assert.equal(top?.chunk.path, "billing/refunds.md");
  });

  it("ranks a title match above a passing mention in another article's body", async () => {
    const ranked = await search("refunds");
    assert.equal(ranked[0]?.chunk.path, "billing/refunds.md");
    assert.ok(ranked.some((r) => r.chunk.path === "shipping/costs.md"));
  });

  it("matches through tags and forgives a typo in a long word", async () => {
    assert.equal((await search("can I get my money back"))[0]?.chunk.path, "billing/refunds.md");
    assert.equal((await search("pasword reset"))[0]?.chunk.path, "accounts/password.md");
  });

  it("gives an off-topic question no relevance, and a full match full relevance", async () => {
    const off = await search("what is the capital of France");
    assert.ok(off.every((r) => r.relevance < DEFAULT_MIN_RELEVANCE));
    const on = await search("reset password");
    assert.equal(on[0]?.relevance, 1);
  });

  it("returns nothing for a question made only of stop words", async () => {
    assert.deepEqual(await search("how do I do it?"), []);
  });
});

describe("selectSnippets", () => {
  const ranked = (relevances: number[], tokens: number[]): RankedChunk[] =>
    relevances.map((relevance, i) => ({
      chunk: { ...(folder[0] as Chunk), id: `c${i}`, tokens: tokens[i] ?? 10, text: `text ${i}` },
      score: 1 / (i + 1),
      relevance,
    }));

  it("keeps ranking order, numbers snippets 1..k and stops at the budget", () => {
    const out = selectSnippets(ranked([0.9, 0.8, 0.7, 0.6], [40, 40, 40, 10]), { tokenBudget: 90 });
    assert.deepEqual(
      out.map((s) => [s.citation.n, s.text]),
      [
        [1, "text 0"],
        [2, "text 1"],
        [3, "text 3"],
      ],
    );
  });

  it("drops what is below the floor, the default one or a configured one", () => {
    assert.equal(selectSnippets(ranked([0.2, 0.1], [1, 1]), { tokenBudget: 100 }).length, 0);
    assert.equal(selectSnippets(ranked([0.6, 0.5], [1, 1]), { tokenBudget: 100, minScore: 0.55 }).length, 1);
  });

  it("builds citations with path#anchor, heading and lines", () => {
    const partial = folder.find((c) => c.anchor === "partial-refunds");
    assert.ok(partial);
    const [s] = selectSnippets([{ chunk: partial, score: 1, relevance: 1 }], { tokenBudget: 100 });
    assert.deepEqual(s?.citation, {
      n: 1,
      title: "Refunds",
      path: "billing/refunds.md#partial-refunds",
      heading: "Partial refunds",
      lines: [8, 8],
    });
  });
});

describe("reciprocalRankFusion", () => {
  it("rewards items that both lists rank high", () => {
    const fused = reciprocalRankFusion([
      ["a", "b", "c"],
      ["b", "c", "a"],
    ]);
    const order = [...fused.entries()].sort((x, y) => y[1] - x[1]).map(([k]) => k);
    assert.equal(order[0], "b");
    assert.equal(fused.get("b"), 1 / 62 + 1 / 61);
  });
});
