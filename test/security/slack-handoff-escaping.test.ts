import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ACTION_HANDOFF } from "../../adapters/slack/slack-blocks.ts";
import type { RecordedCall } from "../fakes/fake-slack-api.ts";
import { appMention, buttonClick, sendToSlackEndpoint } from "../fakes/slack-events.ts";
import { SIGNING_SECRET, type SlackStack, startSlackStack } from "../integration/slack/slack-test-stack.ts";

/**
 * Finding 4: the fallback `text` of the hand-off post carried the user's words raw, so `<!channel>`
 * paged the whole support channel and `<https://evil.example|Slack SSO>` showed a disguised link. Every
 * mrkdwn text field filled with user or knowledge text is escaped, the user id included.
 */
const HOSTILE = "<!channel> log in at <https://evil.example|Slack SSO> & <@U0BOSS>";
const LIVE = /<!channel>|<!here>|<https:\/\/evil\.example|<@U0BOSS>/;

/** Every mrkdwn string a Slack call carries: `text` and each block's text, recursively. */
function mrkdwnFields(call: RecordedCall): string[] {
  const out: string[] = [];
  if (typeof call.args.text === "string") out.push(call.args.text);
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === "object") {
      const n = node as Record<string, unknown>;
      if (n.type === "mrkdwn" && typeof n.text === "string") out.push(n.text);
      for (const value of Object.values(n)) walk(value);
    }
  };
  walk(call.args.blocks);
  return out;
}

describe("security: Slack text fields carry user and knowledge text escaped", () => {
  let stack: SlackStack;
  before(async () => {
    stack = await startSlackStack({ SLACK_HANDOFF_CHANNEL: "C0SUPPORT1" });
    stack.conversations.chunks = ["You wrote: ", HOSTILE];
    stack.conversations.citations = [
      { n: 1, title: "<!here> Refunds", url: "javascript:alert(1)", path: "billing/<!here>.md" },
    ];
  });
  after(async () => {
    await stack.stop();
  });

  it("escapes the hand-off post's notification text, its blocks and the answer's fallback text", async () => {
    const event = appMention(HOSTILE);
    assert.equal((await sendToSlackEndpoint(stack.url, event, { secret: SIGNING_SECRET })).status, 200);
    await stack.fake.waitFor((f) => f.callsTo("chat.stopStream").length === 1);
    const stop = stack.fake.callsTo("chat.stopStream")[0] as RecordedCall;
    const blocks = stop.args.blocks as {
      type: string;
      elements?: { action_id?: string; value?: string }[];
    }[];
    const value = blocks
      .find((b) => b.type === "actions")
      ?.elements?.find((e) => e.action_id === ACTION_HANDOFF)?.value as string;
    const click = buttonClick({
      actionId: ACTION_HANDOFF,
      value,
      channel: "C0LAN2Q65",
      messageTs: String(stop.args.ts),
      threadTs: event.event.ts,
    });
    assert.equal(
      (await sendToSlackEndpoint(stack.url, click, { secret: SIGNING_SECRET, form: true })).status,
      200,
    );
    const post = await stack.fake.waitFor((f) =>
      f.callsTo("chat.postMessage").find((c) => c.args.channel === "C0SUPPORT1"),
    );
    assert.match(String(post.args.text), /&lt;!channel&gt;/, "the words are shown, escaped");
    for (const field of mrkdwnFields(post)) assert.doesNotMatch(field, LIVE, field);
    // Sources never link anywhere but http(s).
    for (const field of mrkdwnFields(stop)) assert.doesNotMatch(field, /javascript:|<!here>/, field);
  });

  it("escapes the fallback text of a posted (not streamed) answer", async () => {
    stack.fake.refuse("chat.startStream", "unknown_method");
    const event = appMention("and again?");
    await sendToSlackEndpoint(stack.url, event, { secret: SIGNING_SECRET });
    await stack.fake.waitFor((f) => f.callsTo("chat.update").some((c) => Array.isArray(c.args.blocks)));
    const writes = [...stack.fake.callsTo("chat.postMessage"), ...stack.fake.callsTo("chat.update")].filter(
      (c) => c.args.channel === "C0LAN2Q65",
    );
    assert.ok(writes.length >= 2);
    for (const call of writes)
      for (const field of mrkdwnFields(call)) assert.doesNotMatch(field, LIVE, field);
  });

  it("names a web-chat asker by escaped text, never as a mention", async () => {
    const { handoffPost } = await import("../../adapters/slack/slack-handoff-destination.ts");
    const post = handoffPost("C0SUPPORT1", {
      id: "h0abc",
      channel: "webchat",
      tenant: "web",
      conversationKey: "c1",
      userId: "<!everyone>",
      question: HOSTILE,
      answer: HOSTILE,
      citations: [],
      transcript: [],
      link: "https://example.com/x|<!channel>",
      requestedAt: 1,
    });
    const fields = mrkdwnFields({ args: post } as unknown as RecordedCall);
    for (const field of fields) assert.doesNotMatch(field, /<!everyone>|<!channel>|<https:\/\/evil/, field);
    assert.ok(fields.some((f) => f.includes("&lt;!everyone&gt;")));
  });
});
