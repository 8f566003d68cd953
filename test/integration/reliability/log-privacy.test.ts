import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { createLogger } from "../../../src/logger.ts";
import { FakeSlackApi } from "../../fakes/fake-slack-api.ts";
import { directMessage, sendToSlackEndpoint } from "../../fakes/slack-events.ts";
import { Accounting, formatReport } from "../../helpers/accounting.ts";
import { startHarness } from "../../helpers/harness.ts";
import { collectEvents, createConversation, finished, postMessage } from "../../helpers/webchat-client.ts";

/** A pino destination that keeps every line. */
function capture(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split("\n").filter(Boolean));
      done();
    },
  });
  return { stream, lines };
}

const SECRETS = {
  WEBCHAT_TOKEN_SECRET: "wc-token-secret-5f0a9c1e7d",
  WEBCHAT_IDENTITY_SECRET: "wc-identity-secret-8b2d4f6a1c",
  SLACK_SIGNING_SECRET: "slack-signing-secret-3e7c9a1b5d",
  // The fake Slack API accepts only its own bot token.
  SLACK_BOT_TOKEN: "xoxb-test-token",
  MICROSOFT_APP_PASSWORD: "teams-app-password-6d8f0b2c4e",
  HANDOFF_WEBHOOK_SECRET: "handoff-webhook-secret-1a3c5e7f9b",
};
const WEB_TEXT = "my account number is 55501234 pelican-umbrella, how do I reset my password?";
const SLACK_TEXT = "slack private words marmot-lantern: what is your refund policy?";

describe("privacy in logs", () => {
  it("never writes secrets, session tokens or message text in a full run at debug level", async () => {
    const { stream, lines } = capture();
    const slack = await FakeSlackApi.start();
    const h = await startHarness({
      logger: createLogger({ level: "trace", destination: stream }),
      env: { ...SECRETS, SLACK_API_URL: slack.url, MICROSOFT_APP_ID: "00000000-0000-0000-0000-000000000001" },
    });
    const accounting = new Accounting(h.redis, h.config.redis.prefix);
    let token = "";
    try {
      const c = await createConversation(h.baseUrl);
      token = c.token;
      const res = await postMessage(h.baseUrl, c.conversationId, c.token, WEB_TEXT);
      const id = (await accounting.acceptWebchat(res, c.conversationId)) as string;
      accounting.observe(await collectEvents(h.baseUrl, c.conversationId, c.token, finished(id)));
      // Failures log too: a forged token, a malformed body, a Teams call without its JWT.
      await fetch(`${h.baseUrl}/webchat/v1/conversations/${c.conversationId}`, {
        headers: { authorization: `Bearer ${c.token}x` },
      });
      await fetch(`${h.baseUrl}/webchat/v1/conversations/${c.conversationId}/messages`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${c.token}` },
        body: `{"text": "${WEB_TEXT}"`,
      });
      const teams = await fetch(`${h.baseUrl}/api/messages`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${c.token}` },
        body: JSON.stringify({ type: "message", text: WEB_TEXT }),
      });
      assert.ok(teams.status === 400 || teams.status === 401, `Teams: ${teams.status}`);
      const slackRes = await sendToSlackEndpoint(`${h.baseUrl}/slack/events`, directMessage(SLACK_TEXT), {
        secret: SECRETS.SLACK_SIGNING_SECRET,
      });
      assert.equal(slackRes.status, 200);
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && !slack.calls.some((call) => call.method.startsWith("chat."))) {
        await new Promise((r) => setTimeout(r, 100));
      }
      const report = await accounting.settle(10_000);
      assert.equal(report.lost + report.duplicated, 0, formatReport(report));
    } finally {
      await h.stop();
      await slack.close();
    }
    assert.ok(lines.length >= 5, `the run was logged (${lines.length} lines)`);
    const all = lines.join("\n");
    for (const [name, value] of Object.entries(SECRETS)) {
      assert.ok(!all.includes(value), `${name} appears in the logs`);
    }
    assert.ok(token.length > 20 && !all.includes(token), "a session token appears in the logs");
    for (const marker of ["pelican-umbrella", "55501234", "marmot-lantern"]) {
      assert.ok(!all.includes(marker), `message text "${marker}" appears in the logs`);
    }
  });

  it("shows message text only when content logging is switched on, and secrets never", () => {
    for (const content of [false, true]) {
      const { stream, lines } = capture();
      const logger = createLogger({ level: "debug", content, destination: stream });
      logger.debug({ text: WEB_TEXT, question: SLACK_TEXT, token: "secret-session-token" }, "a message");
      logger.child({ component: "x" }).debug({ event: { text: WEB_TEXT, token: "t0ken-abc" } }, "nested");
      const all = lines.join("\n");
      assert.equal(all.includes("pelican-umbrella"), content, `content ${content}`);
      assert.equal(all.includes("marmot-lantern"), content, `content ${content}`);
      assert.ok(!all.includes("secret-session-token") && !all.includes("t0ken-abc"));
    }
  });
});
