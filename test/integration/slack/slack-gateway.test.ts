import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { ACTION_HANDOFF, ACTION_VOTE_UP, escapeMrkdwn } from "../../../adapters/slack/slack-blocks.ts";
import type { ConversationRef } from "../../../src/conversation/inbound-message.ts";
import { createLogger } from "../../../src/logger.ts";
import { FakeSlackApi, type RecordedCall } from "../../fakes/fake-slack-api.ts";
import {
  appMention,
  botOwnMessage,
  buttonClick,
  directMessage,
  sendToSlackEndpoint,
  TEAM_ID,
} from "../../fakes/slack-events.ts";
import { type Harness, startHarness } from "../../helpers/harness.ts";
import { type RecordingWorker, startRecordingWorker } from "./recording-worker.ts";

const SECRET = "e6b19c573432dcc6b075501d51b51bb8";
const SUPPORT_CHANNEL = "C0SUPPORT1";

function slackEnv(fake: FakeSlackApi): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: fake.options.botToken,
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: fake.url,
    SLACK_HANDOFF_CHANNEL: SUPPORT_CHANNEL,
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 500));
const stopsIn = (fake: FakeSlackApi, threadTs: string) =>
  fake.callsTo("chat.stopStream").filter((c) => fake.messages({ threadTs }).some((m) => m.ts === c.args.ts));

function refOf(channel: string, threadTs: string): ConversationRef {
  return { channel: "slack", tenant: TEAM_ID, conversationKey: `${channel}:${threadTs}` };
}

describe("Slack through the gateway (real Bolt, Redis, BullMQ, worker with the tiny model)", () => {
  let fake: FakeSlackApi;
  let harness: Harness;
  let worker: RecordingWorker;
  let url: string;
  const send = (payload: unknown, extra: { retryNum?: number; signature?: string; form?: boolean } = {}) =>
    sendToSlackEndpoint(url, payload, { secret: SECRET, ...extra });

  before(async () => {
    fake = await FakeSlackApi.start();
    harness = await startHarness({ env: slackEnv(fake), worker: false });
    worker = await startRecordingWorker(harness.config, createLogger({ level: "silent" }));
    url = `${harness.baseUrl}/slack/events`;
  });
  after(async () => {
    await worker.close();
    await harness.stop();
    await fake.close();
  });
  beforeEach(() => fake.reset());

  it("answers a mention in its thread, streaming, and keeps the turn", async () => {
    const event = appMention("how do I reset my password?");
    assert.equal((await send(event)).status, 200);
    await fake.waitFor(() => stopsIn(fake, event.event.ts).length === 1, 20_000);
    const start = fake.callsTo("chat.startStream")[0] as RecordedCall;
    assert.equal(start.args.channel, "C0LAN2Q65");
    assert.equal(start.args.thread_ts, event.event.ts);
    assert.ok(
      String(start.args.markdown_text).length > 0,
      "the first text went out with the start of the stream",
    );
    const [message] = fake.messages({ threadTs: event.event.ts });
    const turns = await harness.conversations.turns(refOf("C0LAN2Q65", event.event.ts));
    assert.equal(turns.length, 1);
    assert.equal(turns[0]?.question, "how do I reset my password?");
    assert.ok((turns[0]?.answer.length ?? 0) > 0);
    assert.equal(message?.text.trim(), turns[0]?.answer, "Slack shows exactly the stored answer");
    assert.match(JSON.stringify(message?.blocks), /sgw_vote_up/);
  });

  it("answers a direct message", async () => {
    const event = directMessage("my thermostat shows E4");
    assert.equal((await send(event)).status, 200);
    await fake.waitFor(() => stopsIn(fake, event.event.ts).length === 1, 20_000);
    const turns = await harness.conversations.turns(refOf("D024BE91L", event.event.ts));
    assert.equal(turns[0]?.question, "my thermostat shows E4");
  });

  it("answers once when Slack retries the event (same event_id, x-slack-retry-num: 1)", async () => {
    const event = appMention("can I return an opened box?");
    const [first, retry] = await Promise.all([send(event), send(event, { retryNum: 1 })]);
    assert.equal(first.status, 200);
    assert.equal(retry.status, 200);
    assert.equal((await send(event, { retryNum: 2 })).status, 200);
    await fake.waitFor(() => stopsIn(fake, event.event.ts).length === 1, 20_000);
    await settle();
    assert.equal(fake.callsTo("chat.startStream").length, 1);
    assert.equal((await harness.conversations.turns(refOf("C0LAN2Q65", event.event.ts))).length, 1);
  });

  it("does nothing for the bot's own message", async () => {
    const own = botOwnMessage("an answer the bot wrote");
    assert.equal((await send(own)).status, 200);
    await settle();
    assert.equal(fake.calls.length, 0);
    assert.equal((await harness.conversations.turns(refOf("D024BE91L", own.event.ts))).length, 0);
  });

  it("refuses a bad signature with 401 and enqueues nothing", async () => {
    const event = appMention("forged question");
    const response = await send(event, { signature: `v0=${"a".repeat(64)}` });
    assert.equal(response.status, 401);
    await settle();
    assert.equal(fake.calls.length, 0);
    assert.equal((await harness.conversations.turns(refOf("C0LAN2Q65", event.event.ts))).length, 0);
  });

  it("delivers the answer after a 429 from Slack (Retry-After: 1)", async () => {
    fake.rateLimit("chat.startStream", 1, 1);
    const event = appMention("what is the warranty?");
    assert.equal((await send(event)).status, 200);
    await fake.waitFor(() => stopsIn(fake, event.event.ts).length === 1, 20_000);
    const limited = fake.calls.filter((c) => c.status === 429);
    assert.equal(limited.length, 1);
    const started = fake.callsTo("chat.startStream")[0] as RecordedCall;
    assert.ok(started.at - (limited[0] as RecordedCall).at >= 1000, "the retry waited Retry-After");
    const turns = await harness.conversations.turns(refOf("C0LAN2Q65", event.event.ts));
    assert.equal(fake.messages({ threadTs: event.event.ts })[0]?.text.trim(), turns[0]?.answer);
  });

  it("shows the model the earlier turns of the thread on a follow-up", async () => {
    const first = appMention("do you ship to Canada?");
    await send(first);
    await fake.waitFor(() => stopsIn(fake, first.event.ts).length === 1, 20_000);
    const followUp = appMention("and how long does it take?", { threadTs: first.event.ts });
    await send(followUp);
    await fake.waitFor(() => fake.callsTo("chat.stopStream").length === 2, 20_000);
    const turns = await harness.conversations.turns(refOf("C0LAN2Q65", first.event.ts));
    assert.deepEqual(
      turns.map((t) => t.question),
      ["do you ship to Canada?", "and how long does it take?"],
    );
    const request = worker.requests.find((r) => r.prompt.includes("and how long does it take?"));
    assert.ok(request, "the worker generated the follow-up");
    assert.deepEqual(request.history.at(-1), { user: "do you ship to Canada?", assistant: turns[0]?.answer });
    const followStart = fake.callsTo("chat.startStream")[1] as RecordedCall;
    assert.equal(followStart.args.thread_ts, first.event.ts, "the follow-up is answered in the same thread");
  });

  it("stores a vote with the turn and hands the thread to the support channel", async () => {
    const event = appMention("I was charged twice");
    await send(event);
    await fake.waitFor(() => stopsIn(fake, event.event.ts).length === 1, 20_000);
    const stop = stopsIn(fake, event.event.ts)[0] as RecordedCall;
    const blocks = stop.args.blocks as { type: string; elements?: { value?: string }[] }[];
    const value = blocks.find((b) => b.type === "actions")?.elements?.[0]?.value ?? "";
    const click = (actionId: string) =>
      send(
        buttonClick({
          actionId,
          value,
          channel: "C0LAN2Q65",
          messageTs: String(stop.args.ts),
          threadTs: event.event.ts,
        }),
        { form: true },
      );
    assert.equal((await click(ACTION_VOTE_UP)).status, 200);
    await fake.waitFor((f) => f.callsTo("chat.postEphemeral").length === 1);
    const [turn] = await harness.conversations.turns(refOf("C0LAN2Q65", event.event.ts));
    assert.equal(turn?.feedback?.vote, "up");

    assert.equal((await click(ACTION_HANDOFF)).status, 200);
    const handoff = await fake.waitFor((f) =>
      f.callsTo("chat.postMessage").find((c) => c.args.channel === SUPPORT_CHANNEL),
    );
    const posted = JSON.stringify(handoff.args.blocks);
    assert.match(posted, /I was charged twice/);
    const sections = (handoff.args.blocks as { type: string; text?: { text: string } }[]).map(
      (b) => b.text?.text,
    );
    assert.ok(
      sections.includes(`*Bot's answer*\n${escapeMrkdwn(turn?.answer ?? "")}`),
      "the bot's answer goes along",
    );
    assert.match(posted, /U061F7AUR/);
  });
});

describe("Slack answers in retrieval-only mode (sources as links)", () => {
  let fake: FakeSlackApi;
  let harness: Harness;

  before(async () => {
    fake = await FakeSlackApi.start();
    harness = await startHarness({ env: slackEnv(fake), model: false });
  });
  after(async () => {
    await harness.stop();
    await fake.close();
  });

  it("renders the cited knowledge articles as links under the answer", async () => {
    const event = appMention("how do refunds work?");
    const response = await sendToSlackEndpoint(`${harness.baseUrl}/slack/events`, event, { secret: SECRET });
    assert.equal(response.status, 200);
    await fake.waitFor((f) => f.callsTo("chat.stopStream").length === 1, 20_000);
    const [message] = fake.messages({ threadTs: event.event.ts });
    const turns = await harness.conversations.turns(refOf("C0LAN2Q65", event.event.ts));
    const citations = turns[0]?.citations ?? [];
    assert.ok(citations.length > 0, "the knowledge base found sources");
    const blocks = JSON.stringify(message?.blocks);
    assert.ok(
      citations.some((c) => c.url),
      "at least one source has a public URL",
    );
    for (const c of citations.filter((c) => c.url)) {
      assert.ok(blocks.includes(`<${c.url}|[${c.n}] ${c.title}>`), `a link to ${c.url}`);
    }
    assert.equal(message?.text.trim(), turns[0]?.answer);
  });
});
