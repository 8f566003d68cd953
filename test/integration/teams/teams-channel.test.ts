import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { TeamsAdapter } from "../../../adapters/teams/teams-adapter.ts";
import { FakeBotConnector, type ReceivedActivity } from "../../fakes/fake-bot-connector.ts";
import { cardSubmit, channelMessage, feedbackInvoke, personalMessage } from "../../fakes/teams-activities.ts";
import { FixedCredentialsFactory, TeamsTokenIssuer } from "../../fakes/teams-token-issuer.ts";
import { type Harness, startHarness } from "../../helpers/harness.ts";

const isFinal = (r: ReceivedActivity) => r.activity.type === "message";
const streamType = (r: ReceivedActivity) => r.activity.channelData?.streamType as string | undefined;
const conversationIdOf = (a: Record<string, unknown>) => (a.conversation as { id: string }).id;

/**
 * The whole path: real CloudAdapter on the gateway, real Redis and BullMQ, the in-process worker with
 * the generated tiny model, answers delivered to a fake Bot Framework connector on 127.0.0.1.
 */
describe("Teams channel end to end (gateway, BullMQ, tiny model, fake connector)", () => {
  const connector = new FakeBotConnector();
  let adapter: TeamsAdapter;
  const supportChannel = "19:support1111111111111111111111@thread.tacv2";
  let harness: Harness;

  before(async () => {
    await connector.start();
    harness = await startHarness({
      env: {
        TEAMS_SERVICE_URL_ALLOWLIST: connector.origin,
        MAX_ANSWER_TOKENS: "48",
        TEAMS_HANDOFF_CONVERSATION: supportChannel,
      },
      adapters: (config) => {
        adapter = new TeamsAdapter(config.teams, { streamIntervalMs: 0 });
        return [adapter];
      },
    });
  });
  after(async () => {
    await adapter.idle();
    await harness.stop();
    await connector.stop();
  });

  const post = (activity: unknown, headers: Record<string, string> = {}) =>
    fetch(`${harness.baseUrl}/api/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(activity),
    });

  it("answers a 1:1 question: typing, streamed chunks in order, then the final message with sources", async () => {
    const activity = personalMessage({
      serviceUrl: connector.serviceUrl,
      text: "How do I reset my password?",
    });
    const conversationId = conversationIdOf(activity);
    assert.equal((await post(activity)).status, 200);
    const final = await connector.waitFor((r) => r.conversationId === conversationId && isFinal(r), 30_000);
    const calls = connector.for(conversationId);
    assert.equal(calls[0]?.activity.type, "typing");
    const chunks = calls.filter((r) => streamType(r) === "streaming");
    assert.ok(chunks.length >= 2, `several streamed chunks before the final message (got ${chunks.length})`);
    const texts = chunks.map((r) => r.activity.text as string);
    for (let i = 1; i < texts.length; i++)
      assert.ok(texts[i]?.startsWith(texts[i - 1] ?? "\0"), "chunks in order");
    const sequences = calls.filter((r) => streamType(r) !== undefined && !isFinal(r));
    assert.deepEqual(
      sequences.map((r) => r.activity.channelData.streamSequence),
      sequences.map((_, i) => i + 1),
    );
    assert.equal(final.activity.channelData.streamType, "final");
    assert.equal(final.activity.channelData.streamId, sequences[0]?.id);
    const turns = await harness.conversations.turns({
      channel: "teams",
      tenant: (activity.channelData as { tenant: { id: string } }).tenant.id,
      conversationKey: conversationId,
    });
    assert.equal(turns.length, 1);
    assert.equal(final.activity.text, turns[0]?.answer, "the final message is the stored answer");
    const citations = turns[0]?.citations ?? [];
    if (citations.length > 0) {
      const lines = (final.activity.attachments[0].content.body as { text: string }[]).map((b) => b.text);
      assert.ok(
        lines.some((l) => l.startsWith(`[${citations[0]?.n}] `)),
        "sources numbered as in the answer",
      );
    }
  });

  it("stores Teams' thumbs-down with the turn, and hands the conversation to the support channel", async () => {
    const activity = personalMessage({ serviceUrl: connector.serviceUrl, text: "How do I return an item?" });
    const conversationId = conversationIdOf(activity);
    const ref = {
      channel: "teams" as const,
      tenant: (activity.channelData as { tenant: { id: string } }).tenant.id,
      conversationKey: conversationId,
    };
    assert.equal((await post(activity)).status, 200);
    const final = await connector.waitFor((r) => r.conversationId === conversationId && isFinal(r), 30_000);
    await adapter.idle();
    assert.equal(final.activity.channelData.feedbackLoopEnabled, true);
    const vote = feedbackInvoke({
      serviceUrl: connector.serviceUrl,
      conversationId,
      replyToId: final.activity.channelData.streamId,
      reaction: "dislike",
      text: "not my model",
    });
    assert.equal((await post(vote)).status, 200);
    const [turn] = await harness.conversations.turns(ref);
    assert.deepEqual(
      { vote: turn?.feedback?.vote, reason: turn?.feedback?.reason },
      { vote: "down", reason: "not my model" },
    );

    const button = (
      final.activity.attachments[0].content.actions as { title: string; data: Record<string, unknown> }[]
    )[0];
    assert.equal(button?.title, "Talk to a person");
    const click = cardSubmit({ serviceUrl: connector.serviceUrl, conversationId, value: button?.data ?? {} });
    assert.equal((await post(click)).status, 200);
    const handoff = await connector.waitFor((r) => r.conversationId === supportChannel, 10_000);
    assert.match(handoff.activity.text, /How do I return an item\?/);
    // While a person has the conversation, the bot stays silent in it.
    const before = connector.for(conversationId).length;
    const later = personalMessage({ serviceUrl: connector.serviceUrl, text: "Hello?", conversationId });
    assert.equal((await post(later)).status, 200);
    await adapter.idle();
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.deepEqual(
      connector
        .for(conversationId)
        .slice(before)
        .map((r) => r.activity.type),
      [],
    );
  });

  it("answers a channel @mention once, in its thread, without streaming", async () => {
    const activity = channelMessage({
      serviceUrl: connector.serviceUrl,
      text: "How long does shipping take?",
      mention: true,
    });
    const conversationId = conversationIdOf(activity);
    assert.equal((await post(activity)).status, 200);
    await connector.waitFor((r) => r.conversationId === conversationId && isFinal(r), 30_000);
    await adapter.idle();
    const calls = connector.for(conversationId);
    assert.equal(calls.filter(isFinal).length, 1);
    assert.equal(calls.filter((r) => streamType(r) !== undefined).length, 0);
  });

  it("sends nothing for a channel message that does not mention the bot", async () => {
    const activity = channelMessage({ serviceUrl: connector.serviceUrl, text: "lunch?", mention: false });
    const conversationId = conversationIdOf(activity);
    assert.equal((await post(activity)).status, 200);
    await adapter.idle();
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(connector.for(conversationId).length, 0);
    const turns = await harness.conversations.turns({
      channel: "teams",
      tenant: (activity.channelData as { tenant: { id: string } }).tenant.id,
      conversationKey: conversationId,
    });
    assert.equal(turns.length, 0);
  });

  it("gives one answer when the same activity is delivered three times", async () => {
    const activity = personalMessage({
      serviceUrl: connector.serviceUrl,
      text: "What payment methods do you accept?",
    });
    const conversationId = conversationIdOf(activity);
    const first = await Promise.all([post(activity), post(activity)]);
    assert.deepEqual(
      first.map((r) => r.status),
      [200, 200],
    );
    await connector.waitFor((r) => r.conversationId === conversationId && isFinal(r), 30_000);
    assert.equal((await post(activity)).status, 200);
    await adapter.idle();
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(connector.for(conversationId).filter(isFinal).length, 1);
    const turns = await harness.conversations.turns({
      channel: "teams",
      tenant: (activity.channelData as { tenant: { id: string } }).tenant.id,
      conversationKey: conversationId,
    });
    assert.equal(turns.length, 1);
  });

  it("delivers the answer after backing off when the connector answers 429", async () => {
    connector.fail({ status: 429, times: 2, activityType: "message" });
    const activity = channelMessage({
      serviceUrl: connector.serviceUrl,
      text: "How do I return an item?",
      mention: true,
    });
    const conversationId = conversationIdOf(activity);
    assert.equal((await post(activity)).status, 200);
    await connector.waitFor((r) => r.conversationId === conversationId && isFinal(r), 30_000);
    await adapter.idle();
    assert.equal(connector.for(conversationId).filter(isFinal).length, 1);
  });
});

describe("Teams channel end to end with JWT validation on", () => {
  const appId = "0b7c4f0e-8d7a-4a8e-9d55-3c1f2a9b6e01";
  const connector = new FakeBotConnector();
  const issuer = new TeamsTokenIssuer();
  let adapter: TeamsAdapter;
  let harness: Harness;

  before(async () => {
    await connector.start();
    await issuer.start();
    harness = await startHarness({
      env: {
        TEAMS_SERVICE_URL_ALLOWLIST: connector.origin,
        MICROSOFT_APP_ID: appId,
        MICROSOFT_APP_PASSWORD: "offline",
      },
      adapters: (config) => {
        adapter = new TeamsAdapter(config.teams, {
          auth: {
            openIdMetadataUrl: issuer.openIdMetadataUrl,
            credentialsFactory: new FixedCredentialsFactory(appId),
          },
        });
        return [adapter];
      },
    });
  });
  after(async () => {
    await adapter.idle();
    await harness.stop();
    await issuer.stop();
    await connector.stop();
  });

  it("refuses an unsigned request with 401 and enqueues no job; a signed one is answered", async () => {
    const activity = personalMessage({
      serviceUrl: connector.serviceUrl,
      text: "How do I reset my password?",
    });
    const conversationId = conversationIdOf(activity);
    const refused = await fetch(`${harness.baseUrl}/api/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(activity),
    });
    assert.equal(refused.status, 401);
    assert.equal(await harness.conversations.queueDepth(), 0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(connector.for(conversationId).length, 0, "nothing was answered");
    const token = await issuer.sign({ appId, serviceUrl: connector.serviceUrl });
    const accepted = await fetch(`${harness.baseUrl}/api/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify(activity),
    });
    assert.equal(accepted.status, 200);
    await connector.waitFor((r) => r.conversationId === conversationId && isFinal(r), 30_000);
    const ready = (await (await fetch(`${harness.baseUrl}/readyz`)).json()) as Record<string, unknown>;
    assert.match(JSON.stringify(ready), /"jwtValidation":"on"/);
  });
});
