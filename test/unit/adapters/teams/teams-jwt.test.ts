import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { FakeBotConnector } from "../../../fakes/fake-bot-connector.ts";
import { personalMessage } from "../../../fakes/teams-activities.ts";
import { ScriptedConversations } from "../../../fakes/teams-scripted-conversations.ts";
import { FixedCredentialsFactory, TeamsTokenIssuer } from "../../../fakes/teams-token-issuer.ts";
import { startTeamsServer, type TeamsTestServer } from "../../../integration/teams/teams-test-server.ts";

const appId = "9e1c5a1e-4b7c-4d57-9d6a-3a5c0f6e2b11";

describe("Teams adapter with Bot Framework JWT validation on (local signing key, no network)", () => {
  const connector = new FakeBotConnector();
  const issuer = new TeamsTokenIssuer();
  const credentials = new FixedCredentialsFactory(appId);
  const conversations = new ScriptedConversations({ answer: () => "signed answer", chunkDelayMs: 1 });
  let teams: TeamsTestServer;

  before(async () => {
    await connector.start();
    await issuer.start();
    teams = await startTeamsServer({
      env: {
        MICROSOFT_APP_ID: appId,
        MICROSOFT_APP_PASSWORD: "not-used-offline",
        TEAMS_SERVICE_URL_ALLOWLIST: connector.origin,
      },
      conversations,
      adapter: { auth: { openIdMetadataUrl: issuer.openIdMetadataUrl, credentialsFactory: credentials } },
    });
  });
  after(async () => {
    await teams.stop();
    await issuer.stop();
    await connector.stop();
  });

  it("refuses an activity without a token with 401 and enqueues nothing", async () => {
    const response = await teams.post(
      personalMessage({ serviceUrl: connector.serviceUrl, text: "no token" }),
    );
    assert.equal(response.status, 401);
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, "unauthorized");
    assert.equal(conversations.submitted.length, 0);
  });

  it("refuses an unsigned token (alg none) with 401 and enqueues nothing", async () => {
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `${b64({ alg: "none", typ: "JWT" })}.${b64({
      iss: "https://api.botframework.com",
      aud: appId,
      serviceurl: connector.serviceUrl,
      exp: now + 600,
    })}.`;
    const activity = personalMessage({ serviceUrl: connector.serviceUrl, text: "unsigned" });
    const response = await teams.post(activity, { authorization: `Bearer ${unsigned}` });
    assert.equal(response.status, 401);
    assert.equal(conversations.submitted.length, 0);
  });

  it("refuses tokens for another bot, for another serviceUrl, or already expired", async () => {
    const activity = personalMessage({ serviceUrl: connector.serviceUrl, text: "wrong claims" });
    const tokens = [
      await issuer.sign({ appId: "another-bot", serviceUrl: connector.serviceUrl }),
      await issuer.sign({ appId, serviceUrl: "https://smba.trafficmanager.net/amer/" }),
      await issuer.sign({ appId, serviceUrl: connector.serviceUrl, expiresInSeconds: -3600 }),
    ];
    for (const token of tokens) {
      const response = await teams.post(activity, { authorization: `Bearer ${token}` });
      assert.equal(response.status, 401);
    }
    assert.equal(conversations.submitted.length, 0);
  });

  it("accepts a correctly signed activity and answers it with the bot's outbound credentials", async () => {
    const activity = personalMessage({ serviceUrl: connector.serviceUrl, text: "signed question" });
    const conversationId = (activity.conversation as { id: string }).id;
    const token = await issuer.sign({ appId, serviceUrl: connector.serviceUrl });
    const response = await teams.post(activity, { authorization: `Bearer ${token}` });
    assert.equal(response.status, 200);
    assert.equal(conversations.submitted.length, 1);
    const final = await connector.waitFor(
      (r) => r.conversationId === conversationId && r.activity.type === "message",
    );
    assert.equal(final.activity.text, "signed answer");
    assert.equal(final.authorization, `Bearer ${credentials.token}`);
  });

  it("reports in readiness that JWT validation is on", () => {
    const ready = teams.adapter.readiness() as { jwtValidation: string };
    assert.equal(ready.jwtValidation, "on");
  });
});
