import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decideAnswerability } from "../../../src/knowledge/answerability.ts";
import { FolderLoader } from "../../../src/knowledge/folder-loader.ts";
import { KnowledgeIndex } from "../../../src/knowledge/knowledge-index.ts";

// The shipped sample folder: a realistic size (31 articles) for the decision's statistics.
const index = new KnowledgeIndex((await new FolderLoader("knowledge").load()).chunks);
const decide = async (q: string, caution = 0.5) => decideAnswerability(await index.search(q), caution);

describe("answerability decision", () => {
  it("answers a question the folder covers, confidently", async () => {
    const d = await decide("how long does a refund take");
    assert.equal(d.answerable, true);
    assert.equal(d.reason, "confident");
    assert.ok(d.confidence > 0.8, String(d.confidence));
  });

  it("refuses off-topic questions, also when a word matches an article in passing", async () => {
    const offTopic = [
      "Tell me a joke",
      "What is the capital of France?",
      "How do I fix a flat bicycle tyre?",
      "Which stocks should I buy this year?",
      "How do I change the oil in my car?",
    ];
    for (const q of offTopic) {
      const d = await decide(q);
      assert.equal(d.answerable, false, `${q}: ${d.confidence}`);
      assert.ok(["weak_match", "no_match"].includes(d.reason));
    }
    assert.equal((await decide("capital of France")).reason, "no_match");
    assert.equal((await decide("refund joke", 0.99)).reason, "weak_match");
  });

  it("says the folder is empty when it is", async () => {
    const d = decideAnswerability(await KnowledgeIndex.empty().search("refund"), 0.5);
    assert.deepEqual([d.answerable, d.reason], [false, "empty"]);
  });

  it("is a probability that caution compares: more caution never answers more", async () => {
    const questions = [
      "refund",
      "reset password",
      "thermostat",
      "wifi password wrong",
      "joke",
      "refund joke",
      "tell me about refunds",
    ];
    for (const q of questions) {
      const loose = await decide(q, 0.2);
      const strict = await decide(q, 0.8);
      assert.equal(loose.confidence, strict.confidence);
      assert.ok(loose.confidence >= 0 && loose.confidence <= 1);
      if (strict.answerable) assert.ok(loose.answerable, q);
    }
  });

  it("marks an answer close to the caution line as uncertain (a gap for curators)", async () => {
    const d = await decide("refund joke");
    assert.ok(d.confidence > 0.1);
    const near = await decide("refund joke", d.confidence - 0.05);
    assert.deepEqual([near.answerable, near.reason], [true, "uncertain"]);
    const far = await decide("refund joke", Math.max(0, d.confidence - 0.3));
    assert.equal(far.reason, "confident");
  });
});
