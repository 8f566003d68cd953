import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { FakeBotConnector, type ReceivedActivity } from "../../fakes/fake-bot-connector.ts";
import { channelMessage, personalMessage } from "../../fakes/teams-activities.ts";
import { ScriptedConversations } from "../../fakes/teams-scripted-conversations.ts";
import { startTeamsServer, type TeamsTestServer } from "./teams-test-server.ts";

const isFinal = (r: ReceivedActivity) => r.activity.type === "message";
const idOf = (activity: Record<string, unknown>) => (activity.conversation as { id: string }).id;

async function metric(server: TeamsTestServer, name: string, labels: string): Promise<number> {
  await server.queues.sample();
  const text = await server.metrics.registry.metrics();
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.split(" ").at(-1)) : 0;
}

describe("Teams answers through the delivery queue (fake connector, real CloudAdapter, Redis, BullMQ)", () => {
  const connector = new FakeBotConnector();
  const conversations = new ScriptedConversations({ answer: (m) => `answer to ${m.text}`, chunkDelayMs: 1 });
  let teams: TeamsTestServer;

  before(async () => {
    await connector.start();
    teams = await startTeamsServer({ env: { TEAMS_SERVICE_URL_ALLOWLIST: connector.origin }, conversations });
  });
  after(async () => {
    await teams.stop();
    await connector.stop();
  });

  it("delivers an answer once after the connector failed past the SDK's own retries (502)", async () => {
    // The SDK's pipeline tries 4 times; 6 failures make the first delivery attempt fail as a whole.
    connector.fail({ status: 502, times: 6, activityType: "message" });
    const activity = channelMessage({
      serviceUrl: connector.serviceUrl,
      text: "deliver me later",
      mention: true,
    });
    const conversationId = idOf(activity);
    assert.equal((await teams.post(activity)).status, 200);
    const delivered = await connector.waitFor(
      (r) => r.conversationId === conversationId && isFinal(r),
      30_000,
    );
    assert.equal(delivered.activity.text, "answer to deliver me later");
    await teams.adapter.idle();
    assert.equal(connector.for(conversationId).filter(isFinal).length, 1, "delivered once");
    assert.equal(await metric(teams, "sgw_deliveries_total", 'outcome="retry"'), 1);
    assert.equal(await metric(teams, "sgw_deliveries_total", 'queue="teams-answers",outcome="delivered"'), 1);
  });

  it("waits at least the connector's Retry-After before the next attempt", async () => {
    connector.tries.length = 0;
    connector.fail({ status: 429, times: 8, activityType: "message", retryAfterSeconds: 1 });
    const activity = channelMessage({ serviceUrl: connector.serviceUrl, text: "throttled", mention: true });
    const conversationId = idOf(activity);
    assert.equal((await teams.post(activity)).status, 200);
    const delivered = await connector.waitFor(
      (r) => r.conversationId === conversationId && isFinal(r),
      30_000,
    );
    assert.equal(delivered.activity.text, "answer to throttled");
    // Every gap between two tries of the final message honoured Retry-After: 1, the SDK's and the queue's.
    const tries = connector.tries.filter((t) => t.type === "message").map((t) => t.at);
    assert.equal(tries.length, 9, "8 refused, then delivered");
    for (let i = 1; i < tries.length; i++) {
      const gap = (tries[i] ?? 0) - (tries[i - 1] ?? 0);
      assert.ok(gap >= 950, `try ${i} came ${Math.round(gap)} ms after the one before`);
    }
    await teams.adapter.idle();
    assert.equal(connector.for(conversationId).filter(isFinal).length, 1);
  });

  it("keeps an answer the connector refuses for good (403) as a dead letter, counted on /metrics", async () => {
    connector.fail({ status: 403, times: 1, activityType: "message" });
    const activity = channelMessage({ serviceUrl: connector.serviceUrl, text: "forbidden", mention: true });
    assert.equal((await teams.post(activity)).status, 200);
    const answers = teams.queues.queues.find((q) => q.queueName === "teams-answers");
    assert.ok(answers);
    for (let i = 0; i < 200 && (await answers.sample()).deadLetters === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    const [dead] = await answers.deadLetters();
    assert.match(dead?.reason ?? "", /refused the activity for good \(403/);
    assert.equal(dead?.attempts, 1, "not retried: it would fail the same way");
    assert.equal(await metric(teams, "sgw_delivery_dead_letters", 'queue="teams-answers"'), 1);
    assert.equal(await metric(teams, "sgw_deliveries_total", 'queue="teams-answers",outcome="dead"'), 1);
    assert.deepEqual(
      (teams.adapter.readiness() as { answers: { deadLetters: number } }).answers.deadLetters,
      1,
    );
  });
});

describe("Teams answers whose gateway died mid-answer", () => {
  const connector = new FakeBotConnector();
  const prefix = `test-${randomUUID()}`;
  let dying: TeamsTestServer | undefined;
  let live: TeamsTestServer | undefined;

  before(() => connector.start());
  after(async () => {
    const redis = live?.redis;
    if (redis) {
      const left = await redis.keys(`${prefix}:*`);
      if (left.length > 0) await redis.del(...left);
    }
    await live?.stop();
    await connector.stop();
  });

  it("are taken over by another gateway and delivered once", async () => {
    // Never settles: the first gateway's delivery is frozen for good.
    const stuck = new Promise<void>(() => {});
    // The first gateway's answer stalls after its first words, as if its process froze.
    const frozen = new ScriptedConversations({
      answer: () => "taken over",
      chunkDelayMs: 1,
      queueDelayMs: 0,
    });
    const originalFollow = frozen.follow.bind(frozen);
    frozen.follow = async (messageId, sink) => {
      await sink.onStart?.();
      await sink.onChunk("taken ");
      await stuck;
      await originalFollow(messageId, sink);
    };
    dying = await startTeamsServer({
      env: { TEAMS_SERVICE_URL_ALLOWLIST: connector.origin, SHUTDOWN_GRACE_MS: "0" },
      conversations: frozen,
      prefix,
    });
    const activity = channelMessage({ serviceUrl: connector.serviceUrl, text: "orphaned", mention: true });
    const conversationId = idOf(activity);
    assert.equal((await dying.post(activity)).status, 200);
    await connector.waitFor((r) => r.conversationId === conversationId && r.activity.type === "typing");
    // It stops past its grace period: its delivery is told to stop and its lock lapses.
    await dying.stop();
    const started = Date.now();
    live = await startTeamsServer({
      env: { TEAMS_SERVICE_URL_ALLOWLIST: connector.origin },
      conversations: frozen,
      prefix,
    });
    frozen.follow = originalFollow;
    const delivered = await connector.waitFor(
      (r) => r.conversationId === conversationId && isFinal(r),
      15_000,
    );
    assert.equal(delivered.activity.text, "taken over");
    assert.ok(Date.now() - started < 15_000);
    await live.adapter.idle();
    assert.equal(connector.for(conversationId).filter(isFinal).length, 1, "delivered once");
  });
});

describe("a person's reply into a handed-off Teams conversation", () => {
  const connector = new FakeBotConnector();
  const conversations = new ScriptedConversations({ answer: () => "bot answer", chunkDelayMs: 1 });
  let teams: TeamsTestServer;

  before(async () => {
    await connector.start();
    teams = await startTeamsServer({ env: { TEAMS_SERVICE_URL_ALLOWLIST: connector.origin }, conversations });
  });
  after(async () => {
    await teams.stop();
    await connector.stop();
  });

  it("is sent proactively into the user's conversation, retried when the connector is down", async () => {
    const activity = personalMessage({ serviceUrl: connector.serviceUrl, text: "I need help" });
    const conversationId = idOf(activity);
    await teams.post(activity);
    await connector.waitFor((r) => r.conversationId === conversationId && isFinal(r));
    await teams.adapter.idle();
    connector.fail({ status: 503, times: 5, activityType: "message" });
    await teams.adapter.replyAsPerson(
      { channel: "teams", tenant: "t", conversationKey: conversationId },
      "Hi, Sam from support here.",
    );
    const reply = await connector.waitFor(
      (r) => r.conversationId === conversationId && r.activity.text === "Hi, Sam from support here.",
      30_000,
    );
    assert.equal(reply.activity.type, "message");
    await assert.rejects(
      teams.adapter.replyAsPerson({ channel: "teams", tenant: "t", conversationKey: "19:unknown" }, "x"),
      { code: "not_found" },
    );
  });
});
