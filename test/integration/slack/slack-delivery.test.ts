import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { appMention, sendToSlackEndpoint } from "../../fakes/slack-events.ts";
import { SIGNING_SECRET, type SlackStack, startSlackStack } from "./slack-test-stack.ts";

const ANSWER = "Refunds are issued within 5 business days [1].";

function answersQueue(stack: SlackStack) {
  const queue = stack.queues.queues.find((q) => q.queueName === "slack-answers");
  assert.ok(queue, "the Slack answers queue exists");
  return queue;
}

async function metric(stack: SlackStack, name: string, labels: string): Promise<number> {
  await stack.queues.sample();
  const text = await stack.metrics.registry.metrics();
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.split(" ").at(-1)) : 0;
}

describe("Slack answers through the delivery queue: owed until Slack has them", () => {
  let stack: SlackStack;
  before(async () => {
    stack = await startSlackStack({}, { apiRetries: 0 });
  });
  after(async () => {
    await stack.stop();
  });
  beforeEach(() => stack.fake.reset());

  it("keeps an answer Slack refused past the client's retries and delivers it once Slack takes messages again", async () => {
    stack.fake.refuse("chat.startStream", "fatal_error");
    stack.fake.refuse("chat.postMessage", "fatal_error");
    const event = appMention("where is my parcel?");
    assert.equal((await sendToSlackEndpoint(stack.url, event, { secret: SIGNING_SECRET })).status, 200);
    // Three pieces and the final answer each tried to post: the whole first attempt failed.
    await stack.fake.waitFor(
      (f) => f.calls.filter((c) => c.method === "chat.postMessage" && !c.ok).length >= 4,
    );
    const queue = answersQueue(stack);
    let counts = await queue.sample();
    for (let i = 0; i < 100 && counts.pending !== 1; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      counts = await queue.sample();
    }
    assert.equal(counts.pending, 1, "the answer is still owed, waiting for its next attempt");
    assert.equal(counts.deadLetters, 0);
    stack.fake.allow("chat.startStream");
    stack.fake.allow("chat.postMessage");
    const done = await stack.fake.waitFor(
      (f) => f.messages({ threadTs: event.event.ts }).find((m) => m.complete),
      15_000,
    );
    assert.equal(done.streamed, true, "delivered by the retry, streamed");
    assert.equal(done.text, ANSWER);
    await queue.idle();
    assert.equal(stack.fake.messages({ threadTs: event.event.ts }).length, 1, "one message in the thread");
    assert.equal(await metric(stack, "sgw_deliveries_total", 'queue="slack-answers",outcome="retry"'), 1);
    assert.equal(await metric(stack, "sgw_deliveries_total", 'queue="slack-answers",outcome="delivered"'), 1);
  });

  it("writes the answer into the message an attempt began when its final write failed (no second post)", async () => {
    stack.fake.refuse("chat.stopStream", "fatal_error");
    const event = appMention("can I get an invoice?");
    assert.equal((await sendToSlackEndpoint(stack.url, event, { secret: SIGNING_SECRET })).status, 200);
    await stack.fake.waitFor((f) => f.calls.some((c) => c.method === "chat.stopStream" && !c.ok));
    stack.fake.allow("chat.stopStream");
    // The next attempt closes the begun stream and writes the answer into it.
    await stack.fake.waitFor((f) => f.callsTo("chat.update").length === 1, 15_000);
    const [updated] = stack.fake.messages({ threadTs: event.event.ts });
    assert.ok(updated);
    assert.equal(updated.text, `${ANSWER}\n\nSources: [1] Refunds <https://help.example.com/refunds>`);
    assert.match(JSON.stringify(updated.blocks), /sgw_vote_up|help\.example\.com/);
    assert.equal(
      stack.fake.callsTo("chat.startStream").length,
      1,
      "the retry did not start a second message",
    );
    assert.equal(stack.fake.messages({ threadTs: event.event.ts }).length, 1);
  });

  it("keeps an answer Slack refuses for good as a dead letter an operator can list, counted on /metrics", async () => {
    stack.fake.refuse("chat.startStream", "channel_not_found");
    stack.fake.refuse("chat.postMessage", "channel_not_found");
    const event = appMention("hello?", { channel: "C0GONE0001" });
    assert.equal((await sendToSlackEndpoint(stack.url, event, { secret: SIGNING_SECRET })).status, 200);
    const queue = answersQueue(stack);
    for (let i = 0; i < 200 && (await queue.sample()).deadLetters === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    const dead = await queue.deadLetters();
    assert.equal(dead.length, 1);
    assert.match(dead[0]?.reason ?? "", /channel_not_found/);
    assert.equal(dead[0]?.attempts, 1, "not retried: it would fail the same way");
    assert.equal(await metric(stack, "sgw_delivery_dead_letters", 'queue="slack-answers"'), 1);
    assert.equal((stack.adapter.readiness().answers as { deadLetters: number }).deadLetters, 1);
    // Once the operator fixed the cause, the dead letter is sent again.
    stack.fake.allow("chat.startStream");
    stack.fake.allow("chat.postMessage");
    assert.equal(await queue.retryDeadLetters(), 1);
    await stack.fake.waitFor((f) => f.messages({ channel: "C0GONE0001" }).find((m) => m.complete));
    assert.equal((await queue.sample()).deadLetters, 0);
  });
});

describe("Slack answers whose gateway died mid-answer", () => {
  let dying: SlackStack;
  let live: SlackStack | undefined;
  before(async () => {
    dying = await startSlackStack({ SHUTDOWN_GRACE_MS: "0" });
  });
  after(async () => {
    await live?.stop();
    await dying.stop();
  });

  it("are finished by another gateway in the message the first one began, once", async () => {
    dying.conversations.hangNextFollow = true;
    const event = appMention("do you price match?");
    assert.equal((await sendToSlackEndpoint(dying.url, event, { secret: SIGNING_SECRET })).status, 200);
    // The first gateway started streaming the answer into the thread, then froze.
    await dying.fake.waitFor((f) => f.callsTo("chat.startStream").length === 1);
    await dying.adapter.stop();
    live = await startSlackStack(
      {},
      {},
      {},
      {
        fake: dying.fake,
        prefix: dying.prefix,
        conversations: dying.conversations,
      },
    );
    await live.fake.waitFor((f) => f.callsTo("chat.update").length === 1, 15_000);
    const [done] = live.fake.messages({ threadTs: event.event.ts });
    assert.equal(
      done?.text,
      `${ANSWER}\n\nSources: [1] Refunds <https://help.example.com/refunds>`,
      "the message shows the whole answer",
    );
    await answersQueue(live).idle();
    assert.equal(live.fake.messages({ threadTs: event.event.ts }).length, 1, "one message, not two");
    assert.equal(live.fake.callsTo("chat.startStream").length, 1);
    assert.equal(live.fake.callsTo("chat.update").length, 1, "the live gateway rewrote the begun message");
  });
});
