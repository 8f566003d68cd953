import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { InsightsStore } from "../../../src/insights/insights-store.ts";
import { Keyspace } from "../../../src/redis/keyspace.ts";
import { type Harness, startHarness } from "../../helpers/harness.ts";
import { collectEvents, createConversation, finished, postMessage } from "../../helpers/webchat-client.ts";

const ADMIN = "admin-token-0123456789abcdef01";

describe("privacy: deleting everything about one user", () => {
  let h: Harness;

  before(async () => {
    h = await startHarness({ model: false, env: { ADMIN_TOKENS: `admin:${ADMIN}` } });
  });
  after(async () => {
    await h?.stop();
  });

  async function converse(texts: string[]) {
    const conv = await createConversation(h.baseUrl);
    for (const text of texts) {
      const res = await postMessage(h.baseUrl, conv.conversationId, conv.token, text);
      const { messageId } = (await res.json()) as { messageId: string };
      await collectEvents(h.baseUrl, conv.conversationId, conv.token, finished(messageId));
    }
    const turns = await h.conversations.turns({
      channel: "webchat",
      tenant: "web",
      conversationKey: conv.conversationId,
    });
    return { conv, userId: turns[0]?.userId ?? "" };
  }

  it("removes the user's conversations, turns, messages, events and gaps, and keeps everyone else's", async () => {
    const alice = await converse(["How do I reset my password?", "How do I winterize my swimming pool?"]);
    const bob = await converse(["How do I winterize my swimming pool?"]);
    assert.ok(alice.userId && bob.userId && alice.userId !== bob.userId);
    const store = h.gateway.support.store;
    const eventsBefore = await store.events(0);
    assert.ok(eventsBefore.some((e) => "userId" in e && e.userId === alice.userId));
    const res = await fetch(`${h.baseUrl}/admin/v1/users/webchat/${encodeURIComponent(alice.userId)}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    assert.equal(res.status, 200);
    const result = (await res.json()) as {
      conversations: number;
      events: number;
      gaps: number;
      keys: number;
    };
    assert.equal(result.conversations, 1);
    assert.equal(result.gaps, 1);
    assert.equal(result.events, 2);
    assert.ok(result.keys >= 5);

    const aliceTurns = await h.conversations.turns({
      channel: "webchat",
      tenant: "web",
      conversationKey: alice.conv.conversationId,
    });
    assert.equal(aliceTurns.length, 0);
    const session = await fetch(`${h.baseUrl}/webchat/v1/conversations/${alice.conv.conversationId}`, {
      headers: { authorization: `Bearer ${alice.conv.token}` },
    });
    assert.equal(session.status, 404, "the web-chat conversation itself is gone");
    const prefix = h.config.redis.prefix;
    const left = await h.redis.keys(`${prefix}:*${alice.conv.conversationId}*`);
    assert.deepEqual(left, []);
    const eventsAfter = await store.events(0);
    assert.ok(!eventsAfter.some((e) => "userId" in e && e.userId === alice.userId));
    assert.ok(eventsAfter.some((e) => "userId" in e && e.userId === bob.userId));
    const gaps = await store.gaps(0);
    assert.deepEqual(
      gaps.map((g) => g.userId),
      [bob.userId],
    );
    const bobTurns = await h.conversations.turns({
      channel: "webchat",
      tenant: "web",
      conversationKey: bob.conv.conversationId,
    });
    assert.equal(bobTurns.length, 1);
  });

  it("the users command deletes by channel and user id", async () => {
    const carol = await converse(["Where is my order?"]);
    const { runUsers } = await import("../../../src/cli/users-command.ts");
    const out: string[] = [];
    const io = {
      stdout: { write: (t: string) => out.push(t) },
      stderr: { write: (t: string) => out.push(t) },
    };
    assert.equal(
      await runUsers(["delete", "--channel", "webchat", "--user", carol.userId, "--json"], h.config, io),
      0,
    );
    assert.equal((JSON.parse(out.join("")) as { conversations: number }).conversations, 1);
    assert.equal(await runUsers(["delete", "--channel", "fax", "--user", "x"], h.config, io), 2);
  });
});

describe("retention", () => {
  const prefix = `test-${randomUUID()}`;
  let redis: Redis;
  after(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it("drops events and gaps older than the retention period, on write and on sweep", async () => {
    redis = new Redis(process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379");
    let now = Date.now();
    const store = new InsightsStore({
      redis,
      keys: new Keyspace(prefix),
      retentionMs: 60_000,
      now: () => now,
    });
    const old = { type: "h" as const, channel: "webchat", tenant: "t", userId: "u", conversationKey: "c" };
    // Entries get their stream ids from Redis' clock, so "old" is made by moving the store's clock forward.
    await store.recordEvent({ ...old, at: now });
    await store.recordGap({
      at: now,
      channel: "webchat",
      tenant: "t",
      userId: "u",
      question: "q",
      reason: "no_answer",
      closest: [],
    });
    assert.equal((await store.events(0)).length, 1);
    now += 61_000;
    const removed = await store.trim();
    assert.equal(removed, 2);
    assert.equal((await store.events(0)).length, 0);
    assert.equal((await store.gaps(0)).length, 0);
  });
});
