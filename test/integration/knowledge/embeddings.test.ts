import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createKnowledgeBase, type KnowledgeBase } from "../../../src/knowledge/knowledge-base.ts";
import { createLogger } from "../../../src/logger.ts";
import { ensureTinyModel } from "../../../src/tiny-model/tiny-model.ts";

// The tiny model has random weights: its vectors are mechanical, so these tests check structure and
// caching, never whether similar texts come out close.
describe("dense retrieval through node-llama-cpp embeddings", () => {
  let dir: string;
  let kb: KnowledgeBase;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "kb-dense-"));
    await writeFile(
      join(dir, "refunds.md"),
      "# Refunds\nIntro.\n## Store\nStore refunds.\n## Plus\nPlus refunds.\n",
    );
    await writeFile(join(dir, "shipping.md"), "# Shipping\nParcels arrive in 2 days.\n");
    kb = await createKnowledgeBase({
      dir,
      embeddingModelPath: await ensureTinyModel(),
      logger: createLogger({ level: "silent" }),
    });
  });
  after(async () => {
    await kb.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("embeds every chunk once at start and fuses both rankings", async () => {
    const stats = kb.stats();
    assert.equal(stats.dense, true);
    assert.equal(stats.chunks, 4);
    assert.equal(stats.embedded, 4);
    const ranked = await kb.search("store refunds", 10);
    // Every chunk is a dense candidate, so each carries a cosine in [-1, 1]; the lexical match is there too.
    assert.equal(ranked.length, 4);
    for (const r of ranked) {
      assert.equal(typeof r.cosine, "number");
      assert.ok((r.cosine ?? 2) >= -1.0001 && (r.cosine ?? 2) <= 1.0001);
    }
    assert.ok(ranked.some((r) => r.chunk.anchor === "store" && typeof r.lexical === "number"));
    const scores = ranked.map((r) => r.score);
    assert.deepEqual(
      scores,
      [...scores].sort((a, b) => b - a),
    );
  });

  it("re-embeds only the chunks whose content changed on reload", async () => {
    await writeFile(
      join(dir, "refunds.md"),
      "# Refunds\nIntro.\n## Store\nStore refunds.\n## Plus\nPlus refunds, changed.\n",
    );
    assert.equal((await kb.reload()).embedded, 1);
    assert.equal((await kb.reload()).embedded, 0);
    await writeFile(join(dir, "warranty.md"), "# Warranty\nTwo years.\n## Claims\nCall us.\n");
    const info = await kb.reload();
    assert.equal(info.embedded, 2);
    assert.equal(info.chunks, 6);
    assert.equal(kb.stats().embedded, 7);
  });

  it("embeds a chunk longer than the model's context by cutting it to fit", async () => {
    // One line of 9,000 bytes: a single chunk (a line is never split), 9,000 tokens for this byte-level model.
    await writeFile(join(dir, "long.md"), `# Long\n${"word ".repeat(1800)}\n`);
    const info = await kb.reload();
    assert.equal(info.embedded, 1);
    assert.ok(info.files >= 4);
  });

  it("still returns snippets within the budget, numbered from 1", async () => {
    const { snippets } = await kb.retrieve("store refunds", { tokenBudget: 1000 });
    assert.ok(snippets.length >= 1);
    assert.deepEqual(
      snippets.map((s) => s.citation.n),
      snippets.map((_, i) => i + 1),
    );
  });
});
