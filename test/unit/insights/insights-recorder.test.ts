import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InsightsRecorder } from "../../../src/insights/insights-recorder.ts";
import type { GapRecord, InsightsStore } from "../../../src/insights/insights-store.ts";
import { Redactor } from "../../../src/insights/redaction.ts";
import { createLogger } from "../../../src/logger.ts";

/** The store's writes the recorder makes, kept in memory (a fake of our own collaborator). */
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

const ref = { channel: "webchat" as const, tenant: "web", conversationKey: "c1" };

describe("InsightsRecorder gaps from the answerability decision", () => {
  const recorder = () => {
    const { gaps, store } = memoryStore();
    const r = new InsightsRecorder({
      store,
      redactor: new Redactor([]),
      turns: async () => [],
      logger: createLogger({ level: "silent" }),
    });
    return { gaps, r };
  };

  it("records a refused question as no_answer and a near-the-line answer as low_confidence", async () => {
    const { gaps, r } = recorder();
    await r.unanswered(ref, "u1", "Tell me a joke", "m1");
    await r.lowConfidence(ref, "u1", "refund joke, mail me at a@b.example", "m2");
    assert.deepEqual(
      gaps.map((g) => [g.reason, g.messageId]),
      [
        ["no_answer", "m1"],
        ["low_confidence", "m2"],
      ],
    );
    // Questions are redacted before they are stored, whatever the reason.
    assert.doesNotMatch(gaps[1]?.question ?? "", /a@b\.example/);
  });
});
