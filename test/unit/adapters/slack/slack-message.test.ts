import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { selectMessage, stripMention, toInboundMessage } from "../../../../adapters/slack/slack-message.ts";
import { InboundMessageSchema } from "../../../../src/conversation/inbound-message.ts";
import {
  appMention,
  BOT_USER_ID,
  botOwnMessage,
  directMessage,
  editedMessage,
  TEAM_ID,
} from "../../../fakes/slack-events.ts";

describe("selectMessage", () => {
  it("takes a mention in a channel and answers in its thread", () => {
    const { event } = appMention("what is the return window?");
    const selected = selectMessage(event, TEAM_ID, BOT_USER_ID);
    assert.ok(selected.handle);
    assert.equal(selected.text, "what is the return window?");
    assert.equal(selected.reply.threadTs, event.ts, "a new question starts a thread on itself");
    assert.equal(selected.reply.isDirect, false);
  });

  it("keeps a follow-up in the thread it was written in", () => {
    const { event } = appMention("and for opened boxes?", { threadTs: "1700000000.000100" });
    const selected = selectMessage(event, TEAM_ID, BOT_USER_ID);
    assert.ok(selected.handle);
    assert.equal(selected.reply.threadTs, "1700000000.000100");
    assert.equal(selected.reply.messageTs, event.ts);
  });

  it("takes every direct message", () => {
    const selected = selectMessage(directMessage("hello").event, TEAM_ID, BOT_USER_ID);
    assert.ok(selected.handle);
    assert.equal(selected.reply.isDirect, true);
  });

  it("ignores its own messages, other bots, edits, deletions and channel chatter", () => {
    const cases = [
      botOwnMessage("mine").event,
      { ...botOwnMessage("other bot", { botId: "B0OTHER" }).event, user: "U0OTHER" },
      { type: "message", subtype: "bot_message", channel: "D1", ts: "1.1", text: "x", channel_type: "im" },
      editedMessage("changed").event,
      { type: "message", subtype: "message_deleted", channel: "D1", ts: "1.2", channel_type: "im" },
      { type: "message", channel: "C1", channel_type: "channel", user: "U1", ts: "1.3", text: "no mention" },
      { type: "message", channel: "D1", channel_type: "im", ts: "1.4", text: "no user" },
      {
        type: "message",
        channel: "D1",
        channel_type: "im",
        user: BOT_USER_ID,
        ts: "1.5",
        text: "own, no bot_id",
      },
    ];
    for (const event of cases) {
      const selected = selectMessage(event, TEAM_ID, BOT_USER_ID);
      assert.equal(selected.handle, false, JSON.stringify(event));
    }
  });

  it("keeps the installing workspace as the tenant in a Slack Connect channel, and streams to the user's team", () => {
    const { event } = appMention("hello from a partner", { teamId: "T0PARTNER" });
    const selected = selectMessage({ ...event, user_team: "T0PARTNER" }, TEAM_ID, BOT_USER_ID);
    assert.ok(selected.handle);
    assert.equal(selected.reply.tenant, TEAM_ID);
    assert.equal(selected.reply.teamId, "T0PARTNER");
    assert.equal(toInboundMessage(selected.reply, selected.text).tenant, TEAM_ID);
  });
});

describe("stripMention", () => {
  it("removes the bot's mention wherever it is and keeps other people's", () => {
    assert.equal(stripMention(`<@${BOT_USER_ID}> refund?`, BOT_USER_ID), "refund?");
    assert.equal(
      stripMention(`ask <@${BOT_USER_ID}|supportbot>  about <@U999> 's order`, BOT_USER_ID),
      "ask about <@U999> 's order",
    );
    assert.equal(stripMention(`<@${BOT_USER_ID}>`, BOT_USER_ID), "");
  });

  it("removes only a leading mention when the bot's id is unknown", () => {
    assert.equal(stripMention("<@U0LAN0Z89> hi <@U2>", undefined), "hi <@U2>");
  });
});

describe("toInboundMessage", () => {
  it("makes one valid message whose ids are the same for the app_mention and message deliveries", () => {
    const mention = appMention("hi", { ts: "1700000000.000200" });
    const asMessage = { ...mention.event, type: "message", channel_type: "channel" };
    const a = selectMessage(mention.event, TEAM_ID, BOT_USER_ID);
    const b = selectMessage({ ...asMessage, channel_type: "im" }, TEAM_ID, BOT_USER_ID);
    assert.ok(a.handle && b.handle);
    const ma = toInboundMessage(a.reply, a.text);
    const mb = toInboundMessage(b.reply, b.text);
    InboundMessageSchema.parse(ma);
    assert.equal(ma.platformMessageId, mb.platformMessageId);
    assert.equal(ma.conversationKey, `C0LAN2Q65:1700000000.000200`);
    assert.equal(ma.receivedAt, 1_700_000_000_000);
  });
});
