import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { ACTION_HANDOFF, ACTION_VOTE_DOWN, encodeActionValue } from "../../../adapters/slack/slack-blocks.ts";
import { ErrorCode, GatewayError } from "../../../src/errors.ts";
import {
  appMention,
  botOwnMessage,
  buttonClick,
  directMessage,
  editedMessage,
  sendToSlackEndpoint,
  TEAM_ID,
} from "../../fakes/slack-events.ts";
import { SIGNING_SECRET, type SlackStack, startSlackStack } from "./slack-test-stack.ts";

const send = (
  stack: SlackStack,
  payload: unknown,
  extra: Partial<Parameters<typeof sendToSlackEndpoint>[2]> = {},
) => sendToSlackEndpoint(stack.url, payload, { secret: SIGNING_SECRET, ...extra });

const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

describe("SlackAdapter over the Events API", () => {
  let stack: SlackStack;
  before(async () => {
    stack = await startSlackStack({ SLACK_HANDOFF_CHANNEL: "C0SUPPORT1" });
  });
  after(async () => {
    await stack.stop();
  });
  beforeEach(() => {
    stack.fake.reset();
    stack.conversations.failWith = undefined;
  });

  it("answers a mention in its thread, streamed, with the sources as links and vote/handoff buttons", async () => {
    const event = appMention("how long do refunds take?", { channel: "C0LAN2Q65" });
    const response = await send(stack, event);
    assert.equal(response.status, 200);
    const submitted = stack.conversations.submitted.at(-1);
    assert.equal(submitted?.text, "how long do refunds take?", "the bot's mention is stripped");
    assert.equal(submitted?.conversationKey, `C0LAN2Q65:${event.event.ts}`);
    assert.equal(submitted?.tenant, TEAM_ID);

    await stack.fake.waitFor((f) => f.callsTo("chat.stopStream").length === 1);
    const start = stack.fake.callsTo("chat.startStream")[0];
    assert.equal(start?.args.thread_ts, event.event.ts, "the answer goes in the thread of the question");
    assert.equal(start?.args.recipient_user_id, event.event.user);
    assert.equal(start?.args.recipient_team_id, TEAM_ID);
    assert.ok(stack.fake.callsTo("chat.appendStream").length >= 1, "text arrives in several pieces");
    const [message] = stack.fake.messages({ threadTs: event.event.ts });
    assert.equal(message?.text, "Refunds are issued within 5 business days [1].");
    assert.equal(message?.streamed, true);
    const blocks = JSON.stringify(message?.blocks);
    assert.match(blocks, /<https:\/\/help\.example\.com\/refunds\|\[1\] Refunds>/);
    assert.match(blocks, /sgw_vote_up/);
    assert.match(blocks, /sgw_handoff/);
    const reaction = stack.fake.callsTo("reactions.add")[0];
    assert.equal(reaction?.args.timestamp, event.event.ts, "the question gets a 'working' reaction at once");
    await stack.fake.waitFor((f) => f.callsTo("reactions.remove").length === 1);
  });

  it("answers a direct message", async () => {
    const event = directMessage("where is my order?");
    assert.equal((await send(stack, event)).status, 200);
    await stack.fake.waitFor((f) => f.callsTo("chat.stopStream").length === 1);
    const [message] = stack.fake.messages({ channel: "D024BE91L", threadTs: event.event.ts });
    assert.equal(message?.text, "Refunds are issued within 5 business days [1].");
    assert.equal(stack.conversations.submitted.at(-1)?.text, "where is my order?");
  });

  it("answers once when Slack retries an event (same event_id, x-slack-retry-num: 1)", async () => {
    const event = appMention("can I change my plan?");
    const before = stack.conversations.submitted.length;
    const calls = stack.conversations.submitCalls;
    assert.equal((await send(stack, event)).status, 200);
    assert.equal((await send(stack, event, { retryNum: 1, retryReason: "http_timeout" })).status, 200);
    assert.equal((await send(stack, event, { retryNum: 2 })).status, 200);
    await stack.fake.waitFor((f) => f.callsTo("chat.stopStream").length >= 1);
    await settle();
    assert.equal(stack.conversations.submitted.length - before, 1);
    assert.equal(stack.conversations.submitCalls - calls, 1, "the retries stopped at the event_id check");
    assert.equal(stack.fake.callsTo("chat.startStream").length, 1);
    assert.equal(stack.fake.callsTo("chat.stopStream").length, 1);
  });

  it("answers once when one message arrives as two events (app_mention and message)", async () => {
    const mention = appMention("is there a student discount?", { channel: "D0MPIM001" });
    const asMessage = {
      ...mention,
      event_id: "Ev0SECOND01",
      event: { ...mention.event, type: "message", channel_type: "im" },
    };
    await send(stack, mention);
    await send(stack, asMessage);
    await stack.fake.waitFor((f) => f.callsTo("chat.stopStream").length >= 1);
    await settle();
    assert.equal(stack.fake.callsTo("chat.startStream").length, 1);
  });

  it("ignores the bot's own messages, other bots and edits", async () => {
    const before = stack.conversations.submitted.length;
    assert.equal((await send(stack, botOwnMessage("Refunds are issued within 5 days"))).status, 200);
    assert.equal((await send(stack, botOwnMessage("from another bot", { botId: "B0OTHER01" }))).status, 200);
    const other = botOwnMessage("a bot with a user id", { botId: "B0OTHER02" });
    other.event.user = "U0OTHERBOT";
    assert.equal((await send(stack, other)).status, 200);
    assert.equal((await send(stack, editedMessage("edited question"))).status, 200);
    await settle();
    assert.equal(stack.conversations.submitted.length, before);
    assert.equal(stack.fake.calls.length, 0, "no Web API call at all");
  });

  it("refuses a bad or stale signature with 401 and does nothing else", async () => {
    const before = stack.conversations.submitted.length;
    const event = appMention("hello");
    const bad = await send(stack, event, { signature: `v0=${"0".repeat(64)}` });
    assert.equal(bad.status, 401);
    assert.equal(JSON.parse(bad.text).error.code, ErrorCode.Unauthorized);
    const wrongSecret = await sendToSlackEndpoint(stack.url, event, { secret: "not-the-secret" });
    assert.equal(wrongSecret.status, 401);
    const stale = await send(stack, event, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
    assert.equal(stale.status, 401);
    const missing = await fetch(stack.url, { method: "POST", body: JSON.stringify(event) });
    assert.equal(missing.status, 401);
    await settle();
    assert.equal(stack.conversations.submitted.length, before);
    assert.equal(stack.fake.calls.length, 0);
    // The same event, correctly signed, is then answered: the refused copies left no dedupe key behind.
    assert.equal((await send(stack, event)).status, 200);
    assert.equal(stack.conversations.submitted.length, before + 1);
  });

  it("answers 400 to a malformed body (signed, so it is not a forgery)", async () => {
    const broken = await send(stack, null, { raw: '{"type":"event_callback",' });
    assert.equal(broken.status, 400);
    assert.equal(JSON.parse(broken.text).error.code, ErrorCode.MalformedJson);
    const notObject = await send(stack, null, { raw: "[1,2,3]" });
    assert.equal(notObject.status, 400);
    const badForm = await send(stack, null, {
      raw: "payload=%7Bnot-json",
      contentType: "application/x-www-form-urlencoded",
    });
    assert.equal(badForm.status, 400);
  });

  it("answers Slack's url_verification challenge", async () => {
    const response = await send(stack, {
      token: "x",
      challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
      type: "url_verification",
    });
    assert.equal(response.status, 200);
    assert.equal(JSON.parse(response.text).challenge, "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P");
  });

  it("acknowledges an event type it does not handle and stays up", async () => {
    const reaction = {
      ...appMention("x"),
      event: {
        type: "reaction_added",
        user: "U061F7AUR",
        reaction: "thumbsup",
        item: { type: "message", channel: "C0LAN2Q65", ts: "1360782400.498405" },
        event_ts: "1360782804.083113",
      },
    };
    assert.equal((await send(stack, reaction)).status, 200);
    assert.equal(
      (
        await send(stack, {
          type: "app_rate_limited",
          team_id: TEAM_ID,
          minute_rate_limited: 1518467820,
          api_app_id: "A0MDYCDME",
        })
      ).status,
      200,
    );
    const ok = await send(stack, directMessage("still there?"));
    assert.equal(ok.status, 200);
    await stack.fake.waitFor((f) => f.callsTo("chat.stopStream").length === 1);
  });

  it("delivers the whole answer after a 429 (waits Retry-After, then tries again)", async () => {
    stack.fake.rateLimit("chat.startStream", 1, 1);
    const event = appMention("do you ship to Canada?");
    const sentAt = Date.now();
    assert.equal((await send(stack, event)).status, 200);
    await stack.fake.waitFor((f) => f.callsTo("chat.stopStream").length === 1, 15_000);
    const limited = stack.fake.calls.filter((c) => c.status === 429);
    assert.equal(limited.length, 1);
    assert.ok(Date.now() - sentAt >= 1000, "the retry came after Retry-After");
    const [message] = stack.fake.messages({ threadTs: event.event.ts });
    assert.equal(message?.text, "Refunds are issued within 5 business days [1].");
  });

  it("tells the person in the thread when the message is refused (empty mention)", async () => {
    const event = appMention("");
    assert.equal((await send(stack, event)).status, 200);
    await stack.fake.waitFor((f) => f.callsTo("chat.postMessage").length === 1);
    const notice = stack.fake.callsTo("chat.postMessage")[0];
    assert.equal(notice?.args.thread_ts, event.event.ts);
    assert.equal(notice?.args.text, "Type a question first.");
  });

  it("answers 500 when the message cannot be accepted, and processes Slack's retry", async () => {
    stack.conversations.failWith = new GatewayError(ErrorCode.RedisUnavailable, "Redis is down.");
    const event = appMention("is the store open?");
    const first = await send(stack, event);
    assert.ok(first.status >= 500, `a server error makes Slack deliver again (got ${first.status})`);
    stack.conversations.failWith = undefined;
    const retry = await send(stack, event, { retryNum: 1, retryReason: "http_error" });
    assert.equal(retry.status, 200);
    await stack.fake.waitFor((f) => f.callsTo("chat.stopStream").length === 1);
  });

  it("stores a vote with the turn and hands the thread to the support channel", async () => {
    const event = appMention("my thermostat is offline");
    await send(stack, event);
    await stack.fake.waitFor((f) => f.callsTo("chat.stopStream").length === 1);
    const stop = stack.fake.callsTo("chat.stopStream")[0];
    const blocks = (stop?.args.blocks ?? []) as { type: string; elements?: { value?: string }[] }[];
    const actions = blocks.find((b) => b.type === "actions");
    const value = actions?.elements?.[0]?.value ?? "";
    const decoded = JSON.parse(value) as { m: string; k: string };
    assert.equal(decoded.k, `C0LAN2Q65:${event.event.ts}`);
    const click = (actionId: string) =>
      send(
        stack,
        buttonClick({
          actionId,
          value,
          channel: "C0LAN2Q65",
          messageTs: String(stop?.args.ts),
          threadTs: event.event.ts,
        }),
        { form: true },
      );

    assert.equal((await click(ACTION_VOTE_DOWN)).status, 200);
    await stack.fake.waitFor((f) => f.callsTo("chat.postEphemeral").length === 1);
    const turns = await stack.conversations.turns({
      channel: "slack",
      tenant: TEAM_ID,
      conversationKey: decoded.k,
    });
    assert.equal(turns.find((t) => t.id === decoded.m)?.feedback?.vote, "down");

    assert.equal((await click(ACTION_HANDOFF)).status, 200);
    await stack.fake.waitFor((f) => f.callsTo("chat.postMessage").length === 2);
    // Both go through the posts queue, in either order.
    const toSupport = stack.fake.callsTo("chat.postMessage").find((c) => c.args.channel === "C0SUPPORT1");
    const inThread = stack.fake.callsTo("chat.postMessage").find((c) => c.args.channel === "C0LAN2Q65");
    assert.equal(toSupport?.args.channel, "C0SUPPORT1");
    const posted = JSON.stringify(toSupport?.args.blocks);
    assert.match(posted, /my thermostat is offline/);
    assert.match(posted, /Refunds are issued within 5 business days/);
    assert.match(posted, /help\.example\.com\/refunds/);
    assert.match(posted, /archives\/C0LAN2Q65/, "links back to the thread");
    assert.equal(inThread?.args.thread_ts, event.event.ts);
    // A second click does not page support twice.
    await click(ACTION_HANDOFF);
    await stack.fake.waitFor((f) => f.callsTo("chat.postEphemeral").length === 2);
    assert.equal(
      stack.fake.callsTo("chat.postMessage").filter((c) => c.args.channel === "C0SUPPORT1").length,
      1,
    );
  });

  it("ignores a button whose value it did not write", async () => {
    const forged = encodeActionValue({ messageId: "m-unknown", conversationKey: "C0LAN2Q65:1.2" });
    const response = await send(
      stack,
      buttonClick({
        actionId: ACTION_VOTE_DOWN,
        value: forged,
        channel: "C0LAN2Q65",
        messageTs: "1.3",
        threadTs: "1.2",
      }),
      { form: true },
    );
    assert.equal(response.status, 200);
    await stack.fake.waitFor((f) => f.callsTo("chat.postEphemeral").length === 1);
    assert.match(String(stack.fake.callsTo("chat.postEphemeral")[0]?.args.text), /no longer kept/);
  });
});

describe("SlackAdapter without Slack streaming", () => {
  let stack: SlackStack;
  before(async () => {
    stack = await startSlackStack();
  });
  after(async () => {
    await stack.stop();
  });

  it("posts and updates a message when the workspace cannot stream", async () => {
    stack.fake.refuse("chat.startStream", "unknown_method");
    const event = appMention("what warranty do I get?");
    await send(stack, event);
    await stack.fake.waitFor(
      (f) => f.callsTo("chat.update").length >= 1 && f.callsTo("reactions.remove").length === 1,
    );
    const [message] = stack.fake.messages({ threadTs: event.event.ts });
    assert.equal(message?.streamed, false);
    assert.equal(
      message?.text,
      "Refunds are issued within 5 business days [1].\n\nSources: [1] Refunds <https://help.example.com/refunds>",
    );
    assert.match(JSON.stringify(message?.blocks), /"type":"markdown"/);
    assert.ok(stack.fake.callsTo("chat.update").length <= 2, "never one update per chunk");
    // Later answers go straight to posting.
    stack.fake.allow("chat.startStream");
    await send(stack, appMention("and the next one?"));
    await stack.fake.waitFor((f) => f.callsTo("chat.postMessage").length === 2);
    assert.equal(stack.fake.callsTo("chat.startStream").length, 0);
    assert.equal(stack.adapter.readiness().streaming, false);
  });
});
