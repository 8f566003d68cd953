import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { type Harness, startHarness } from "../helpers/harness.ts";
import { launchChromium } from "./browser.ts";
import { ask, waitForAnswers } from "./widget-page.ts";

interface Geometry {
  log: { top: number; bottom: number; scrollTop: number; scrollHeight: number; clientHeight: number };
  question: { top: number; bottom: number };
  answer: { top: number; bottom: number; height: number };
}

/** Where the latest question and answer are, relative to the message log's visible area. */
function geometry(page: Page): Promise<Geometry> {
  return page.evaluate(() => {
    const root = document.querySelector("support-chat")?.shadowRoot;
    const log = root?.querySelector(".log");
    const question = Array.from(root?.querySelectorAll("[data-role=question]") ?? []).at(-1);
    const answer = Array.from(root?.querySelectorAll("[data-role=answer]") ?? []).at(-1);
    if (!log || !question || !answer) throw new Error("widget log, question or answer missing");
    const l = log.getBoundingClientRect();
    const q = question.getBoundingClientRect();
    const a = answer.getBoundingClientRect();
    return {
      log: {
        top: l.top,
        bottom: l.bottom,
        scrollTop: log.scrollTop,
        scrollHeight: log.scrollHeight,
        clientHeight: log.clientHeight,
      },
      question: { top: q.top, bottom: q.bottom },
      answer: { top: a.top, bottom: a.bottom, height: a.height },
    };
  });
}

/** The latest question and the first lines of its answer are in view; the log is not at its end. */
function assertAnswerStartInView(g: Geometry, when: string): void {
  const state = `${when}: ${JSON.stringify(g)}`;
  assert.ok(
    g.answer.height > g.log.clientHeight,
    `precondition, the answer is taller than the log (${state})`,
  );
  assert.ok(g.question.top >= g.log.top - 1, `the question's top is in view (${state})`);
  assert.ok(
    g.answer.top >= g.log.top && g.answer.top + 40 <= g.log.bottom,
    `the answer's start is in view (${state})`,
  );
  assert.ok(
    g.log.scrollTop < g.log.scrollHeight - g.log.clientHeight - 40,
    `the log is not scrolled to the answer's end (${state})`,
  );
}

describe("reading a long answer in the widget (real Chromium, retrieval-only excerpts)", () => {
  let harness: Harness;
  let browser: Browser;

  let dir: string;

  before(async () => {
    // A folder of long articles and a full retrieval budget: excerpt answers far taller than a phone's panel.
    dir = mkdtempSync(join(tmpdir(), "sgw-long-"));
    const long = (topic: string) =>
      Array.from(
        { length: 14 },
        (_, i) =>
          `Step ${i + 1} of the ${topic} explained in full, with every detail a customer may need to know.`,
      ).join(" ");
    writeFileSync(
      join(dir, "refunds.md"),
      `---\ntitle: How long a refund takes\n---\n# How long does a refund take\n\n${long("refund timeline")}\n`,
    );
    writeFileSync(
      join(dir, "thermostat-offline.md"),
      `---\ntitle: Thermostat offline\n---\n# Why is my thermostat offline\n\n${long("thermostat offline check")}\n`,
    );
    harness = await startHarness({
      model: false,
      env: { RETRIEVAL_TOKEN_BUDGET: "1200", KNOWLEDGE_DIR: dir },
    });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await harness?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps the question and the start of a long answer in view, for each new question and after a reload", async () => {
    const context = await browser.newContext({
      viewport: { width: 360, height: 560 },
      reducedMotion: "reduce",
    });
    const page = await context.newPage();
    await page.goto(`${harness.baseUrl}/webchat/demo`);
    await ask(page, "How long does a refund take?");
    await waitForAnswers(page, 1);
    assertAnswerStartInView(await geometry(page), "first answer");

    await ask(page, "Why is my thermostat offline?");
    await waitForAnswers(page, 2);
    assertAnswerStartInView(await geometry(page), "second answer");

    await page.reload();
    await page.waitForFunction(
      () =>
        (document.querySelector("support-chat")?.shadowRoot?.querySelectorAll("[data-role=answer] .actions")
          .length ?? 0) >= 2,
    );
    assertAnswerStartInView(await geometry(page), "after a reload");
    await context.close();
  });
});
