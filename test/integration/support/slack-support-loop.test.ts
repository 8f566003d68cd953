import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ACTION_HANDOFF_RELEASE, ACTION_VOTE_DOWN } from "../../../adapters/slack/slack-blocks.ts";
import { verifyWebhook } from "../../../src/handoff/webhook-delivery.ts";
import { FakeSlackApi, type RecordedCall } from "../../fakes/fake-slack-api.ts";
import { appMention, buttonClick, sendToSlackEndpoint, TEAM_ID } from "../../fakes/slack-events.ts";
import { type Harness, startHarness } from "../../helpers/harness.ts";
import { startWebhookReceiver } from "./webhook-receiver.ts";

const SIGNING = "e6b19c573432dcc6b075501d51b51bb8";
const SUPPORT_CHANNEL = "C0SUPPORT1";
const HOOK_SECRET = "slack-webhook-secret-0123456789";
const CURATOR = "curator-token-0123456789abcdef";
const ADMIN = "admin-token-0123456789abcdef01";
const CHANNEL = "C0LAN2Q65";

const settle = (ms = 700) => new Promise((r) => setTimeout(r, ms));

describe("support loop over Slack (fake Web API, real Bolt, Redis, BullMQ, tiny model)", () => {
  let fake: FakeSlackApi;
  let h: Harness;
  let hook: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let url: string;
  const send = (payload: unknown, extra: { form?: boolean } = {}) =>
    sendToSlackEndpoint(url, payload, { secret: SIGNING, ...extra });
  const stops = (threadTs: string) =>
    fake
      .callsTo("chat.stopStream")
      .filter((c) => fake.messages({ threadTs }).some((m) => m.ts === c.args.ts));
  const curator = async (path: string) =>
    (await fetch(`${h.baseUrl}/admin/v1${path}`, { headers: { authorization: `Bearer ${CURATOR}` } })).json();

  before(async () => {
    fake = await FakeSlackApi.start();
    hook = await startWebhookReceiver([503]);
    h = await startHarness({
      env: {
        SLACK_BOT_TOKEN: fake.options.botToken,
        SLACK_SIGNING_SECRET: SIGNING,
        SLACK_API_URL: fake.url,
        SLACK_HANDOFF_CHANNEL: SUPPORT_CHANNEL,
        HANDOFF_WEBHOOK_URL: hook.url,
        HANDOFF_WEBHOOK_SECRET: HOOK_SECRET,
        HANDOFF_WEBHOOK_BACKOFF_MS: "100",
        ADMIN_TOKENS: `curator:${CURATOR},admin:${ADMIN}`,
      },
    });
    url = `${h.baseUrl}/slack/events`;
  });
  after(async () => {
    await h?.stop();
    await hook?.close();
    await fake?.close();
  });

  it("records a question the knowledge cannot answer as a Slack gap", async () => {
    const event = appMention("How do I winterize my swimming pool?");
    assert.equal((await send(event)).status, 200);
    await fake.waitFor(() => stops(event.event.ts).length === 1, 20_000);
    const gaps = (await curator("/gaps")) as {
      groups: { channels: string[]; reasons: Record<string, number> }[];
    };
    assert.ok(
      gaps.groups.some((g) => g.channels.includes("slack") && g.reasons.no_answer === 1),
      JSON.stringify(gaps),
    );
  });

  it("records a thumbs down, hands off on 'talk to a person' to the support channel and the webhook, stays silent, returns on the button", async () => {
    const first = appMention("my thermostat shows E4");
    await send(first);
    await fake.waitFor(() => stops(first.event.ts).length === 1, 20_000);
    const stop = stops(first.event.ts)[0] as RecordedCall;
    const blocks = stop.args.blocks as { type: string; elements?: { value?: string }[] }[];
    const value = blocks.find((b) => b.type === "actions")?.elements?.[0]?.value ?? "";
    await send(
      buttonClick({
        actionId: ACTION_VOTE_DOWN,
        value,
        channel: CHANNEL,
        messageTs: String(stop.args.ts),
        threadTs: first.event.ts,
      }),
      { form: true },
    );
    await fake.waitFor((f) => f.callsTo("chat.postEphemeral").length >= 1);
    const gaps = (await curator("/gaps")) as {
      groups: { examples: string[]; reasons: Record<string, number> }[];
    };
    assert.ok(
      gaps.groups.some((g) => g.reasons.downvote === 1 && g.examples.includes("my thermostat shows E4")),
    );

    // The user asks for a person in the thread.
    await send(appMention("talk to a person", { threadTs: first.event.ts }));
    const post = await fake.waitFor((f) =>
      f.callsTo("chat.postMessage").find((c) => c.args.channel === SUPPORT_CHANNEL),
    );
    assert.match(JSON.stringify(post.args.blocks), /my thermostat shows E4/);
    const actions = (
      post.args.blocks as { type: string; elements?: { action_id?: string; value?: string }[] }[]
    ).find((b) => b.type === "actions");
    const release = actions?.elements?.find((e) => e.action_id === ACTION_HANDOFF_RELEASE);
    assert.ok(release?.value, "the handoff post has a Return to bot button");
    await fake.waitFor(
      () =>
        fake.messages({ threadTs: first.event.ts }).some((m) => /person from our support team/.test(m.text)),
      20_000,
    );

    // The webhook: first attempt refused (503), delivered signed on the retry.
    const posts = await hook.waitFor((r) => r.some((p) => p.status === 200));
    assert.equal(posts[0]?.status, 503);
    const ok = posts.find((p) => p.status === 200);
    assert.ok(ok);
    assert.ok(
      verifyWebhook(
        HOOK_SECRET,
        String(ok.headers["x-timestamp"]),
        ok.body,
        String(ok.headers["x-signature"]),
      ),
    );
    const record = JSON.parse(ok.body) as {
      data: { channel: string; tenant: string; userId: string; question: string };
    };
    assert.deepEqual(
      { channel: record.data.channel, tenant: record.data.tenant, question: record.data.question },
      { channel: "slack", tenant: TEAM_ID, question: "my thermostat shows E4" },
    );

    // Silent while handed off.
    const before = fake.messages({ threadTs: first.event.ts }).length;
    await send(appMention("hello, anyone?", { threadTs: first.event.ts }));
    await settle(1500);
    assert.equal(
      fake.messages({ threadTs: first.event.ts }).length,
      before,
      "the bot answered while handed off",
    );

    // Someone writes in the thread without mentioning the bot (Slack sends it with message.channels):
    // the asker's own words leave the hand-off waiting, a support person's mark it taken.
    const inThread = (user: string, text: string) => {
      const base = appMention(text, { threadTs: first.event.ts, user });
      return { ...base, event: { ...base.event, type: "message", channel_type: "channel", text } };
    };
    const status = async () =>
      ((await curator("/handoffs")) as { handoffs: { id: string; status: string }[] }).handoffs.find(
        (o) => o.id === release.value,
      )?.status;
    assert.equal((await send(inThread("U061F7AUR", "still broken"))).status, 200);
    assert.equal(await status(), "waiting");
    assert.equal((await send(inThread("U0AGENT01", "On it, one moment."))).status, 200);
    assert.equal(await status(), "human", "a person replying in the thread took the hand-off");

    // A person answers through the admin API and keeps the conversation (release: false).
    const reply = await fetch(`${h.baseUrl}/admin/v1/handoffs/${release.value}/reply`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: JSON.stringify({ text: "Hi, Sam from support here: is the E4 still showing?", release: false }),
    });
    assert.equal(reply.status, 200);
    const relayed = await fake.waitFor(() =>
      fake.messages({ threadTs: first.event.ts }).find((m) => /Sam from support/.test(m.text)),
    );
    assert.equal(relayed.channel, CHANNEL);

    // Someone in the support channel clicks "Return to bot".
    await send(
      buttonClick({
        actionId: ACTION_HANDOFF_RELEASE,
        value: release.value,
        channel: SUPPORT_CHANNEL,
        messageTs: String((post as RecordedCall & { ts?: string }).ts ?? "1.1"),
        threadTs: String((post as RecordedCall & { ts?: string }).ts ?? "1.1"),
        user: "U0AGENT01",
      }),
      { form: true },
    );
    await fake.waitFor((f) =>
      f
        .callsTo("chat.postMessage")
        .find((c) => /returned this conversation to the bot/.test(String(c.args.text))),
    );
    await send(appMention("how long does delivery take?", { threadTs: first.event.ts }));
    await fake.waitFor(() => stops(first.event.ts).length === 2, 20_000);
  });
});
