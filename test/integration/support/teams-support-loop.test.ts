import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { TeamsAdapter } from "../../../adapters/teams/teams-adapter.ts";
import { handoffIdOf } from "../../../src/handoff/handoff-service.ts";
import { FakeBotConnector, type ReceivedActivity } from "../../fakes/fake-bot-connector.ts";
import { feedbackInvoke, personalMessage } from "../../fakes/teams-activities.ts";
import { type Harness, startHarness } from "../../helpers/harness.ts";

const CURATOR = "curator-token-0123456789abcdef";
const ADMIN = "admin-token-0123456789abcdef01";
const isFinal = (r: ReceivedActivity) => r.activity.type === "message";
const conversationIdOf = (a: Record<string, unknown>) => (a.conversation as { id: string }).id;

type Groups = { groups: { channels: string[]; examples: string[]; reasons: Record<string, number> }[] };

describe("support loop over Teams (fake Bot Framework connector, real CloudAdapter, Redis, tiny model)", () => {
  const connector = new FakeBotConnector();
  let adapter: TeamsAdapter;
  const supportChannel = "19:support2222222222222222222222@thread.tacv2";
  let h: Harness;

  before(async () => {
    await connector.start();
    h = await startHarness({
      env: {
        TEAMS_SERVICE_URL_ALLOWLIST: connector.origin,
        TEAMS_HANDOFF_CONVERSATION: supportChannel,
        ADMIN_TOKENS: `curator:${CURATOR},admin:${ADMIN}`,
      },
      adapters: (config) => {
        adapter = new TeamsAdapter(config.teams, { streamIntervalMs: 0 });
        return [adapter];
      },
    });
  });
  after(async () => {
    await adapter.idle();
    await h?.stop();
    await connector.stop();
  });

  const post = (activity: unknown) =>
    fetch(`${h.baseUrl}/api/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(activity),
    });
  const gaps = async () =>
    (await (
      await fetch(`${h.baseUrl}/admin/v1/gaps`, { headers: { authorization: `Bearer ${CURATOR}` } })
    ).json()) as Groups;
  /** Sends a 1:1 message and returns the final message the connector got after it. */
  async function say(text: string, conversationId?: string) {
    const activity = personalMessage({
      serviceUrl: connector.serviceUrl,
      text,
      ...(conversationId ? { conversationId } : {}),
    });
    const id = conversationIdOf(activity);
    const seen = connector.for(id).filter(isFinal).length;
    assert.equal((await post(activity)).status, 200);
    const final = await connector.waitFor(
      (r) => r.conversationId === id && isFinal(r) && connector.for(id).filter(isFinal).length > seen,
      30_000,
    );
    await adapter.idle();
    return { id, final: connector.for(id).filter(isFinal).at(-1) ?? final };
  }

  it("records an unanswerable question and a thumbs down as Teams gaps", async () => {
    await say("How do I winterize my swimming pool?");
    const { id, final } = await say("How do I return an item?");
    const vote = feedbackInvoke({
      serviceUrl: connector.serviceUrl,
      conversationId: id,
      replyToId: final.activity.channelData.streamId ?? final.activity.replyToId,
      reaction: "dislike",
      text: "wrong article",
    });
    assert.equal((await post(vote)).status, 200);
    const groups = (await gaps()).groups.filter((g) => g.channels.includes("teams"));
    assert.ok(
      groups.some((g) => g.reasons.no_answer === 1 && g.examples.some((e) => /swimming pool/.test(e))),
      JSON.stringify(groups),
    );
    assert.ok(
      groups.some((g) => g.reasons.downvote === 1 && g.examples.includes("How do I return an item?")),
      JSON.stringify(groups),
    );
  });

  it("hands off when the user types 'I want to speak to an agent', stays silent, and 'back to bot' returns it", async () => {
    const { id } = await say("My thermostat shows E4");
    const asked = await say("I want to speak to an agent", id);
    assert.match(String(asked.final.activity.text), /person from our support team/);
    const handoff = await connector.waitFor((r) => r.conversationId === supportChannel, 10_000);
    assert.match(String(handoff.activity.text), /My thermostat shows E4/);

    const before = connector.for(id).length;
    assert.equal(
      (await post(personalMessage({ serviceUrl: connector.serviceUrl, text: "Hello?", conversationId: id })))
        .status,
      200,
    );
    await adapter.idle();
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(connector.for(id).length, before, "the bot answered while handed off");

    // A person answers through the admin API: the reply reaches the Teams conversation (proactively).
    // The tenant test/fakes/teams-activities.ts puts on every activity.
    const tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    const handoffId = handoffIdOf({ channel: "teams", tenant, conversationKey: id });
    const reply = await fetch(`${h.baseUrl}/admin/v1/handoffs/${handoffId}/reply`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: JSON.stringify({ text: "Hi, Sam from support here: is E4 still showing?", release: false }),
    });
    assert.equal(reply.status, 200, await reply.clone().text());
    const relayed = await connector.waitFor(
      (r) => r.conversationId === id && /Sam from support/.test(String(r.activity.text)),
      10_000,
    );
    assert.equal(relayed.activity.type, "message");

    const back = await say("back to bot", id);
    assert.match(String(back.final.activity.text), /back with the bot/);
    const answered = await say("How do I reset my password?", id);
    assert.doesNotMatch(String(answered.final.activity.text), /back with the bot|support team/);
    const reasons = (await gaps()).groups.flatMap((g) =>
      g.channels.includes("teams") ? [g.reasons.handoff ?? 0] : [],
    );
    assert.equal(
      reasons.reduce((a, b) => a + b, 0),
      1,
      "the handoff is a gap for curators",
    );
  });
});
