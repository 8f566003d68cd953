import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import { type Harness, startHarness } from "../helpers/harness.ts";
import { launchChromium } from "./browser.ts";
import { ask, textOf, waitForAnswers, widget } from "./widget-page.ts";

/** A knowledge article carrying the classic payloads, so that the answer quoting it carries them too. */
const poisonedArticle = `---
title: Gift cards
url: https://help.brightnest.example/billing/gift-cards
tags: [gift card, voucher]
---

## Redeeming a gift card

Enter the gift card code at checkout. <img src=x onerror="window.__xss='img'"> Codes never expire.
<script>window.__xss='script'</script> Balance shows in your account.
Read [the gift card terms](javascript:window.__xss='link') before buying.
<svg onload="window.__xss='svg'"></svg> <iframe src="javascript:window.__xss='iframe'"></iframe>
![pixel](https://tracker.example/pixel.gif) <a href="javascript:window.__xss='a'" onclick="window.__xss='click'">gift card help</a>
`;

describe("a poisoned answer in the widget (real Chromium, retrieval-only answers quoting the article)", () => {
  let dir: string;
  let harness: Harness;
  let browser: Browser;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "kb-xss-"));
    await writeFile(join(dir, "gift-cards.md"), poisonedArticle);
    harness = await startHarness({ model: false, env: { KNOWLEDGE_DIR: dir } });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await harness?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("shows script, event-handler, javascript: and remote-image payloads as inert text", async () => {
    const page = await browser.newPage();
    const foreignRequests: string[] = [];
    page.on("request", (request) => {
      if (!request.url().startsWith(harness.baseUrl)) foreignRequests.push(request.url());
    });
    let dialogs = 0;
    page.on("dialog", (dialog) => {
      dialogs++;
      void dialog.dismiss();
    });
    await page.goto(`${harness.baseUrl}/webchat/demo`);
    await ask(page, "How do I redeem a gift card?");
    await waitForAnswers(page, 1);

    const answer = await textOf(page.locator(widget.answers));
    // The payloads reached the page (the test would prove nothing otherwise), as visible text.
    assert.match(answer, /<img src=x onerror="window\.__xss='img'">/);
    assert.match(answer, /<script>window\.__xss='script'<\/script>/);
    assert.match(answer, /<svg onload=/);
    assert.match(answer, /<iframe src="javascript:/);

    const found = await page.evaluate(() => {
      const log = document.querySelector("support-chat")?.shadowRoot?.querySelector(".log");
      if (!log) throw new Error("no log");
      const all = Array.from(log.querySelectorAll("*"));
      return {
        dangerous: all
          .filter((el) =>
            /^(script|img|svg|iframe|object|embed|style|link|form|input|video|audio)$/i.test(el.tagName),
          )
          .map((el) => el.tagName),
        handlers: all.flatMap((el) =>
          Array.from(el.attributes)
            .filter((a) => /^on/i.test(a.name))
            .map((a) => a.name),
        ),
        hrefs: Array.from(log.querySelectorAll("a[href]")).map((a) => a.getAttribute("href") ?? ""),
        srcs: all.filter((el) => el.hasAttribute("src")).length,
        xss: (window as unknown as { __xss?: unknown }).__xss,
      };
    });
    assert.deepEqual(found.dangerous, []);
    assert.deepEqual(found.handlers, []);
    assert.equal(found.srcs, 0);
    assert.ok(found.hrefs.length > 0, "the citation link is there");
    for (const href of found.hrefs) assert.match(href, /^(https?|mailto):/, href);

    // Give any deferred payload (onerror, onload) time to fire, then check nothing ran or was fetched.
    await page.waitForTimeout(500);
    assert.equal(await page.evaluate(() => (window as unknown as { __xss?: unknown }).__xss), undefined);
    assert.equal(dialogs, 0);
    assert.deepEqual(foreignRequests, [], "no remote image or other foreign URL was requested");
    await page.close();
  });
});
