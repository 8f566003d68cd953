import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import type { HandoffRecord } from "../../src/handoff/handoff-service.ts";
import { type Harness, startHarness } from "../helpers/harness.ts";
import { startWebhookReceiver } from "../integration/support/webhook-receiver.ts";

/**
 * Finding 7: a receiver answering 307 got the signed transcript re-posted to its `Location`. Redirects
 * are not followed: a 3xx is a failed attempt, retried, logged, and finally a dead letter.
 */
describe("security: the hand-off webhook does not follow redirects", () => {
  let elsewhere: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let redirector: Server;
  const hits: string[] = [];
  let h: Harness;

  before(async () => {
    elsewhere = await startWebhookReceiver();
    redirector = createServer((req, res) => {
      hits.push(String(req.headers["x-delivery-attempt"]));
      req.resume();
      res.writeHead(307, { location: elsewhere.url }).end();
    });
    await new Promise<void>((resolve) => redirector.listen(0, "127.0.0.1", resolve));
    const port = (redirector.address() as AddressInfo).port;
    h = await startHarness({
      worker: false,
      model: false,
      env: {
        HANDOFF_WEBHOOK_URL: `http://127.0.0.1:${port}/hooks`,
        HANDOFF_WEBHOOK_SECRET: "redirect-webhook-secret-0123456789",
        HANDOFF_WEBHOOK_ATTEMPTS: "2",
        HANDOFF_WEBHOOK_BACKOFF_MS: "50",
      },
    });
  });
  after(async () => {
    await h.stop();
    await elsewhere.close();
    await new Promise<void>((resolve) => redirector.close(() => resolve()));
  });

  it("treats a 307 as a failed delivery: retried, then a dead letter; nothing reaches the Location", async () => {
    const webhook = h.gateway.support.webhook;
    assert.ok(webhook);
    const record: HandoffRecord = {
      id: "h0redirect",
      channel: "webchat",
      tenant: "web",
      conversationKey: "conv-redirect",
      userId: "u1",
      question: "my card number is 4111 1111 1111 1111",
      answer: "",
      citations: [],
      transcript: [],
      requestedAt: Date.now(),
    };
    await webhook.deliver(record);
    const deliveries = webhook.deliveries;
    for (let i = 0; i < 300 && (await deliveries.sample()).deadLetters === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    const [dead] = await deliveries.deadLetters();
    assert.match(dead?.reason ?? "", /HTTP 307 \(a redirect\); redirects are not followed/);
    assert.deepEqual(hits, ["1", "2"], "both attempts went to the configured URL only");
    assert.equal(elsewhere.received.length, 0, "the signed transcript never reached the Location");
  });
});
