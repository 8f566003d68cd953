import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { CloudAdapter, type ConversationReference } from "botbuilder";
import { createTeamsAuthentication } from "../../../../adapters/teams/teams-auth.ts";
import { backoffDelay, TeamsDelivery } from "../../../../adapters/teams/teams-delivery.ts";
import { testConfig } from "../../../../src/config.ts";
import { isCodedError } from "../../../../src/errors.ts";
import { createLogger } from "../../../../src/logger.ts";
import { FakeBotConnector } from "../../../fakes/fake-bot-connector.ts";

describe("TeamsDelivery retry policy (real CloudAdapter, fake connector)", () => {
  const connector = new FakeBotConnector();
  let delivery: TeamsDelivery;
  let reference: Partial<ConversationReference>;

  before(async () => {
    await connector.start();
    const adapter = new CloudAdapter(createTeamsAuthentication(testConfig().teams));
    delivery = new TeamsDelivery(adapter, "", createLogger({ level: "silent" }), {
      maxAttempts: 4,
      baseDelayMs: 20,
    });
    reference = {
      channelId: "msteams",
      serviceUrl: connector.serviceUrl,
      conversation: { id: "a:1delivery", isGroup: false, conversationType: "personal", name: "" },
    };
  });
  beforeEach(() => {
    connector.clearFailures();
    connector.attempts.length = 0;
  });
  after(() => connector.stop());

  for (const status of [412, 429, 502, 504]) {
    it(`retries a ${status} and delivers`, async () => {
      connector.fail({ status, times: 2 });
      const id = await delivery.send(reference, { type: "message", text: `after ${status}` });
      assert.ok(id);
      assert.equal(connector.attempts.length, 3);
      assert.equal(connector.received.at(-1)?.activity.text, `after ${status}`);
    });
  }

  it("waits as long as Retry-After says", async () => {
    connector.fail({ status: 429, times: 1, retryAfterSeconds: 1 });
    await delivery.send(reference, { type: "message", text: "patient" });
    const [first, second] = connector.attempts;
    assert.ok((second ?? 0) - (first ?? 0) >= 950, `waited ${(second ?? 0) - (first ?? 0)} ms`);
  });

  it("does not retry a request the connector will refuse again (400), and says delivery failed", async () => {
    connector.fail({ status: 400, times: 1 });
    await assert.rejects(delivery.send(reference, { type: "message", text: "bad" }), (error) => {
      assert.ok(isCodedError(error));
      assert.equal(error.code, "delivery_failed");
      return true;
    });
    assert.equal(connector.attempts.length, 1);
  });

  it("keeps one retry policy: the SDK pipeline does not retry a 503 on its own", async () => {
    connector.fail({ status: 503, times: 1 });
    await assert.rejects(delivery.send(reference, { type: "message", text: "once" }));
    assert.equal(connector.attempts.length, 1);
  });

  it("gives up after maxAttempts and with retry off sends once", async () => {
    connector.fail({ status: 502, times: 10 });
    await assert.rejects(delivery.send(reference, { type: "message", text: "never" }));
    assert.equal(connector.attempts.length, 4);
    connector.attempts.length = 0;
    await assert.rejects(delivery.send(reference, { type: "typing" }, { retry: false }));
    assert.equal(connector.attempts.length, 1);
  });
});

describe("backoffDelay", () => {
  it("doubles per attempt, stays within [step/2, step] and under the cap", () => {
    for (let attempt = 1; attempt <= 12; attempt++) {
      const step = Math.min(10_000, 100 * 2 ** (attempt - 1));
      for (let i = 0; i < 50; i++) {
        const d = backoffDelay(attempt, 100, 10_000);
        assert.ok(d >= step / 2 && d <= step, `attempt ${attempt}: ${d}`);
      }
    }
  });
});
