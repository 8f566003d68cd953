import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { selectMessage, toInboundMessage } from "../../../adapters/slack/slack-message.ts";
import { SlackOutbox } from "../../../adapters/slack/slack-outbox.ts";
import { Keyspace } from "../../../src/redis/keyspace.ts";
import { appMention, BOT_USER_ID, sendToSlackEndpoint, TEAM_ID } from "../../fakes/slack-events.ts";
import { SIGNING_SECRET, type SlackStack, startSlackStack } from "./slack-test-stack.ts";

/** The outbox is cleared just after the final write reaches Slack; allow it that moment. */
async function emptied(outbox: SlackOutbox): Promise<void> {
  for (let i = 0; i < 50 && (await outbox.size()) > 0; i++)
    await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(await outbox.size(), 0, "nothing is owed any more");
}

describe("Slack outbox: accepted answers are owed until Slack has them", () => {
  let stack: SlackStack;
  let outbox: SlackOutbox;
  before(async () => {
    stack = await startSlackStack({}, { sweepIntervalMs: 100, outboxLeaseMs: 400 });
    outbox = new SlackOutbox({ redis: stack.redis, keys: new Keyspace(stack.prefix).channel("slack") });
  });
  after(async () => {
    await stack.stop();
  });
  beforeEach(() => stack.fake.reset());

  it("keeps an answer Slack refused and delivers it once Slack takes messages again", async () => {
    stack.fake.refuse("chat.startStream", "fatal_error");
    stack.fake.refuse("chat.postMessage", "fatal_error");
    const event = appMention("where is my parcel?");
    assert.equal((await sendToSlackEndpoint(stack.url, event, { secret: SIGNING_SECRET })).status, 200);
    // Three pieces and the final answer each tried to post: the whole first attempt failed.
    await stack.fake.waitFor(
      (f) => f.calls.filter((c) => c.method === "chat.postMessage" && !c.ok).length >= 4,
    );
    let owed: Record<string, string> = {};
    for (let i = 0; i < 50 && !owed[Object.keys(owed)[0] ?? ""]?.includes('"attempts":1'); i++) {
      owed = await stack.redis.hgetall(new Keyspace(stack.prefix).channel("slack").key("outbox"));
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(Object.keys(owed).length, 1, "the answer is still owed");
    assert.match(Object.values(owed)[0] ?? "", /"attempts":1/, "after one failed attempt");
    stack.fake.allow("chat.startStream");
    stack.fake.allow("chat.postMessage");
    const done = await stack.fake.waitFor((f) =>
      f.messages({ threadTs: event.event.ts }).find((m) => m.complete),
    );
    assert.equal(done.streamed, true, "delivered by the retry, streamed");
    assert.equal(done.text, "Refunds are issued within 5 business days [1].");
    await emptied(outbox);
  });

  it("delivers an answer owed by a gateway that died before delivering it", async () => {
    const { event } = appMention("do you price match?");
    const selected = selectMessage(event, TEAM_ID, BOT_USER_ID);
    assert.ok(selected.handle);
    const inbound = toInboundMessage(selected.reply, selected.text);
    const { messageId } = await stack.conversations.submit(inbound);
    // Another gateway took it and died: its lease lapses.
    const dead = new SlackOutbox({
      redis: stack.redis,
      keys: new Keyspace(stack.prefix).channel("slack"),
      leaseMs: 50,
    });
    await dead.add({ messageId, target: selected.reply, conversationKey: inbound.conversationKey });
    const done = await stack.fake.waitFor((f) => f.messages({ threadTs: event.ts }).find((m) => m.complete));
    assert.equal(done.text, "Refunds are issued within 5 business days [1].");
    assert.equal(stack.fake.messages({ threadTs: event.ts }).length, 1, "delivered once");
    await emptied(outbox);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(stack.fake.messages({ threadTs: event.ts }).length, 1, "and not again by a later sweep");
  });
});
