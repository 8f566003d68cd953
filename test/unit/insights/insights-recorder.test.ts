import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { InboundMessage } from "../../../src/conversation/inbound-message.ts";
import { InsightsRecorder } from "../../../src/insights/insights-recorder.ts";
import type { GapRecord, InsightsStore } from "../../../src/insights/insights-store.ts";
import { Redactor } from "../../../src/insights/redaction.ts";
import type { Snippet } from "../../../src/knowledge/citation.ts";
import { createLogger } from "../../../src/logger.ts";

/** The store's three writes the recorder makes, kept in memory (a fake of our own collaborator). */
function memoryStore() {
  const gaps: Omit<GapRecord, "id">[] = [];
  const store = {
    noteConversation: async () => undefined,
    recordEvent: async () => undefined,
    recordGap: async (gap: Omit<GapRecord, "id">) => {
      gaps.push(gap);
      return `g${gaps.length}`;
    },
  };
  return { gaps, store: store as unknown as InsightsStore };
}

const message: InboundMessage = {
  channel: "webchat",
  tenant: "web",
  conversationKey: "c1",
  userId: "u1",
  text: "refund joke",
  platformMessageId: "p1",
  receivedAt: 0,
  replyTo: {},
};
const snippet: Snippet = {
  citation: { n: 1, title: "Refunds", path: "refunds.md" },
  text: "Refunds.",
  score: 0.6,
};

describe("InsightsRecorder gaps from the answerability decision", () => {
  const record = async (snippets: Snippet[], decision?: { answerable: boolean; reason: string }) => {
    const { gaps, store } = memoryStore();
    const recorder = new InsightsRecorder({
      store,
      redactor: new Redactor([]),
      turns: async () => [],
      logger: createLogger({ level: "silent" }),
    });
    await recorder.question(
      message,
      "m1",
      snippets,
      true,
      decision && { ...decision, confidence: 0.5, reason: decision.reason as never },
    );
    return gaps.map((g) => g.reason);
  };

  it("records a refused question as no_answer, though snippets were found", async () => {
    assert.deepEqual(await record([snippet], { answerable: false, reason: "weak_match" }), ["no_answer"]);
  });

  it("records an answer close to the caution line as low_confidence", async () => {
    assert.deepEqual(await record([snippet], { answerable: true, reason: "uncertain" }), ["low_confidence"]);
  });

  it("records nothing for a confident answer, and no_answer with no snippet at all", async () => {
    assert.deepEqual(await record([snippet], { answerable: true, reason: "confident" }), []);
    assert.deepEqual(await record([]), ["no_answer"]);
  });
});
