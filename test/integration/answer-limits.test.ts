import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Harness, startHarness } from "../helpers/harness.ts";
import { collectEvents, createConversation, finished, postMessage } from "../helpers/webchat-client.ts";

describe("answer time budget and cancellation", () => {
  let h: Harness;
  before(async () => {
    // Answers that never stop by themselves: only the budget or a cancel ends them.
    h = await startHarness({
      env: {
        ANSWER_TIMEOUT_MS: "1500",
        MAX_ANSWER_TOKENS: "30000",
        LLM_IGNORE_EOS: "true",
        LLM_CONTEXT_SIZE: "32768",
        LLM_SEQUENCES: "2",
      },
    });
  });
  after(async () => {
    await h.stop();
  });

  it("cancels an answer over its time budget, frees the sequence and sends a timeout error", async () => {
    const { conversationId, token } = await createConversation(h.baseUrl);
    const res = await postMessage(h.baseUrl, conversationId, token, "How do I reset my password?");
    const { messageId } = (await res.json()) as { messageId: string };
    const events = await collectEvents(h.baseUrl, conversationId, token, finished(messageId));
    const error = events.find((e) => e.event === "error");
    assert.equal(error?.data.code, "timeout");
    assert.equal(events.filter((e) => e.event === "reply").length, 0);
    // The freed sequences take new work: two more answers (each also hitting the budget) both finish.
    const more = await Promise.all(
      [1, 2].map(() => postMessage(h.baseUrl, conversationId, token, "How do I reset my password?")),
    );
    const ids = await Promise.all(
      more.map(async (r) => ((await r.json()) as { messageId: string }).messageId),
    );
    const later = await collectEvents(h.baseUrl, conversationId, token, finished(...ids));
    assert.equal(
      later.filter((e) => e.event === "error" && ids.includes(String(e.data.messageId))).length,
      2,
    );
  });

  it("stops an answer when the client cancels it", async () => {
    const { conversationId, token } = await createConversation(h.baseUrl);
    const res = await postMessage(h.baseUrl, conversationId, token, "Tell me about billing");
    const { messageId } = (await res.json()) as { messageId: string };
    await collectEvents(h.baseUrl, conversationId, token, (e) => e.some((x) => x.event === "token"));
    const cancel = await fetch(
      `${h.baseUrl}/webchat/v1/conversations/${conversationId}/messages/${messageId}`,
      {
        method: "DELETE",
        headers: { authorization: `Bearer ${token}` },
      },
    );
    assert.equal(cancel.status, 202);
    const events = await collectEvents(h.baseUrl, conversationId, token, finished(messageId));
    assert.equal(events.find((e) => e.event === "error")?.data.code, "cancelled");
  });

  it("refuses to cancel another conversation's message", async () => {
    const a = await createConversation(h.baseUrl);
    const b = await createConversation(h.baseUrl);
    const res = await postMessage(h.baseUrl, a.conversationId, a.token, "hello");
    const { messageId } = (await res.json()) as { messageId: string };
    const cancel = await fetch(
      `${h.baseUrl}/webchat/v1/conversations/${b.conversationId}/messages/${messageId}`,
      {
        method: "DELETE",
        headers: { authorization: `Bearer ${b.token}` },
      },
    );
    assert.equal(cancel.status, 404);
    await h.conversations.cancel(messageId);
  });
});
