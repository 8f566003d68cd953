import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { FeedbackService, type TurnFeedback } from "../../../src/conversation/feedback.ts";
import { HandoffService } from "../../../src/handoff/handoff-service.ts";
import { createLogger } from "../../../src/logger.ts";
import { FakeBotConnector, type ReceivedActivity } from "../../fakes/fake-bot-connector.ts";
import {
  botAdded,
  cardSubmit,
  channelMessage,
  feedbackInvoke,
  personalMessage,
} from "../../fakes/teams-activities.ts";
import { ScriptedConversations } from "../../fakes/teams-scripted-conversations.ts";
import { startTeamsServer, type TeamsTestServer } from "./teams-test-server.ts";

const citations = [
  {
    n: 1,
    title: "Refunds",
    path: "billing/refunds.md#partial-refunds",
    heading: "Partial refunds",
    url: "https://help.example.com/refunds",
  },
];

const isFinal = (r: ReceivedActivity) => r.activity.type === "message";
const streamType = (r: ReceivedActivity) => r.activity.channelData?.streamType as string | undefined;

describe("Teams adapter against a fake Bot Framework connector", () => {
  const connector = new FakeBotConnector();
  const conversations = new ScriptedConversations({
    answer: (m) => `You asked: ${m.text}. Refunds take five days [1].`,
    citations,
    handedOff: (m) => m.text === "for the person, not the bot",
  });
  const votes = new Map<string, TurnFeedback>();
  const logger = createLogger({ level: "silent" });
  const feedback = new FeedbackService({
    store: { setFeedback: async (_ref, turnId, vote) => votes.set(turnId, vote) },
    logger,
  });
  const handoff = new HandoffService({ turns: (ref) => conversations.turns(ref), logger });
  const supportChannel = "19:support0000000000000000000000@thread.tacv2";
  let teams: TeamsTestServer;

  before(async () => {
    await connector.start();
    teams = await startTeamsServer({
      env: { TEAMS_SERVICE_URL_ALLOWLIST: connector.origin, TEAMS_HANDOFF_CONVERSATION: supportChannel },
      conversations,
      extra: { feedback, handoff },
    });
  });
  after(async () => {
    await teams.stop();
    await connector.stop();
  });

  it("streams a personal-chat answer: typing, informative update, chunks in order, then the final message with citations", async () => {
    const activity = personalMessage({ serviceUrl: connector.serviceUrl, text: "how do refunds work?" });
    const conversationId = (activity.conversation as { id: string }).id;
    const response = await teams.post(activity);
    assert.equal(response.status, 200);
    const final = await connector.waitFor((r) => r.conversationId === conversationId && isFinal(r));
    const calls = connector.for(conversationId);
    assert.equal(calls[0]?.activity.type, "typing");
    assert.equal(
      streamType(calls[0] as ReceivedActivity),
      undefined,
      "the first typing is a plain indicator",
    );
    const stream = calls.filter((r) => r.activity.type === "typing" && streamType(r) !== undefined);
    assert.equal(streamType(stream[0] as ReceivedActivity), "informative");
    const chunks = stream.filter((r) => streamType(r) === "streaming");
    assert.ok(chunks.length >= 2, `expected several streamed chunks, got ${chunks.length}`);
    const streamId = stream[0]?.id;
    const sequences = stream.map((r) => r.activity.channelData.streamSequence as number);
    assert.deepEqual(
      sequences,
      sequences.map((_, i) => i + 1),
      "stream sequence numbers count up from 1",
    );
    for (const r of stream.slice(1)) {
      assert.equal(r.activity.channelData.streamId, streamId, "every update names the stream");
      assert.ok(r.activity.entities.some((e: { type: string }) => e.type === "streaminfo"));
    }
    // Each chunk carries the whole text so far, so later ones extend earlier ones.
    const texts = chunks.map((r) => r.activity.text as string);
    for (let i = 1; i < texts.length; i++) assert.ok(texts[i]?.startsWith(texts[i - 1] ?? "\0"));
    assert.equal(final.activity.text, "You asked: how do refunds work?. Refunds take five days [1].");
    assert.equal(final.activity.channelData.streamType, "final");
    assert.equal(final.activity.channelData.streamId, streamId);
    assert.equal(final.activity.channelData.feedbackLoopEnabled, true, "Teams' own thumbs up/down");
    // Sources travel in an Adaptive Card, numbered like the answer's [n] markers.
    const card = final.activity.attachments?.[0];
    assert.equal(card?.contentType, "application/vnd.microsoft.card.adaptive");
    const lines = (card.content.body as { text: string }[]).map((b) => b.text);
    assert.ok(
      lines.includes("[1] [Refunds](https://help.example.com/refunds) · Partial refunds"),
      lines.join(" | "),
    );
    assert.ok(final.at > (chunks.at(-1)?.at ?? 0), "the final message comes after the last chunk");
  });

  it("answers a channel @mention once, in the thread, with the mention removed and without streaming", async () => {
    const activity = channelMessage({
      serviceUrl: connector.serviceUrl,
      text: "where is my invoice?",
      mention: true,
    });
    const conversationId = (activity.conversation as { id: string }).id;
    assert.equal((await teams.post(activity)).status, 200);
    const final = await connector.waitFor((r) => r.conversationId === conversationId && isFinal(r));
    await teams.adapter.idle();
    const calls = connector.for(conversationId);
    assert.deepEqual(
      calls.map((r) => r.activity.type),
      ["typing", "message"],
    );
    assert.equal(final.activity.channelData?.streamType, undefined);
    assert.equal(final.activity.text, "You asked: where is my invoice?. Refunds take five days [1].");
    const submitted = conversations.submitted.find((m) => m.conversationKey === conversationId);
    assert.equal(submitted?.text, "where is my invoice?");
    assert.ok(conversationId.includes(";messageid="), "a channel thread is its own conversation");
  });

  it("records Teams' thumbs-down with its reason on the answer it was given for", async () => {
    const activity = personalMessage({ serviceUrl: connector.serviceUrl, text: "vote on me" });
    const conversationId = (activity.conversation as { id: string }).id;
    await teams.post(activity);
    const final = await connector.waitFor((r) => r.conversationId === conversationId && isFinal(r));
    await teams.adapter.idle();
    const invoke = feedbackInvoke({
      serviceUrl: connector.serviceUrl,
      conversationId,
      replyToId: final.activity.channelData.streamId,
      reaction: "dislike",
      text: "too vague",
    });
    const response = await teams.post(invoke);
    assert.equal(response.status, 200);
    const [turn] = await conversations.turns({
      channel: "teams",
      tenant: "any",
      conversationKey: conversationId,
    });
    const messageId = turn?.id;
    assert.ok(messageId);
    assert.deepEqual(
      { vote: votes.get(messageId)?.vote, reason: votes.get(messageId)?.reason },
      { vote: "down", reason: "too vague" },
    );
    const unknown = feedbackInvoke({
      serviceUrl: connector.serviceUrl,
      conversationId,
      replyToId: "not-a-bot-message",
      reaction: "like",
    });
    assert.equal((await teams.post(unknown)).status, 404);
  });

  it("hands the conversation to the Teams support channel when Talk to a person is pressed", async () => {
    const activity = personalMessage({ serviceUrl: connector.serviceUrl, text: "I need a human" });
    const conversationId = (activity.conversation as { id: string }).id;
    await teams.post(activity);
    const final = await connector.waitFor((r) => r.conversationId === conversationId && isFinal(r));
    await teams.adapter.idle();
    const button = final.activity.attachments[0].content.actions[0];
    assert.equal(button.title, "Talk to a person");
    const click = cardSubmit({ serviceUrl: connector.serviceUrl, conversationId, value: button.data });
    assert.equal((await teams.post(click)).status, 200);
    const posted = await connector.waitFor((r) => r.conversationId === supportChannel);
    assert.match(posted.activity.text, /I need a human/);
    const confirmation = connector.for(conversationId).at(-1);
    assert.match(confirmation?.activity.text, /person from the support team/);
  });

  it("stays silent in a conversation handed off to a person", async () => {
    const activity = personalMessage({
      serviceUrl: connector.serviceUrl,
      text: "for the person, not the bot",
    });
    const conversationId = (activity.conversation as { id: string }).id;
    assert.equal((await teams.post(activity)).status, 200);
    await teams.adapter.idle();
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(connector.for(conversationId).length, 0, "no typing, no answer");
  });

  it("ignores a channel message that does not mention the bot", async () => {
    const activity = channelMessage({
      serviceUrl: connector.serviceUrl,
      text: "team lunch at noon",
      mention: false,
    });
    const conversationId = (activity.conversation as { id: string }).id;
    const before = conversations.submitted.length;
    assert.equal((await teams.post(activity)).status, 200);
    await teams.adapter.idle();
    assert.equal(conversations.submitted.length, before);
    assert.equal(connector.for(conversationId).length, 0);
  });

  it("gives one answer when Teams redelivers the same activity", async () => {
    const activity = personalMessage({ serviceUrl: connector.serviceUrl, text: "reset my password" });
    const conversationId = (activity.conversation as { id: string }).id;
    const statuses = await Promise.all([teams.post(activity), teams.post(activity)]);
    assert.deepEqual(
      statuses.map((r) => r.status),
      [200, 200],
    );
    await connector.waitFor((r) => r.conversationId === conversationId && isFinal(r));
    assert.equal((await teams.post(activity)).status, 200);
    await teams.adapter.idle();
    assert.equal(connector.for(conversationId).filter(isFinal).length, 1);
    assert.equal(conversations.submitted.filter((m) => m.conversationKey === conversationId).length, 1);
  });

  it("delivers the answer after backing off when the connector answers 429", async () => {
    connector.fail({ status: 429, times: 2, activityType: "message", retryAfterSeconds: 0 });
    const activity = channelMessage({ serviceUrl: connector.serviceUrl, text: "throttle me", mention: true });
    const conversationId = (activity.conversation as { id: string }).id;
    assert.equal((await teams.post(activity)).status, 200);
    const final = await connector.waitFor((r) => r.conversationId === conversationId && isFinal(r));
    await teams.adapter.idle();
    assert.equal(connector.for(conversationId).filter(isFinal).length, 1);
    assert.match(final.activity.text, /throttle me/);
  });

  it("welcomes a user when the bot is added, and acknowledges other activity types without answering", async () => {
    const added = botAdded({ serviceUrl: connector.serviceUrl });
    const conversationId = (added.conversation as { id: string }).id;
    assert.equal((await teams.post(added)).status, 200);
    const welcome = connector.for(conversationId);
    assert.equal(welcome.length, 1);
    assert.match(welcome[0]?.activity.text, /support questions/);
    const reaction = {
      ...personalMessage({ serviceUrl: connector.serviceUrl, text: "" }),
      type: "messageReaction",
    };
    assert.equal((await teams.post(reaction)).status, 200);
  });

  it("refuses malformed JSON and activities without serviceUrl, conversation or sender with 400 and a reason", async () => {
    const bad = await teams.post("{not json");
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, "malformed_json");
    const good = personalMessage({ serviceUrl: connector.serviceUrl, text: "hi" });
    for (const [field, reason] of [
      ["serviceUrl", /serviceUrl/],
      ["conversation", /conversation/],
      ["from", /sender/],
    ] as const) {
      const { [field]: _omitted, ...rest } = good;
      const response = await teams.post(rest);
      assert.equal(response.status, 400, field);
      const body = (await response.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, "bad_request");
      assert.match(body.error.message, reason);
    }
  });

  it("refuses an activity whose serviceUrl is not on the allow-list, and sends nothing there", async () => {
    const before = conversations.submitted.length;
    const activity = personalMessage({ serviceUrl: "https://attacker.example.net/", text: "hi" });
    const response = await teams.post(activity);
    assert.equal(response.status, 403);
    assert.equal(conversations.submitted.length, before);
  });

  it("reports in readiness that JWT validation is off without an app id", () => {
    const ready = teams.adapter.readiness() as { jwtValidation: string };
    assert.match(ready.jwtValidation, /^OFF/);
  });
});

describe("Teams adapter with a tenant allow-list", () => {
  const connector = new FakeBotConnector();
  const conversations = new ScriptedConversations({ answer: () => "ok", chunkDelayMs: 1 });
  let teams: TeamsTestServer;

  before(async () => {
    await connector.start();
    teams = await startTeamsServer({
      env: { TEAMS_SERVICE_URL_ALLOWLIST: connector.origin, TEAMS_ALLOWED_TENANTS: "tenant-a,tenant-b" },
      conversations,
    });
  });
  after(async () => {
    await teams.stop();
    await connector.stop();
  });

  it("answers listed tenants and refuses others with 403 without enqueueing", async () => {
    const listed = personalMessage({ serviceUrl: connector.serviceUrl, text: "hi", tenantId: "tenant-b" });
    assert.equal((await teams.post(listed)).status, 200);
    const other = personalMessage({ serviceUrl: connector.serviceUrl, text: "hi", tenantId: "tenant-z" });
    const refused = await teams.post(other);
    assert.equal(refused.status, 403);
    assert.match(
      ((await refused.json()) as { error: { message: string } }).error.message,
      /TEAMS_ALLOWED_TENANTS/,
    );
    await teams.adapter.idle();
    assert.deepEqual(
      conversations.submitted.map((m) => m.tenant),
      ["tenant-b"],
    );
  });
});

describe("Teams adapter while a message waits in the queue", () => {
  const connector = new FakeBotConnector();
  const conversations = new ScriptedConversations({
    answer: () => "late answer",
    queueDelayMs: 700,
    chunkDelayMs: 1,
  });
  let teams: TeamsTestServer;

  before(async () => {
    await connector.start();
    teams = await startTeamsServer({
      env: { TEAMS_SERVICE_URL_ALLOWLIST: connector.origin },
      conversations,
      adapter: { typingIntervalMs: 200 },
    });
  });
  after(async () => {
    await teams.stop();
    await connector.stop();
  });

  it("renews the typing indicator until the answer starts, and not after", async () => {
    const activity = channelMessage({ serviceUrl: connector.serviceUrl, text: "slow one", mention: true });
    const conversationId = (activity.conversation as { id: string }).id;
    assert.equal((await teams.post(activity)).status, 200);
    await connector.waitFor((r) => r.conversationId === conversationId && isFinal(r));
    await teams.adapter.idle();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const types = connector.for(conversationId).map((r) => r.activity.type);
    assert.ok(types.filter((t) => t === "typing").length >= 3, types.join(","));
    assert.equal(types.at(-1), "message", "no typing after the answer");
  });
});
