import type { Locator, Page } from "playwright-core";

/** Locators and probes for the widget inside a page (playwright's CSS selectors pierce open shadow roots). */
export const widget = {
  launcher: "support-chat .launcher",
  panel: "support-chat .panel",
  input: "support-chat textarea",
  questions: "support-chat [data-role=question]",
  answers: "support-chat [data-role=answer]",
  finishedAnswers: "support-chat [data-role=answer]:not([aria-busy])",
  sources: "support-chat [data-role=answer] [data-role=sources]",
  status: "support-chat .status",
  errors: "support-chat [data-role=error]",
  live: "support-chat .sr[aria-live=polite]",
};

/** Opens the panel with the launcher and asks a question (Enter sends). */
export async function ask(page: Page, question: string): Promise<void> {
  if (!(await page.locator(widget.panel).isVisible())) await page.locator(widget.launcher).click();
  await page.locator(widget.input).fill(question);
  await page.locator(widget.input).press("Enter");
}

/** Waits until `count` answers are final (the authoritative reply replaced the stream). */
export async function waitForAnswers(page: Page, count: number, timeout = 30_000): Promise<void> {
  await page.waitForFunction(
    ({ selector, n }) => {
      const root = document.querySelector("support-chat")?.shadowRoot;
      return (root?.querySelectorAll(selector).length ?? 0) >= n;
    },
    { selector: "[data-role=answer]:not([aria-busy]) .actions", n: count },
    { timeout },
  );
}

/**
 * Records, on every change of the message log, each answer's busy state and visible text length, so a
 * test can tell that text appeared before the final answer (streaming) rather than all at once.
 */
export async function recordAnswerSnapshots(page: Page): Promise<void> {
  await page.evaluate(() => {
    const root = document.querySelector("support-chat")?.shadowRoot;
    const log = root?.querySelector(".log");
    if (!log) throw new Error("widget log not found");
    const snapshots: { busy: boolean; length: number }[] = [];
    (window as unknown as { __snapshots: typeof snapshots }).__snapshots = snapshots;
    new MutationObserver(() => {
      for (const el of Array.from(log.querySelectorAll("[data-role=answer]"))) {
        snapshots.push({
          busy: el.hasAttribute("aria-busy"),
          length: el.querySelector(".body")?.textContent?.length ?? 0,
        });
      }
    }).observe(log, { subtree: true, childList: true, characterData: true, attributes: true });
  });
}

export async function answerSnapshots(page: Page): Promise<{ busy: boolean; length: number }[]> {
  return page.evaluate(
    () => (window as unknown as { __snapshots: { busy: boolean; length: number }[] }).__snapshots,
  );
}

/** The widget's stored session (sessionStorage), for calling the API as the page did. */
export async function storedSession(
  page: Page,
): Promise<{ conversationId: string; token: string; lastEventId?: string }> {
  return page.evaluate(() => {
    for (let i = 0; i < sessionStorage.length; i++) {
      const key = sessionStorage.key(i);
      if (key?.startsWith("support-chat:")) return JSON.parse(sessionStorage.getItem(key) ?? "{}");
    }
    throw new Error("no stored session");
  });
}

/** The text of an element (empty when it has none). */
export async function textOf(locator: Locator): Promise<string> {
  return (await locator.textContent()) ?? "";
}
