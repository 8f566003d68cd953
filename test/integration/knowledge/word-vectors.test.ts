import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createKnowledgeBase, type KnowledgeBase } from "../../../src/knowledge/knowledge-base.ts";
import { createWordVectorEmbedder, loadWordVectors } from "../../../src/knowledge/word-vectors.ts";
import { createLogger } from "../../../src/logger.ts";

const cos = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * (b[i] ?? 0), 0);

// The first run converts the package's 300 MB JSON to a binary cache (tens of seconds); later runs read it.
describe("offline word vectors", () => {
  it("load real English vectors and embed sentences by meaning", async () => {
    const vectors = await loadWordVectors();
    assert.equal(vectors.dimensions, 100);
    assert.ok(vectors.size >= 100_000);
    assert.ok((vectors.rank("the") ?? 99) < 5);
    assert.equal(vectors.vector("qwxzzy"), undefined);
    const embedder = createWordVectorEmbedder(vectors);
    const [question, refund, parcel] = await embedder.embed([
      "how soon am I reimbursed",
      "Refunds\nWe pay the purchase price back to your card within five days.",
      "Delivery times\nParcels leave the warehouse the same day and arrive within two days.",
    ]);
    assert.ok(question && refund && parcel);
    assert.ok(Math.abs(cos(question, question) - 1) < 1e-5, "vectors are unit length");
    assert.ok(cos(question, refund) > cos(question, parcel), "the refund article is closer to the question");
  });
});

describe("knowledge base with word vectors", () => {
  let dir: string;
  let kb: KnowledgeBase;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "kb-wv-"));
    await writeFile(join(dir, "refunds.md"), "# Refunds\nWe pay the purchase price back within five days.\n");
    await writeFile(join(dir, "delivery.md"), "# Delivery times\nParcels arrive within two days.\n");
    await writeFile(join(dir, "password.md"), "# Reset your password\nUse the link on the sign-in page.\n");
    kb = await createKnowledgeBase({ dir, wordVectors: true, logger: createLogger({ level: "silent" }) });
  });
  after(async () => {
    await kb.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("fuses word-vector similarity into the ranking", async () => {
    assert.equal(kb.stats().dense, true);
    assert.match(kb.stats().embedder ?? "", /word vectors/);
    // "reimbursed" shares no stem with any article: only the vectors can place the refunds article first.
    const ranked = await kb.search("when am I reimbursed for the purchase", 3);
    assert.equal(ranked[0]?.chunk.path, "refunds.md");
    assert.ok(ranked.every((r) => typeof r.cosine === "number"));
  });

  it("never lets similarity alone lift an off-topic question over the relevance floor", async () => {
    const r = await kb.retrieve("what is the capital of France", { tokenBudget: 500 });
    assert.deepEqual(r.snippets, []);
    assert.equal(r.answerable, false);
  });
});
