import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { ar } from "../../adapters/webchat/widget/i18n/ar.ts";
import { de } from "../../adapters/webchat/widget/i18n/de.ts";
import { fr } from "../../adapters/webchat/widget/i18n/fr.ts";
import { ja } from "../../adapters/webchat/widget/i18n/ja.ts";
import { en } from "../../adapters/webchat/widget/strings.ts";
import type { InboundMessage } from "../../src/conversation/inbound-message.ts";
import { type Harness, startHarness } from "../helpers/harness.ts";
import { launchChromium } from "./browser.ts";
import { type HostPage, startHostPage } from "./host-page-server.ts";
import { ask, textOf, waitForAnswers, widget } from "./widget-page.ts";

const send = "support-chat .send";
const greeting = "support-chat .log > .msg.bot:first-child";

describe("the widget in the page's language (real Chromium, language packs from the gateway)", () => {
  let harness: Harness;
  let browser: Browser;
  let site: HostPage;
  /** Every message the web chat API passed on, as the conversation layer received it. */
  const submitted: InboundMessage[] = [];

  before(async () => {
    site = await startHostPage({
      host: "localhost",
      htmlAttributesFor: {
        "/fr": 'lang="fr-FR"',
        "/ar": 'lang="ar"',
        "/klingon": 'lang="tlh"',
        "/none": "",
      },
      pages: { "/chosen": 'data-lang="de"' },
    });
    harness = await startHarness({ model: false, env: { WEBCHAT_ALLOWED_ORIGINS: site.origin } });
    site.gateway = harness.baseUrl;
    const conversations = harness.conversations;
    const submit = conversations.submit.bind(conversations);
    conversations.submit = (message) => {
      submitted.push(message);
      return submit(message);
    };
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await harness?.stop();
    await site?.close();
  });

  /** Asks one question and waits for the answer; returns the `lang` the API passed on with it. */
  const askAndGetLang = async (page: Page): Promise<string | undefined> => {
    const before = submitted.length;
    await ask(page, "How long does a refund take?");
    await waitForAnswers(page, 1);
    assert.equal(submitted.length, before + 1);
    return submitted.at(-1)?.lang;
  };

  it("on a French page, speaks French and sends the page's language with the question", async () => {
    const page = await browser.newPage();
    const packs: string[] = [];
    page.on("request", (r) => {
      if (r.url().includes("/webchat/i18n/")) packs.push(new URL(r.url()).pathname);
    });
    await page.goto(`${site.origin}/fr`);
    const launcher = page.locator(widget.launcher);
    await launcher.waitFor();
    assert.equal(await launcher.getAttribute("aria-label"), fr.open);
    await launcher.click();
    assert.equal(await page.locator(widget.panel).getAttribute("lang"), "fr");
    assert.equal(await page.locator(widget.panel).getAttribute("dir"), "ltr");
    assert.equal(await page.locator(widget.input).getAttribute("placeholder"), fr.placeholder);
    assert.equal(await textOf(page.locator(send)), fr.send);
    assert.equal(await textOf(page.locator(greeting)), fr.greeting);
    assert.equal(await askAndGetLang(page), "fr-FR");
    assert.equal(await textOf(page.locator("support-chat [data-action=up]")), fr.helpful);
    assert.equal(await textOf(page.locator("support-chat [data-action=handoff]")), fr.human);
    assert.deepEqual(packs, ["/webchat/i18n/fr.json"]);
    await page.close();
  });

  it("takes the script tag's data-lang over the page's language", async () => {
    const page = await browser.newPage();
    await page.goto(`${site.origin}/chosen`);
    await page.locator(widget.launcher).click();
    assert.equal(await page.locator(widget.panel).getAttribute("lang"), "de");
    assert.equal(await textOf(page.locator(send)), de.send);
    assert.equal(await askAndGetLang(page), "de");
    await page.close();
  });

  it("without any language on the page, follows the browser's", async () => {
    const context = await browser.newContext({ locale: "ja-JP" });
    const page = await context.newPage();
    await page.goto(`${site.origin}/none`);
    await page.locator(widget.launcher).click();
    assert.equal(await page.locator(widget.panel).getAttribute("lang"), "ja");
    assert.equal(await textOf(page.locator(greeting)), ja.greeting);
    assert.equal(await askAndGetLang(page), "ja-JP");
    await context.close();
  });

  it("falls back to English for a language it has no pack for, and still sends that language", async () => {
    const page = await browser.newPage();
    const packs: string[] = [];
    page.on("request", (r) => {
      if (r.url().includes("/webchat/i18n/")) packs.push(r.url());
    });
    await page.goto(`${site.origin}/klingon`);
    await page.locator(widget.launcher).click();
    assert.equal(await page.locator(widget.panel).getAttribute("lang"), "en");
    assert.equal(await page.locator(widget.panel).getAttribute("dir"), "ltr");
    assert.equal(await page.locator(widget.launcher).getAttribute("aria-label"), en.open);
    assert.equal(await textOf(page.locator(send)), en.send);
    assert.equal(await textOf(page.locator(greeting)), en.greeting);
    assert.equal(await askAndGetLang(page), "tlh", "the answer may still be written in it");
    assert.deepEqual(packs, [], "no pack is asked for");
    await page.close();
  });

  it("lays an Arabic page's widget out right to left: launcher, panel, header, bubbles and composer mirrored", async () => {
    const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
    await page.goto(`${site.origin}/ar`);
    const launcher = page.locator(widget.launcher);
    await launcher.waitFor();
    assert.equal(await launcher.getAttribute("aria-label"), ar.open);
    const launcherBox = await launcher.boundingBox();
    assert.ok(launcherBox && launcherBox.x < 100, `launcher at the left: ${JSON.stringify(launcherBox)}`);
    await launcher.click();
    const panel = page.locator(widget.panel);
    assert.equal(await panel.getAttribute("dir"), "rtl");
    assert.equal(await panel.getAttribute("lang"), "ar");
    const panelBox = await panel.boundingBox();
    assert.ok(panelBox && panelBox.x < 100, `panel at the left: ${JSON.stringify(panelBox)}`);
    assert.equal(await askAndGetLang(page), "ar");
    assert.equal(await textOf(page.locator(send)), ar.send);

    const x = async (selector: string) => {
      const box = await page.locator(selector).first().boundingBox();
      assert.ok(box, selector);
      return { left: box.x, right: box.x + box.width };
    };
    const title = await x("support-chat header h2");
    const close = await x("support-chat .close");
    assert.ok(close.right <= title.left + 1, "the close button is at the header's left end");
    const input = await x(widget.input);
    const button = await x(send);
    assert.ok(button.right <= input.left + 1, "the send button is left of the text box");
    const question = await x(widget.questions);
    const answer = await x(widget.answers);
    const log = await x("support-chat .log");
    assert.ok(question.left - log.left < 30, "the visitor's message sits at the left");
    assert.ok(log.right - answer.right < 30, "the answer sits at the right");
    // The answer is English text from the sample knowledge: it keeps its own direction inside the bubble.
    assert.equal(await page.locator("support-chat [data-role=answer] .body").getAttribute("dir"), "auto");
    await page.close();
  });
});
