import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import { type Harness, startHarness } from "../helpers/harness.ts";
import { launchChromium } from "./browser.ts";
import { ask, textOf, waitForAnswers, widget } from "./widget-page.ts";

const typing = "support-chat .typing";

describe("the widget's waiting and failure states (real Chromium)", () => {
  let browser: Browser;

  before(async () => {
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
  });

  describe("with no worker running and room for one queued question", () => {
    let harness: Harness;

    before(async () => {
      harness = await startHarness({ model: false, worker: false, env: { QUEUE_MAX_DEPTH: "1" } });
    });

    after(async () => {
      await harness?.stop();
    });

    it("shows the typing indicator while a question waits, and 'busy' in plain words with a retry", async () => {
      const page = await browser.newPage();
      await page.goto(`${harness.baseUrl}/webchat/demo`);
      await ask(page, "How long does a refund take?");
      await page.locator(typing).waitFor({ state: "visible" });
      assert.equal(await page.locator(typing).getAttribute("aria-label"), "The assistant is writing…");

      await ask(page, "And how long does shipping take?");
      const error = page.locator(widget.errors);
      await error.waitFor();
      assert.match(await textOf(error), /answering many questions right now\. Please try again in 10 s\./);
      assert.equal(await error.getByRole("button", { name: "Retry" }).count(), 1);
      assert.equal(await error.getAttribute("role"), "alert");
      assert.ok(await page.locator(typing).isVisible(), "the first question is still waiting");
      await page.close();
    });
  });

  describe("with no worker running", () => {
    let harness: Harness;

    before(async () => {
      harness = await startHarness({ model: false, worker: false });
    });

    after(async () => {
      await harness?.stop();
    });

    it("keeps a question still waiting for its answer across a reload, with the typing indicator", async () => {
      const page = await browser.newPage();
      await page.goto(`${harness.baseUrl}/webchat/demo`);
      await ask(page, "How long does a refund take?");
      await page.locator(typing).waitFor({ state: "visible" });
      // Accepted by the gateway (and so remembered) before the reload.
      await page.waitForFunction(() => Object.values(sessionStorage).some((v) => v.includes('"pending":[{')));
      await page.reload();
      await page.locator(widget.questions).waitFor();
      assert.equal(await textOf(page.locator(widget.questions)), "How long does a refund take?");
      await page.locator(typing).waitFor({ state: "visible" });
      assert.equal(await page.locator(widget.answers).count(), 0);
      await page.close();
    });
  });

  describe("with a worker and one question per user per minute", () => {
    let harness: Harness;

    before(async () => {
      harness = await startHarness({ model: false, env: { RATE_LIMIT_USER_PER_MINUTE: "1" } });
    });

    after(async () => {
      await harness?.stop();
    });

    it("says when the reader is sending too fast", async () => {
      const page = await browser.newPage();
      await page.goto(`${harness.baseUrl}/webchat/demo`);
      await ask(page, "How long does a refund take?");
      await waitForAnswers(page, 1);
      await ask(page, "And shipping?");
      await page.locator(widget.errors).waitFor();
      assert.match(
        await textOf(page.locator(widget.errors)),
        /sending messages quickly\. Please wait and try again in \d+ s\./,
      );
      assert.ok(await page.locator(typing).isHidden(), "no typing indicator for a refused question");
      await page.close();
    });

    it("says when the reader is offline, and Retry sends the same question once back online", async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${harness.baseUrl}/webchat/demo`);
      await page.locator(widget.launcher).click();
      await context.setOffline(true);
      await ask(page, "How do I reset my password?");
      const error = page.locator(widget.errors);
      await error.waitFor();
      assert.match(await textOf(error), /You seem to be offline/);

      await context.setOffline(false);
      await error.getByRole("button", { name: "Retry" }).click();
      await waitForAnswers(page, 1);
      assert.equal(await page.locator(widget.errors).count(), 0, "the error goes away on retry");
      assert.equal(await page.locator(widget.questions).count(), 1, "the question is not shown twice");
      assert.equal(await page.locator(widget.answers).count(), 1);
      await context.close();
    });
  });
});
