import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { plainText } from "../../adapters/teams/inbound-activity.ts";
import type { Conversations } from "../../src/conversation/conversations.ts";
import { FakeBotConnector } from "../fakes/fake-bot-connector.ts";
import { personalMessage } from "../fakes/teams-activities.ts";
import { ScriptedConversations } from "../fakes/teams-scripted-conversations.ts";
import { startTeamsServer, type TeamsTestServer } from "../integration/teams/teams-test-server.ts";

/**
 * Finding 6: `&#x110000;` in an activity's text answered 500 with the raw `Invalid code point` message.
 * Character references are range-checked, and an internal error's own words never reach a response body.
 */
describe("security: Teams character references and internal errors", () => {
  const connector = new FakeBotConnector();
  const conversations = new ScriptedConversations({ answer: (m) => `you said ${m.text}`, chunkDelayMs: 1 });
  let teams: TeamsTestServer;
  let failing: TeamsTestServer;

  before(async () => {
    await connector.start();
    const env = { TEAMS_SERVICE_URL_ALLOWLIST: connector.origin };
    teams = await startTeamsServer({ env, conversations });
    const broken: Conversations = Object.assign(Object.create(conversations) as Conversations, {
      submit: async () => {
        throw new Error("ECONNRESET 10.0.0.7:6379 internal detail");
      },
    });
    failing = await startTeamsServer({ env, conversations: broken });
  });
  after(async () => {
    await teams.stop();
    await failing.stop();
    await connector.stop();
  });

  it("reads references outside Unicode, NUL and lone surrogates as U+FFFD", () => {
    assert.equal(plainText("a&#x110000;b"), "a\ufffdb");
    assert.equal(plainText("&#1114112;&#0;&#xD800;&#99999999999999999999;"), "\ufffd\ufffd\ufffd\ufffd");
    assert.equal(plainText("&#x1F600; &#65;"), "😀 A");
  });

  it("answers an activity with &#x110000; instead of a 500", async () => {
    const activity = personalMessage({ serviceUrl: connector.serviceUrl, text: "x &#x110000; y" });
    const conversationId = (activity.conversation as { id: string }).id;
    const response = await teams.post(activity);
    const body = await response.text();
    assert.equal(response.status, 200, body);
    assert.doesNotMatch(body, /Invalid code point/);
    const final = await connector.waitFor(
      (r) => r.conversationId === conversationId && r.activity.type === "message",
    );
    assert.equal(final.activity.text, "you said x \ufffd y");
  });

  it("keeps an internal error's message out of the response body", async () => {
    const response = await failing.post(personalMessage({ serviceUrl: connector.serviceUrl, text: "hi" }));
    assert.equal(response.status, 500);
    const body = (await response.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, "internal");
    assert.doesNotMatch(body.error.message, /ECONNRESET|10\.0\.0\.7|6379/);
  });
});
