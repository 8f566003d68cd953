import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import { signUserId } from "../../adapters/webchat/identity.ts";
import { Keyspace } from "../../src/redis/keyspace.ts";
import { type Harness, startHarness } from "../helpers/harness.ts";
import { launchChromium } from "./browser.ts";
import { type HostPage, startHostPage } from "./host-page-server.ts";
import { ask, storedSession, textOf, waitForAnswers, widget } from "./widget-page.ts";

const shopSecret = "shop-identity-secret-0123456789";

describe("the widget on customers' own sites (real Chromium, cross-origin)", () => {
  let harness: Harness;
  let browser: Browser;
  let allowed: HostPage;
  let refused: HostPage;
  let shop: HostPage;
  let rtl: HostPage;

  before(async () => {
    const signed = `data-user-id="user-42" data-user-hash="${signUserId(shopSecret, "user-42")}"`;
    allowed = await startHostPage({
      host: "localhost",
      pages: { "/inline": 'data-mode="element"' },
      markup: {
        "/inline":
          '<p>Above</p><support-chat mode="inline" heading="Inline help"></support-chat><p>Below</p>',
      },
    });
    // 127.0.0.1 vs localhost: a different origin that no site lists.
    refused = await startHostPage({ host: "127.0.0.1" });
    shop = await startHostPage({
      host: "localhost",
      pages: { "/signed": signed, "/forged": 'data-user-id="user-42" data-user-hash="00"' },
    });
    rtl = await startHostPage({ host: "localhost", htmlAttributes: 'lang="ar" dir="rtl"' });
    harness = await startHarness({
      model: false,
      env: {
        WEBCHAT_ALLOWED_ORIGINS: `${allowed.origin},${rtl.origin}`,
        WEBCHAT_SITES: JSON.stringify([
          { id: "shop", origins: [shop.origin], identitySecret: shopSecret, requireIdentity: true },
        ]),
      },
    });
    for (const page of [allowed, refused, shop, rtl]) page.gateway = harness.baseUrl;
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await harness?.stop();
    for (const page of [allowed, refused, shop, rtl]) await page?.close();
  });

  const conversationCount = async () =>
    (await harness.redis.keys(new Keyspace(harness.config.redis.prefix).channel("webchat").key("conv", "*")))
      .length;

  it("chats from a page on an allowed origin, through CORS", async () => {
    const page = await browser.newPage();
    await page.goto(`${allowed.origin}/`);
    await ask(page, "How long does a refund take?");
    await waitForAnswers(page, 1);
    assert.ok((await page.locator(`${widget.sources} a`).count()) >= 1);
    assert.match((await storedSession(page)).conversationId, /^c[0-9a-f]{32}$/);
    await page.close();
  });

  it("runs inline as a custom element where the page places it, without a launcher", async () => {
    const page = await browser.newPage();
    await page.goto(`${allowed.origin}/inline`);
    await page.locator(widget.panel).waitFor();
    assert.equal(await page.locator("support-chat").count(), 1, "the script adds no second widget");
    assert.equal(await page.locator(widget.launcher).count(), 0);
    assert.equal(await textOf(page.locator("support-chat h2")), "Inline help");
    const order = await page.evaluate(() =>
      Array.from(document.body.children).map((el) => el.tagName.toLowerCase()),
    );
    assert.deepEqual(order.slice(0, 4), ["h1", "p", "support-chat", "p"]);
    await ask(page, "How long does a refund take?");
    await waitForAnswers(page, 1);
    await page.close();
  });

  it("on an origin no site lists, shows no launcher at all and says why once, in the console", async () => {
    const before = await conversationCount();
    const page = await browser.newPage();
    const consoleLines: string[] = [];
    page.on("console", (message) => consoleLines.push(`${message.type()}: ${message.text()}`));
    const requests: string[] = [];
    page.on("request", (request) => {
      if (request.url().startsWith(harness.baseUrl)) requests.push(`${request.method()} ${request.url()}`);
    });
    await page.goto(`${refused.origin}/`);
    // The widget marks itself once the gateway has answered and its console line is written.
    await page.locator("support-chat[data-ready=refused]").waitFor({ state: "attached" });
    assert.equal(await page.locator(widget.launcher).count(), 0, "no launcher");
    assert.equal(await page.locator(widget.panel).count(), 0, "no panel");
    const box = await page.locator("support-chat").boundingBox();
    assert.ok(!box || box.width * box.height === 0, `the element takes no room: ${JSON.stringify(box)}`);
    assert.equal(consoleLines.length, 1, `exactly one console message: ${JSON.stringify(consoleLines)}`);
    assert.match(consoleLines[0] ?? "", /^warning: support-chat: .*WEBCHAT_ALLOWED_ORIGINS/);
    assert.ok(consoleLines[0]?.includes(refused.origin), "the message names the page's origin");
    assert.deepEqual(
      requests.filter((r) => !r.startsWith("GET ")),
      [],
      "nothing was posted: no conversation was attempted",
    );
    assert.ok(requests.some((r) => r.startsWith(`GET ${harness.baseUrl}/webchat/v1/config`)));
    assert.equal(await conversationCount(), before, "no conversation was created");
    await page.close();
  });

  it("shows the launcher on an allowed origin without any console message", async () => {
    const page = await browser.newPage();
    const consoleLines: string[] = [];
    page.on("console", (message) => consoleLines.push(`${message.type()}: ${message.text()}`));
    await page.goto(`${allowed.origin}/`);
    await page.locator("support-chat[data-ready=true]").waitFor({ state: "attached" });
    assert.ok(await page.locator(widget.launcher).isVisible());
    assert.deepEqual(consoleLines, []);
    await page.close();
  });

  it("on a site that requires identity, refuses unsigned and forged users and accepts a signed one", async () => {
    for (const path of ["/", "/forged"]) {
      const page = await browser.newPage();
      await page.goto(`${shop.origin}${path}`);
      await ask(page, "How long does a refund take?");
      await page.locator(widget.errors).waitFor();
      assert.match(await textOf(page.locator(widget.errors)), /not available on this page/, path);
      await page.close();
    }
    const page = await browser.newPage();
    await page.goto(`${shop.origin}/signed`);
    await ask(page, "How long does a refund take?");
    await waitForAnswers(page, 1);
    const { conversationId } = await storedSession(page);
    const stored = await harness.redis.hgetall(
      new Keyspace(harness.config.redis.prefix).channel("webchat").key("conv", conversationId),
    );
    assert.equal(stored.tenant, "shop");
    assert.equal(stored.userId, "user-42");
    await page.close();
  });

  it("takes language and text direction from the page: on a right-to-left page the launcher sits left", async () => {
    const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
    await page.goto(`${rtl.origin}/`);
    await page.locator(widget.launcher).click();
    const panel = page.locator(widget.panel);
    assert.equal(await panel.getAttribute("dir"), "rtl");
    assert.equal(await panel.getAttribute("lang"), "ar");
    const box = await page.locator(widget.launcher).boundingBox();
    assert.ok(box && box.x < 100, `launcher on the left: ${JSON.stringify(box)}`);
    await page.close();
  });
});
