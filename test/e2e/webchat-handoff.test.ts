import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { after, before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import { type Harness, startHarness } from "../helpers/harness.ts";
import { launchChromium } from "./browser.ts";
import { ask, storedSession, waitForAnswers, widget } from "./widget-page.ts";

describe("'talk to a person' from the widget (real Chromium, handoff webhook on 127.0.0.1)", () => {
  let harness: Harness;
  let browser: Browser;
  let receiver: Server;
  const received: { type?: string; data?: Record<string, unknown> }[] = [];

  before(async () => {
    receiver = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => {
        body += chunk.toString("utf8");
      });
      req.on("end", () => {
        received.push(JSON.parse(body) as (typeof received)[number]);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const { port } = receiver.address() as { port: number };
    harness = await startHarness({
      model: false,
      env: {
        HANDOFF_WEBHOOK_URL: `http://127.0.0.1:${port}/handoff`,
        HANDOFF_WEBHOOK_SECRET: "handoff-webhook-secret-0123",
      },
    });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await harness?.stop();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  it("hands the conversation to the support team's webhook and tells the reader", async () => {
    const page = await browser.newPage();
    await page.goto(`${harness.baseUrl}/webchat/demo`);
    await ask(page, "How long does a refund take?");
    await waitForAnswers(page, 1);
    await page.locator("support-chat [data-action=handoff]").click();
    await page.locator("support-chat .note").getByText("We have asked a person").waitFor();

    const deadline = Date.now() + 15_000;
    while (!received.some((r) => r.type === "handoff.requested") && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const request = received.find((r) => r.type === "handoff.requested");
    assert.ok(request, `the webhook got the handoff: ${JSON.stringify(received.map((r) => r.type))}`);
    const serialized = JSON.stringify(request.data);
    assert.match(serialized, /webchat/);
    assert.match(serialized, new RegExp((await storedSession(page)).conversationId));
    assert.match(serialized, /How long does a refund take\?/);
    assert.equal(await page.locator(widget.errors).count(), 0);

    // While a person has the conversation, a new question gets a notice instead of an endless "typing".
    await ask(page, "Are you still there?");
    await page.locator("support-chat [data-role=notice]").getByText("A person from our team").waitFor();
    assert.equal(await page.locator("support-chat .typing").isVisible(), false);
    await page.close();
  });
});
