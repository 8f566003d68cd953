import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { FinalAnswer, ReplySink } from "../../../src/conversation/conversations.ts";
import { type Harness, startHarness } from "../../helpers/harness.ts";

describe("ENGINE=fake on the real job path (no model)", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({
      model: false,
      env: {
        ENGINE: "fake",
        FAKE_ENGINE_TOKEN_MS: "1",
        FAKE_ENGINE_FIRST_TOKEN_MS: "5",
        LLM_IGNORE_EOS: "true",
        MAX_ANSWER_TOKENS: "12",
      },
    });
  });
  after(async () => {
    await h.stop();
  });

  it("answers with deterministic filler streamed through the reply stream", async () => {
    assert.match(h.worker?.status.engine ?? "", /^fake: /);
    const ask = async (key: string) => {
      const { messageId } = await h.conversations.submit({
        channel: "webchat",
        tenant: "t",
        conversationKey: key,
        userId: "u1",
        text: "How do I reset my password?",
        platformMessageId: `${key}-m1`,
        receivedAt: Date.now(),
        replyTo: {},
      });
      const chunks: string[] = [];
      let final: FinalAnswer | undefined;
      const sink: ReplySink = {
        onChunk: async (chunk) => {
          chunks.push(chunk);
        },
        onFinal: async (answer) => {
          final = answer;
        },
        onError: async (error) => {
          throw new Error(error.code);
        },
      };
      await h.conversations.follow(messageId, sink);
      return { chunks, final };
    };
    const first = await ask("fake-a");
    assert.equal(first.final?.kind, "answer");
    assert.ok(first.chunks.length >= 1);
    assert.equal(first.final?.text.split(" ").length, 12, "twelve filler words: MAX_ANSWER_TOKENS");
    assert.equal(first.chunks.join("").trim(), first.final?.text);
  });
});
