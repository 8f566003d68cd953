import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import { type Harness, startHarness } from "../helpers/harness.ts";
import { launchChromium } from "./browser.ts";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.ts";
import {
  answerSnapshots,
  ask,
  recordAnswerSnapshots,
  storedSession,
  textOf,
  waitForAnswers,
  widget,
} from "./widget-page.ts";

interface ApiTurn {
  messageId: string;
  question: string;
  answer: string;
  feedback?: { vote: string };
}

describe("web chat widget on the demo page (real Chromium, gateway and worker with the tiny model)", () => {
  let harness: Harness;
  let proxy: TcpProxy;
  let browser: Browser;

  before(async () => {
    harness = await startHarness({ env: { MAX_ANSWER_TOKENS: "64" } });
    // The page is served through a relay that a test can cut; it is the page's own origin.
    proxy = await startTcpProxy(Number(new URL(harness.baseUrl).port));
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await proxy?.close();
    await harness?.stop();
  });

  const turnsOf = async (session: { conversationId: string; token: string }): Promise<ApiTurn[]> => {
    const res = await fetch(`${harness.baseUrl}/webchat/v1/conversations/${session.conversationId}`, {
      headers: { authorization: `Bearer ${session.token}` },
    });
    assert.equal(res.status, 200);
    return ((await res.json()) as { turns: ApiTurn[] }).turns;
  };

  it("streams an answer into the panel and lists its sources as safe links, then keeps it across a reload", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${proxy.url}/webchat/demo`);
    await page.locator(widget.launcher).click();
    await recordAnswerSnapshots(page);
    proxy.paceNextStream(150);
    await ask(page, "How long does a refund take?");
    await waitForAnswers(page, 1);

    const snapshots = await answerSnapshots(page);
    assert.ok(
      snapshots.some((s) => s.busy && s.length > 0),
      `text appeared while the answer was still being written: ${JSON.stringify(snapshots.slice(0, 10))}`,
    );
    assert.equal(await textOf(page.locator(widget.questions)), "How long does a refund take?");
    const links = page.locator(`${widget.sources} a`);
    assert.ok((await links.count()) >= 1);
    assert.match((await links.first().getAttribute("href")) ?? "", /^https:\/\/help\.brightnest\.example\//);
    assert.equal(await links.first().getAttribute("target"), "_blank");
    assert.equal(await links.first().getAttribute("rel"), "noopener noreferrer nofollow");

    // Thumbs up is stored with the turn.
    await page.locator("support-chat [data-action=up]").click();
    await page.locator("support-chat .note").getByText("Thanks for the feedback.").waitFor();
    assert.equal(await page.locator("support-chat [data-action=up]").getAttribute("aria-pressed"), "true");

    const session = await storedSession(page);
    const [turn] = await turnsOf(session);
    assert.ok(turn);
    assert.equal(await page.locator(widget.answers).getAttribute("data-message-id"), turn.messageId);
    assert.equal(turn.feedback?.vote, "up");

    // A reload keeps the conversation: the panel reopens with the same question and answer from the API.
    await page.reload();
    await page.locator(widget.finishedAnswers).waitFor();
    assert.ok(await page.locator(widget.panel).isVisible(), "the panel reopens after a reload");
    assert.equal(await page.locator(widget.questions).count(), 1);
    assert.equal(await page.locator(widget.answers).count(), 1);
    assert.equal(await page.locator(widget.answers).getAttribute("data-message-id"), turn.messageId);
    assert.ok((await page.locator(`${widget.sources} a`).count()) >= 1);
    assert.equal(
      await page.locator("support-chat [data-action=up]").getAttribute("aria-pressed"),
      "true",
      "the vote is shown again after the reload",
    );

    // And the conversation goes on in the same session.
    await ask(page, "How do I return a damaged thermostat?");
    await waitForAnswers(page, 2);
    assert.equal((await storedSession(page)).conversationId, session.conversationId);
    assert.equal((await turnsOf(session)).length, 2);
    assert.equal(await page.locator(widget.answers).count(), 2);
    await context.close();
  });

  it("reconnects a dropped event stream with Last-Event-ID and shows the answer once", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${proxy.url}/webchat/demo`);
    const before = proxy.streamRequests.length;
    proxy.cutStreamAfterFirstToken();
    await ask(page, "Why is my thermostat offline?");
    await page.locator(widget.status).getByText("Reconnecting").waitFor({ timeout: 10_000 });
    await waitForAnswers(page, 1);

    const requests = proxy.streamRequests.slice(before);
    assert.ok(requests.length >= 2, `the widget reconnected (${requests.length} stream requests)`);
    const lastRelayed = proxy.relayedIds.at(-1);
    assert.ok(lastRelayed, "the cut stream delivered at least one event id");
    // A reconnect after the cut resumes from an event it received (the widget keeps its position at the
    // last streamed token, not at a final event, so this is not always the very last id relayed; and
    // the widget may open its stream twice while the conversation starts).
    const escapeId = (id: string) => id.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const resumed = requests
      .slice(1)
      .some((r) =>
        proxy.relayedIds.some((id) => new RegExp(`\\r\\nlast-event-id: ${escapeId(id)}\\r\\n`, "i").test(r)),
      );
    assert.ok(resumed, `a reconnect carried a Last-Event-ID it had received (${lastRelayed})`);
    assert.equal(await page.locator(widget.answers).count(), 1);
    assert.equal(await page.locator(widget.questions).count(), 1);
    assert.equal(await page.locator(widget.errors).count(), 0);
    assert.ok(await page.locator(widget.status).isHidden(), "the reconnecting notice goes away");
    const [turn] = await turnsOf(await storedSession(page));
    assert.equal(await page.locator(widget.answers).getAttribute("data-message-id"), turn?.messageId);
    await context.close();
  });

  it("works by keyboard alone: focus moves into the panel, stays there, and Escape returns it", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${proxy.url}/webchat/demo`);
    await page.locator(widget.launcher).waitFor();
    const focused = () =>
      page.evaluate(() => {
        const root = document.querySelector("support-chat")?.shadowRoot;
        const el = root?.activeElement;
        const panel = root?.querySelector(".panel");
        return {
          tag: el?.tagName ?? null,
          cls: el?.className ?? null,
          inPanel: !!(el && panel?.contains(el)),
        };
      });
    // The launcher comes after the page's own links in the tab order (it is added at the end of <body>).
    const links = await page.locator("main a").count();
    for (let i = 0; i <= links; i++) await page.keyboard.press("Tab");
    assert.equal((await focused()).cls, "launcher");
    await page.keyboard.press("Enter");
    assert.equal((await focused()).tag, "TEXTAREA");
    assert.equal(await page.locator(widget.panel).getAttribute("role"), "dialog");
    assert.equal(await page.locator(widget.panel).getAttribute("aria-modal"), "true");
    assert.equal(await page.locator(widget.launcher).getAttribute("aria-expanded"), "true");

    await page.keyboard.type("Is there a warranty?");
    await page.keyboard.press("Enter");
    await waitForAnswers(page, 1);
    assert.match(await textOf(page.locator(widget.live)), /^Assistant: /, "the answer was announced");

    for (let i = 0; i < 12; i++) {
      await page.keyboard.press(i % 3 === 2 ? "Shift+Tab" : "Tab");
      assert.ok((await focused()).inPanel, `focus stays in the open panel (step ${i})`);
    }
    await page.keyboard.press("Escape");
    assert.ok(await page.locator(widget.panel).isHidden());
    assert.equal((await focused()).cls, "launcher");
    assert.equal(await page.locator(widget.launcher).getAttribute("aria-expanded"), "false");
    await context.close();
  });

  it("fits a 320 px wide screen and drops animation when the reader asks for reduced motion", async () => {
    const context = await browser.newContext({
      viewport: { width: 320, height: 640 },
      reducedMotion: "reduce",
    });
    const page = await context.newPage();
    await page.goto(`${proxy.url}/webchat/demo`);
    await ask(page, "How do I reset my password?");
    await waitForAnswers(page, 1);
    const box = await page.locator(widget.panel).boundingBox();
    assert.ok(
      box && box.x >= 0 && box.x + box.width <= 320,
      `panel inside the viewport: ${JSON.stringify(box)}`,
    );
    const overflow = await page.evaluate(() => {
      const log = document.querySelector("support-chat")?.shadowRoot?.querySelector(".log");
      return {
        scroll: log?.scrollWidth ?? 0,
        client: log?.clientWidth ?? 0,
        page: document.documentElement.scrollWidth,
      };
    });
    assert.ok(
      overflow.scroll <= overflow.client,
      `no sideways scrolling in the log: ${JSON.stringify(overflow)}`,
    );
    assert.ok(overflow.page <= 320, "the page itself does not grow wider");
    const animation = await page.evaluate(() => {
      const root = document.querySelector("support-chat")?.shadowRoot;
      const panel = root?.querySelector(".panel");
      return panel ? getComputedStyle(panel).animationName : "missing";
    });
    assert.equal(animation, "none");
    await context.close();
  });
});
