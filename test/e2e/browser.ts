import { type Browser, chromium } from "playwright-core";

/** Debian's Chromium (installed by .ci/run with apt-get); playwright-core drives it over CDP. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/** Starts headless Chromium with the flags that keep it quiet and offline on a CI machine. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-quic",
      "--no-first-run",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
