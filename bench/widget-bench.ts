import { brotliCompressSync, gzipSync } from "node:zlib";
import { buildWidget, WIDGET_GZIP_BUDGET_BYTES } from "../adapters/webchat/widget/build.ts";
import { languagePacks } from "../adapters/webchat/widget/i18n/packs.ts";
import { launchChromium } from "../test/e2e/browser.ts";
import { startHarness } from "../test/helpers/harness.ts";
import { percentile, round, say, table } from "./stats.ts";

/** Cold page loads per profile (fresh browser context each: no cache, no session). */
const LOADS = 20;
/** CPU slow-downs: 1 = this machine, 4 = roughly a mid-range phone (Chrome DevTools' preset). */
const CPU_PROFILES = [1, 4];
/** The demo in English (no pack to fetch) and in French (its pack fetched with the site check). */
const PAGES = [
  { name: "en", query: "" },
  { name: "fr", query: "?lang=fr" },
];

interface LoadSample {
  /** Navigation start to the launcher existing and accepting clicks (the widget's ready mark). */
  readyMs: number;
  domContentLoadedMs: number;
  /** Fetching widget.js (request start to response end). */
  scriptFetchMs: number;
}

/**
 * Widget size (raw, gzip, brotli against the 30 KB gzip budget), each language pack's size (the JSON
 * a page in that language fetches besides widget.js), and time from page load to an interactive
 * launcher on /webchat/demo in Chromium, cold, at two CPU speeds.
 */
export async function runWidgetBench(json = false): Promise<Record<string, unknown>> {
  const bundle = await buildWidget();
  const brotliBytes = brotliCompressSync(bundle.code).length;
  const size = {
    rawBytes: bundle.rawBytes,
    gzipBytes: bundle.gzipBytes,
    brotliBytes,
    gzipBudgetBytes: WIDGET_GZIP_BUDGET_BYTES,
  };
  say(
    json,
    table(
      ["widget.js", "raw", "gzip -9", "brotli", "gzip budget"],
      [["bytes", bundle.rawBytes, bundle.gzipBytes, brotliBytes, WIDGET_GZIP_BUDGET_BYTES]],
    ),
  );

  // Packs are served as the JSON the gateway sends (gzip -9, as widget-routes.ts compresses them).
  const packs: Record<string, { rawBytes: number; gzipBytes: number; withWidgetGzipBytes: number }> = {};
  for (const [lang, strings] of Object.entries(languagePacks)) {
    const text = JSON.stringify(strings);
    const gzipBytes = gzipSync(text, { level: 9 }).length;
    packs[lang] = {
      rawBytes: Buffer.byteLength(text),
      gzipBytes,
      withWidgetGzipBytes: bundle.gzipBytes + gzipBytes,
    };
  }
  say(
    json,
    table(
      ["language pack", "raw bytes", "gzip -9 bytes", "widget.js + pack, gzip bytes"],
      [
        ["en (in widget.js)", 0, 0, bundle.gzipBytes],
        ...Object.entries(packs).map(([lang, p]) => [
          `${lang}.json`,
          p.rawBytes,
          p.gzipBytes,
          p.withWidgetGzipBytes,
        ]),
      ],
    ),
  );
  // What shipping every language inside widget.js would cost instead (the script plus all packs' JSON,
  // compressed together): the reason the packs load on demand.
  const everything = `${bundle.code}${Object.values(languagePacks)
    .map((p) => JSON.stringify(p))
    .join("")}`;
  const allInlined = {
    rawBytes: Buffer.byteLength(everything),
    gzipBytes: gzipSync(everything, { level: 9 }).length,
  };
  say(
    json,
    `every pack inlined in widget.js instead: ${allInlined.rawBytes} bytes raw, ${allInlined.gzipBytes} gzip -9`,
  );

  const harness = await startHarness({ model: false, worker: false });
  const browser = await launchChromium();
  const loads: Record<string, unknown> = {};
  const rows: (string | number)[][] = [];
  try {
    // English (the bundle's own texts) and French (one pack fetched beside the site check).
    for (const page of PAGES) {
      for (const cpu of CPU_PROFILES) {
        const samples: LoadSample[] = [];
        for (let i = 0; i < LOADS; i++)
          samples.push(await coldLoad(browser, `${harness.baseUrl}/webchat/demo${page.query}`, cpu));
        const stat = (pick: (s: LoadSample) => number) => {
          const values = samples.map(pick);
          return {
            p50: round(percentile(values, 50)),
            p95: round(percentile(values, 95)),
            max: round(Math.max(...values)),
          };
        };
        const ready = stat((s) => s.readyMs);
        const dcl = stat((s) => s.domContentLoadedMs);
        const fetchMs = stat((s) => s.scriptFetchMs);
        loads[`${page.name}-cpu${cpu}x`] = {
          loads: LOADS,
          launcherReadyMs: ready,
          domContentLoadedMs: dcl,
          scriptFetchMs: fetchMs,
        };
        rows.push([page.name, `${cpu}x`, LOADS, ready.p50, ready.p95, ready.max, dcl.p50, fetchMs.p50]);
      }
    }
  } finally {
    await browser.close();
    await harness.stop();
  }
  say(
    json,
    table(
      [
        "widget language",
        "CPU slow-down",
        "cold loads",
        "launcher ready p50 ms",
        "p95 ms",
        "max ms",
        "DOMContentLoaded p50 ms",
        "widget.js fetch p50 ms",
      ],
      rows,
    ),
  );
  say(
    json,
    "(ms from navigation start on /webchat/demo, gateway on 127.0.0.1, headless Chromium, no cache; the " +
      "launcher shows once the gateway has said the page may use the chat)",
  );
  return { size: { ...size, packs, allInlined }, loads };
}

async function coldLoad(
  browser: Awaited<ReturnType<typeof launchChromium>>,
  url: string,
  cpu: number,
): Promise<LoadSample> {
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    if (cpu > 1) {
      const cdp = await context.newCDPSession(page);
      await cdp.send("Emulation.setCPUThrottlingRate", { rate: cpu });
    }
    await page.goto(url);
    await page.waitForFunction(
      () => performance.getEntriesByName("support-chat:ready").length > 0,
      undefined,
      {
        timeout: 30_000,
      },
    );
    const sample = await page.evaluate(() => {
      const ready = performance.getEntriesByName("support-chat:ready")[0]?.startTime ?? Number.NaN;
      const nav = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming | undefined;
      const script = performance
        .getEntriesByType("resource")
        .find((e) => e.name.endsWith("/webchat/widget.js")) as PerformanceResourceTiming | undefined;
      return {
        readyMs: ready,
        domContentLoadedMs: nav?.domContentLoadedEventEnd ?? Number.NaN,
        scriptFetchMs: script ? script.responseEnd - script.requestStart : Number.NaN,
      };
    });
    // The launcher must really take a click: open the panel once to prove the mark was honest.
    await page.locator("support-chat .launcher").click({ timeout: 5_000 });
    await page.locator("support-chat .panel").waitFor({ state: "visible", timeout: 5_000 });
    return sample;
  } finally {
    await context.close();
  }
}

if (process.argv[1]?.endsWith("widget-bench.ts")) {
  await runWidgetBench(process.argv.includes("--json"));
  process.exit(0);
}
