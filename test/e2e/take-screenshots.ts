/**
 * Writes the README's screenshots of the open widget on the demo page: desktop, 320 px wide, and in
 * Arabic (right to left).
 * Run: `npx tsx test/e2e/take-screenshots.ts` (needs Redis and /usr/bin/chromium, like the e2e tests).
 * Retrieval-only answers (no model) so that the pictures show readable text from the sample knowledge.
 */
import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import { startHarness } from "../helpers/harness.ts";
import { launchChromium } from "./browser.ts";
import { ask, waitForAnswers } from "./widget-page.ts";

const outDir = resolve("docs/screenshots");
const shots = [
  { file: "webchat-desktop.png", viewport: { width: 1280, height: 800 }, query: "" },
  { file: "webchat-320.png", viewport: { width: 320, height: 640 }, query: "" },
  { file: "webchat-rtl.png", viewport: { width: 1280, height: 800 }, query: "?lang=ar" },
];

// PUBLIC_URL: the embed snippet on the page shows a stable address, not the test port.
const harness = await startHarness({ model: false, env: { PUBLIC_URL: "https://support.example.com" } });
const browser = await launchChromium();
try {
  await mkdir(outDir, { recursive: true });
  for (const { file, viewport, query } of shots) {
    const page = await browser.newPage({ viewport, deviceScaleFactor: 1, reducedMotion: "reduce" });
    await page.goto(`${harness.baseUrl}/webchat/demo${query}`);
    await ask(page, "How long does a refund take?");
    await waitForAnswers(page, 1);
    await page.screenshot({ path: resolve(outDir, file) });
    console.log(`wrote docs/screenshots/${file} (${viewport.width}x${viewport.height})`);
    await page.close();
  }
} finally {
  await browser.close();
  await harness.stop();
}
