import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { TeamsAdapter } from "../../../adapters/teams/teams-adapter.ts";
import { FakeBotConnector } from "../../fakes/fake-bot-connector.ts";
import { FakeSlackApi } from "../../fakes/fake-slack-api.ts";
import { appMention, sendToSlackEndpoint } from "../../fakes/slack-events.ts";
import { personalMessage } from "../../fakes/teams-activities.ts";
import { type Harness, startHarness } from "../../helpers/harness.ts";

const SECRET = "e6b19c573432dcc6b075501d51b51bb8";

describe("queue-wait budget in Slack: a message nobody takes gets a short apology in its thread", () => {
  let fake: FakeSlackApi;
  let h: Harness;
  before(async () => {
    fake = await FakeSlackApi.start();
    // No worker at all: the message waits until the budget runs out.
    h = await startHarness({
      worker: false,
      model: false,
      env: {
        QUEUE_WAIT_MS: "1000",
        SLACK_BOT_TOKEN: fake.options.botToken,
        SLACK_SIGNING_SECRET: SECRET,
        SLACK_API_URL: fake.url,
      },
    });
  });
  after(async () => {
    await h.stop();
    await fake.close();
  });

  it("posts the apology in the thread rather than staying silent", async () => {
    const event = appMention("how do I reset my password?");
    assert.equal(
      (await sendToSlackEndpoint(`${h.baseUrl}/slack/events`, event, { secret: SECRET })).status,
      200,
    );
    const apology = await fake.waitFor(
      () => fake.messages({ threadTs: event.event.ts }).find((m) => /nobody can answer/i.test(m.text)),
      20_000,
    );
    assert.ok(apology, "an apology reached the thread");
    assert.match(apology.text, /try again/i);
  });
});

describe("queue-wait budget in Teams: a message nobody takes gets a short apology", () => {
  const connector = new FakeBotConnector();
  let h: Harness;
  let adapter: TeamsAdapter;
  before(async () => {
    await connector.start();
    h = await startHarness({
      worker: false,
      model: false,
      env: { QUEUE_WAIT_MS: "1000", TEAMS_SERVICE_URL_ALLOWLIST: connector.origin },
      adapters: (config) => {
        adapter = new TeamsAdapter(config.teams, { streamIntervalMs: 0 });
        return [adapter];
      },
    });
  });
  after(async () => {
    await adapter.idle();
    await h.stop();
    await connector.stop();
  });

  it("sends the apology to the conversation rather than staying silent", async () => {
    const activity = personalMessage({
      serviceUrl: connector.serviceUrl,
      text: "How do I reset my password?",
    });
    const conversationId = (activity.conversation as { id: string }).id;
    const res = await fetch(`${h.baseUrl}/api/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(activity),
    });
    assert.equal(res.status, 200);
    const apology = await connector.waitFor(
      (r) => r.conversationId === conversationId && /nobody can answer/i.test(String(r.activity.text ?? "")),
      20_000,
    );
    assert.match(String(apology.activity.text), /try again/i);
  });
});
