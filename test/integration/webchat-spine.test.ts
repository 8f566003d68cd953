import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Keyspace } from "../../src/redis/keyspace.ts";
import { type Harness, startHarness } from "../helpers/harness.ts";
import { collectEvents, createConversation, finished, postMessage } from "../helpers/webchat-client.ts";

/** Resolves once no answer job waits, runs or is delayed. */
async function queueIdle(h: Harness): Promise<void> {
  for (;;) {
    const counts = await h.gateway.queue.getJobCounts("wait", "active", "delayed", "prioritized");
    if (Object.values(counts).every((n) => n === 0)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("web chat spine (real Redis, BullMQ, node-llama-cpp worker)", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.stop();
  });

  it("streams token events for a posted message and ends in exactly one reply", async () => {
    const { conversationId, token } = await createConversation(h.baseUrl);
    const res = await postMessage(h.baseUrl, conversationId, token, "How do I reset my password?");
    assert.equal(res.status, 202);
    const { messageId } = (await res.json()) as { messageId: string };
    const events = await collectEvents(h.baseUrl, conversationId, token, finished(messageId));
    const tokens = events.filter((e) => e.event === "token");
    const replies = events.filter((e) => e.event === "reply");
    assert.ok(tokens.length >= 1, "at least one token event");
    assert.equal(replies.length, 1);
    const reply = replies[0]?.data as { text: string; citations: unknown[]; messageId: string };
    assert.equal(reply.messageId, messageId);
    assert.equal(
      tokens
        .map((e) => e.data.text)
        .join("")
        .trim(),
      reply.text,
    );
    assert.ok(Array.isArray(reply.citations));
    assert.ok(
      tokens.every((e) => typeof e.id === "string" && e.id.includes("~")),
      "events carry resumable ids",
    );
  });

  it("keeps only the last three turns after four exchanges", async () => {
    const { conversationId, token } = await createConversation(h.baseUrl);
    const ids: string[] = [];
    for (const q of [
      "How do I reset my password?",
      "What payment methods do you accept?",
      "How long does shipping take?",
      "How do I return an item?",
    ]) {
      const res = await postMessage(h.baseUrl, conversationId, token, q);
      ids.push(((await res.json()) as { messageId: string }).messageId);
    }
    await collectEvents(h.baseUrl, conversationId, token, finished(...ids));
    const res = await fetch(`${h.baseUrl}/webchat/v1/conversations/${conversationId}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const body = (await res.json()) as { turns: { question: string; messageId: string }[] };
    assert.deepEqual(
      body.turns.map((t) => t.question),
      ["What payment methods do you accept?", "How long does shipping take?", "How do I return an item?"],
    );
    assert.deepEqual(
      body.turns.map((t) => t.messageId),
      ids.slice(1),
    );
  });

  it("answers a duplicated platform message id once", async () => {
    const { conversationId, token } = await createConversation(h.baseUrl);
    const [a, b] = await Promise.all([
      postMessage(h.baseUrl, conversationId, token, "Where is my order?", "client-1"),
      postMessage(h.baseUrl, conversationId, token, "Where is my order?", "client-1"),
    ]);
    const first = (await a.json()) as { messageId: string };
    const second = (await b.json()) as { messageId: string };
    assert.equal(first.messageId, second.messageId);
    const events = await collectEvents(h.baseUrl, conversationId, token, finished(first.messageId));
    // A second answer could only come from a second job: wait until the queue has nothing left to run.
    await queueIdle(h);
    const turns = await h.conversations.turns({
      channel: "webchat",
      tenant: "web",
      conversationKey: conversationId,
    });
    assert.equal(events.filter((e) => e.event === "reply").length, 1);
    assert.equal(turns.length, 1);
    const terminal = (
      await h.redis.xrange(new Keyspace(h.config.redis.prefix).reply(first.messageId), "-", "+")
    )
      .map(([, fields]) => fields[1])
      .filter((t) => t === "final" || t === "error");
    assert.deepEqual(terminal, ["final"], "one final entry in the answer's stream");
    const job = await h.gateway.queue.getJob(first.messageId);
    assert.equal(job?.attemptsStarted, 1, "its one job ran once");
  });

  it("keeps both of two messages sent at once, in order", async () => {
    const { conversationId, token } = await createConversation(h.baseUrl);
    const [r1, r2] = await Promise.all([
      postMessage(h.baseUrl, conversationId, token, "first question about billing"),
      postMessage(h.baseUrl, conversationId, token, "second question about shipping"),
    ]);
    const m1 = ((await r1.json()) as { messageId: string }).messageId;
    const m2 = ((await r2.json()) as { messageId: string }).messageId;
    const events = await collectEvents(h.baseUrl, conversationId, token, finished(m1, m2));
    const replyOrder = events.filter((e) => e.event === "reply").map((e) => e.data.messageId);
    const turns = await h.conversations.turns({
      channel: "webchat",
      tenant: "web",
      conversationKey: conversationId,
    });
    assert.equal(turns.length, 2);
    // Whichever was accepted first is answered first, and the context holds them in that same order.
    assert.deepEqual(
      replyOrder,
      turns.map((t) => t.id),
    );
    assert.deepEqual(
      new Set(turns.map((t) => t.question)),
      new Set(["first question about billing", "second question about shipping"]),
    );
  });

  it("resumes a dropped event stream without repeating text", async () => {
    const { conversationId, token } = await createConversation(h.baseUrl);
    const res = await postMessage(h.baseUrl, conversationId, token, "How do I change my email address?");
    const { messageId } = (await res.json()) as { messageId: string };
    const firstPart = await collectEvents(h.baseUrl, conversationId, token, (e) =>
      e.some((x) => x.event === "token"),
    );
    const lastId = firstPart.at(-1)?.id;
    assert.ok(lastId);
    const rest = await collectEvents(h.baseUrl, conversationId, token, finished(messageId), {
      lastEventId: lastId,
    });
    const all = [...firstPart, ...rest];
    const text = all
      .filter((e) => e.event === "token")
      .map((e) => e.data.text)
      .join("");
    const reply = all.find((e) => e.event === "reply");
    assert.equal(text.trim(), reply?.data.text);
    assert.equal(new Set(all.map((e) => e.id)).size, all.length, "no event delivered twice");
  });
  it("resumes from a finished answer's last event straight to the next answer", async () => {
    const { conversationId, token } = await createConversation(h.baseUrl);
    const first = await postMessage(h.baseUrl, conversationId, token, "How do I reset my password?");
    const m1 = ((await first.json()) as { messageId: string }).messageId;
    const done = await collectEvents(h.baseUrl, conversationId, token, finished(m1));
    const replyId = done.find((e) => e.event === "reply")?.id;
    assert.ok(replyId);
    const second = await postMessage(h.baseUrl, conversationId, token, "What payment methods do you accept?");
    const m2 = ((await second.json()) as { messageId: string }).messageId;
    const rest = await collectEvents(h.baseUrl, conversationId, token, finished(m2), {
      lastEventId: replyId,
    });
    assert.ok(
      rest.every((e) => e.data.messageId === m2),
      "nothing of the first answer again",
    );
    assert.equal(rest.filter((e) => e.event === "reply").length, 1);
  });
});
