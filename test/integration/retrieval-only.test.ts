import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Harness, startHarness } from "../helpers/harness.ts";
import { collectEvents, createConversation, finished, postMessage } from "../helpers/webchat-client.ts";

describe("without MODEL_PATH", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ model: false });
  });
  after(async () => {
    await h.stop();
  });

  it("says so in /readyz and still answers", async () => {
    const ready = (await (await fetch(`${h.baseUrl}/readyz`)).json()) as { status: string; mode: string };
    assert.equal(ready.status, "ready");
    assert.match(ready.mode, /retrieval-only/);
    const { conversationId, token } = await createConversation(h.baseUrl);
    const res = await postMessage(h.baseUrl, conversationId, token, "How do I reset my password?");
    const { messageId } = (await res.json()) as { messageId: string };
    const events = await collectEvents(h.baseUrl, conversationId, token, finished(messageId));
    const reply = events.find((e) => e.event === "reply");
    assert.ok(reply);
    assert.equal(reply.data.kind, "excerpt");
    const citations = reply.data.citations as { path: string }[];
    assert.ok(
      citations.some((c) => c.path.startsWith("accounts/reset-password.md")),
      JSON.stringify(citations),
    );
  });

  it("answers no_answer, offering a person, when the folder does not answer the question", async () => {
    // "Tell me a joke" once got an excerpt about exchanging a thermostat ("tells you"): the
    // answerability decision now says no, whatever ranks first.
    for (const question of ["Tell me a joke", "Which stocks should I buy this year?"]) {
      const { conversationId, token } = await createConversation(h.baseUrl);
      const res = await postMessage(h.baseUrl, conversationId, token, question);
      const { messageId } = (await res.json()) as { messageId: string };
      const events = await collectEvents(h.baseUrl, conversationId, token, finished(messageId));
      const reply = events.find((e) => e.event === "reply");
      assert.equal(reply?.data.kind, "no_answer", `${question}: ${JSON.stringify(reply?.data)}`);
      assert.deepEqual(reply?.data.citations, []);
    }
  });
});
