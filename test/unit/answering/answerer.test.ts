import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AnswerJob } from "../../../src/answering/answer-job.ts";
import { Answerer } from "../../../src/answering/answerer.ts";
import type { Snippet } from "../../../src/knowledge/citation.ts";
import type { Retrieval, RetrieveOptions, Retriever } from "../../../src/knowledge/retriever.ts";

const snippet: Snippet = {
  citation: { n: 1, title: "Exchange a thermostat", path: "returns/exchange.md#steps" },
  text: "The app tells you which model fits.",
  score: 0.4,
};

/** A retriever that answers as told and remembers what it was asked (a fake of our own port). */
function retriever(answer: Partial<Retrieval>): Retriever & { asked: RetrieveOptions[] } {
  const asked: RetrieveOptions[] = [];
  return {
    asked,
    ready: true,
    async retrieve(_query, options) {
      asked.push(options);
      return {
        snippets: [snippet],
        answerable: true,
        confidence: 0.9,
        reason: "confident",
        lang: "en",
        knowledgeReady: true,
        ...answer,
      };
    },
  };
}

const job: AnswerJob = {
  v: 2,
  messageId: "m0123456789abcdef0123456789abcdef",
  conversation: { channel: "webchat", tenant: "shop", conversationKey: "c1" },
  userId: "u1",
  question: "Tell me a joke",
  previousMessageId: null,
  acceptedAt: 0,
  lang: "fr",
};
const compose = (r: Retriever) =>
  new Answerer({ retriever: r, tokenBudget: 500, maxAnswerTokens: 10, temperature: 0 }).compose({
    job,
    history: async () => [],
    onText: () => undefined,
    signal: new AbortController().signal,
  });

describe("Answerer without a model (retrieval-only mode)", () => {
  it("says it does not know when the knowledge decides the folder does not answer, whatever ranked first", async () => {
    const answer = await compose(retriever({ answerable: false, confidence: 0.2, reason: "weak_match" }));
    assert.equal(answer.kind, "no_answer");
    assert.deepEqual(answer.citations, []);
    assert.deepEqual(answer.decision, { answerable: false, confidence: 0.2, reason: "weak_match" });
  });

  it("quotes the sources when it does, and passes the decision on for the gaps", async () => {
    const answer = await compose(retriever({ reason: "uncertain", confidence: 0.55 }));
    assert.equal(answer.kind, "excerpt");
    assert.equal(answer.citations[0]?.path, "returns/exchange.md#steps");
    assert.equal(answer.decision?.reason, "uncertain");
  });

  it("searches the message's tenant's knowledge in the user's language", async () => {
    const r = retriever({});
    await compose(r);
    assert.deepEqual(r.asked, [{ tokenBudget: 500, tenant: "shop", channel: "webchat", lang: "fr" }]);
  });
});
