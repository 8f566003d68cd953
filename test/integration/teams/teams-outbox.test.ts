import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { TeamsOutbox } from "../../../adapters/teams/teams-outbox.ts";
import { TeamsPendingAnswers } from "../../../adapters/teams/teams-pending-answers.ts";
import { Keyspace } from "../../../src/redis/keyspace.ts";
import { FakeBotConnector } from "../../fakes/fake-bot-connector.ts";
import { channelMessage } from "../../fakes/teams-activities.ts";
import { ScriptedConversations } from "../../fakes/teams-scripted-conversations.ts";
import { startTeamsServer, type TeamsTestServer } from "./teams-test-server.ts";

describe("Teams outbox: answers that cannot be delivered are kept and retried", () => {
  const connector = new FakeBotConnector();
  const conversations = new ScriptedConversations({ answer: () => "kept answer", chunkDelayMs: 1 });
  let teams: TeamsTestServer;

  before(async () => {
    await connector.start();
    teams = await startTeamsServer({
      env: { TEAMS_SERVICE_URL_ALLOWLIST: connector.origin },
      conversations,
      adapter: { retry: { maxAttempts: 2, baseDelayMs: 10 }, outboxIntervalMs: 100 },
    });
  });
  after(async () => {
    await teams.stop();
    await connector.stop();
  });

  it("keeps an answer the connector refuses (502) in Redis and delivers it once the connector recovers", async () => {
    // Two in-line attempts fail, then the first outbox attempt; the second outbox attempt succeeds.
    connector.fail({ status: 502, times: 3, activityType: "message" });
    const activity = channelMessage({
      serviceUrl: connector.serviceUrl,
      text: "deliver me later",
      mention: true,
    });
    const conversationId = (activity.conversation as { id: string }).id;
    assert.equal((await teams.post(activity)).status, 200);
    await teams.adapter.idle();
    assert.equal(connector.for(conversationId).filter((r) => r.activity.type === "message").length, 0);
    const kept = await teams.redis.zcard(new Keyspace(teams.prefix).channel("teams").key("outbox"));
    assert.equal(kept, 1, "the undelivered answer is in the outbox");
    assert.equal((teams.adapter.readiness() as { undeliveredAnswers: number }).undeliveredAnswers, 1);
    const delivered = await connector.waitFor(
      (r) => r.conversationId === conversationId && r.activity.type === "message",
      20_000,
    );
    assert.equal(delivered.activity.text, "kept answer");
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(await teams.redis.zcard(new Keyspace(teams.prefix).channel("teams").key("outbox")), 0);
    assert.equal(connector.for(conversationId).filter((r) => r.activity.type === "message").length, 1);
  });
});

describe("TeamsOutbox", () => {
  const redis = new Redis("redis://127.0.0.1:6379", { lazyConnect: true });
  const prefix = `test-${randomUUID()}`;
  before(() => redis.connect());
  after(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it("lets only one of two gateways claim a due entry, and hands it out again after the lease", async () => {
    const a = new TeamsOutbox(redis, new Keyspace(prefix).channel("teams"), 200);
    const b = new TeamsOutbox(redis, new Keyspace(prefix).channel("teams"), 200);
    await a.add(
      {
        messageId: "m1",
        reference: { conversation: { id: "c1", isGroup: false, conversationType: "personal", name: "" } },
        activity: { text: "x" },
      },
      0,
    );
    const [first, second] = await Promise.all([a.claimDue(), b.claimDue()]);
    assert.equal((first?.length ?? 0) + (second?.length ?? 0), 1);
    assert.deepEqual(await a.claimDue(), [], "claimed entries are invisible during the lease");
    await new Promise((resolve) => setTimeout(resolve, 250));
    const again = await b.claimDue();
    assert.equal(again[0]?.messageId, "m1", "a gateway that died does not lose the entry");
    await b.done(again[0] as NonNullable<(typeof again)[0]>);
    assert.equal(await a.size(), 0);
  });

  it("adopts a pending answer only after its claim expires, and drops one too old to follow", async () => {
    const pending = new TeamsPendingAnswers(redis, new Keyspace(prefix).channel("teams"), 1);
    const reference = { conversation: { id: "c2", isGroup: false, conversationType: "personal", name: "" } };
    assert.equal(
      await pending.claim({ messageId: "fresh", reference, scope: "personal", acceptedAt: Date.now() }),
      true,
    );
    assert.equal(
      await pending.claim({ messageId: "fresh", reference, scope: "personal", acceptedAt: Date.now() }),
      false,
    );
    await pending.claim({ messageId: "old", reference, scope: "personal", acceptedAt: Date.now() - 60_000 });
    assert.deepEqual(await pending.adoptOrphans(30_000), [], "claims still held");
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const adopted = await pending.adoptOrphans(30_000);
    assert.deepEqual(
      adopted.map((a) => a.messageId),
      ["fresh"],
    );
    assert.equal(
      await redis.hexists(new Keyspace(prefix).channel("teams").key("pending"), "old"),
      0,
      "the old one is forgotten",
    );
    await pending.settle("fresh", 60);
    assert.equal(await redis.hlen(new Keyspace(prefix).channel("teams").key("pending")), 0);
    assert.equal(
      await pending.claim({ messageId: "fresh", reference, scope: "personal", acceptedAt: Date.now() }),
      false,
    );
  });

  it("moves an entry to the dead list when it is given up", async () => {
    const outbox = new TeamsOutbox(redis, new Keyspace(prefix).channel("teams"));
    const entry = await outbox.add({ messageId: "m2", reference: {}, activity: { text: "y" } }, 0);
    await outbox.bury(entry);
    assert.equal(await outbox.size(), 0);
    const dead = await redis.lrange(new Keyspace(prefix).channel("teams").key("outbox", "dead"), 0, -1);
    assert.equal(JSON.parse(dead[0] ?? "{}").messageId, "m2");
  });
});

describe("Teams answers whose gateway died after acknowledging", () => {
  const connector = new FakeBotConnector();
  const conversations = new ScriptedConversations({ answer: () => "adopted answer", chunkDelayMs: 1 });
  let teams: TeamsTestServer;

  before(async () => {
    await connector.start();
    teams = await startTeamsServer({
      env: { TEAMS_SERVICE_URL_ALLOWLIST: connector.origin },
      conversations,
      adapter: { outboxIntervalMs: 100, followClaimSeconds: 1 },
    });
  });
  after(async () => {
    await teams.stop();
    await connector.stop();
  });

  it("are adopted by a live gateway once the dead one's claim expires, and delivered once", async () => {
    const activity = channelMessage({ serviceUrl: connector.serviceUrl, text: "orphaned", mention: true });
    const conversationId = (activity.conversation as { id: string }).id;
    // What a gateway does before it acknowledges: submit, then claim the answer. Then it "dies".
    const { messageId } = await conversations.submit({
      channel: "teams",
      tenant: "t",
      conversationKey: conversationId,
      userId: "u",
      text: "orphaned",
      platformMessageId: `${conversationId}|1`,
      receivedAt: Date.now(),
      replyTo: {},
    });
    const dead = new TeamsPendingAnswers(teams.redis, new Keyspace(teams.prefix).channel("teams"), 1);
    const reference = {
      channelId: "msteams",
      serviceUrl: connector.serviceUrl,
      conversation: { id: conversationId, isGroup: true, conversationType: "channel", name: "" },
    };
    assert.equal(await dead.claim({ messageId, reference, scope: "channel", acceptedAt: Date.now() }), true);
    const started = Date.now();
    const delivered = await connector.waitFor(
      (r) => r.conversationId === conversationId && r.activity.type === "message",
      10_000,
    );
    assert.equal(delivered.activity.text, "adopted answer");
    assert.ok(Date.now() - started >= 900, "not before the claim expired");
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await teams.adapter.idle();
    assert.equal(connector.for(conversationId).filter((r) => r.activity.type === "message").length, 1);
    assert.equal(await teams.redis.hlen(new Keyspace(teams.prefix).channel("teams").key("pending")), 0);
  });
});
