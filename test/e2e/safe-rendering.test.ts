import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { Browser, Page } from "playwright-core";
import { launchChromium } from "./browser.ts";

const widgetDir = join(dirname(fileURLToPath(import.meta.url)), "../../adapters/webchat/widget");

/** Classic XSS payloads (OWASP cheat sheet and Markdown-specific ones); each would call alert() if live. */
const payloads = [
  "<img src=x onerror=alert(1)>",
  "<script>alert(1)</script>",
  "<svg/onload=alert(1)>",
  "<iframe src=javascript:alert(1)></iframe>",
  '"><img src=x onerror=alert(1)>',
  "<details open ontoggle=alert(1)>",
  '<a href="javascript:alert(1)">x</a>',
  '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
  "<style>@import 'https://evil.example/x.css'</style>",
  "<body onload=alert(1)>",
  "<object data=javascript:alert(1)>",
  "[x](javascript:alert(1))",
  "[x](JAVASCRIPT:alert(1))",
  "[x](  javascript:alert(1))",
  "[x](jav&#x09;ascript:alert(1))",
  "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
  "[x](vbscript:alert(1))",
  '[x](https://ok.example "t" onclick=alert(1))',
  "[<img src=x onerror=alert(1)>](https://ok.example)",
  "![x](https://evil.example/pixel.png)",
  "![x](javascript:alert(1))",
  "**<img src=x onerror=alert(1)>**",
  "`<img src=x onerror=alert(1)>`",
  "```\n<script>alert(1)</script>\n```",
  '> <img src=x onerror=alert(1)>\n- <svg onload=alert(1)>\n1. <a href="javascript:alert(1)">y</a>',
  'https://ok.example/"onmouseover="alert(1)',
];

describe("safe Markdown rendering in Chromium against classic payloads", () => {
  let browser: Browser;
  let page: Page;
  let dialogs = 0;
  const foreign: string[] = [];

  before(async () => {
    // The renderer exactly as the widget bundles it, exposed to the test page.
    const bundle = await build({
      stdin: {
        contents:
          'import { renderMarkdown, sanitizeTree } from "./render-markdown.ts";\n' +
          "Object.assign(window, { renderMarkdown, sanitizeTree });",
        resolveDir: widgetDir,
        loader: "ts",
      },
      bundle: true,
      format: "iife",
      write: false,
    });
    browser = await launchChromium();
    page = await browser.newPage();
    page.on("dialog", (dialog) => {
      dialogs++;
      void dialog.dismiss();
    });
    page.on("request", (request) => {
      if (!request.url().startsWith("about:") && !request.url().startsWith("data:"))
        foreign.push(request.url());
    });
    await page.setContent("<!doctype html><html><body></body></html>");
    await page.addScriptTag({ content: bundle.outputFiles[0]?.text ?? "" });
  });

  after(async () => {
    await browser?.close();
  });

  it("renders every payload with allow-listed elements, no handlers and only http(s)/mailto links", async () => {
    const results = await page.evaluate((inputs) => {
      const w = window as unknown as { renderMarkdown: (d: Document, t: string) => DocumentFragment };
      const allowed = new Set([
        "P",
        "STRONG",
        "EM",
        "CODE",
        "PRE",
        "UL",
        "OL",
        "LI",
        "A",
        "BR",
        "BLOCKQUOTE",
      ]);
      return inputs.map((input) => {
        const host = document.createElement("div");
        host.append(w.renderMarkdown(document, input));
        document.body.append(host);
        const all = Array.from(host.querySelectorAll("*"));
        return {
          input,
          badTags: all.filter((el) => !allowed.has(el.tagName)).map((el) => el.tagName),
          badAttributes: all.flatMap((el) =>
            Array.from(el.attributes)
              .filter((a) => !["href", "rel", "target", "start"].includes(a.name))
              .map((a) => `${el.tagName}[${a.name}]`),
          ),
          hrefs: Array.from(host.querySelectorAll("a")).map((a) => a.getAttribute("href") ?? ""),
          text: host.textContent ?? "",
        };
      });
    }, payloads);
    for (const r of results) {
      assert.deepEqual(r.badTags, [], r.input);
      assert.deepEqual(r.badAttributes, [], r.input);
      for (const href of r.hrefs) assert.match(href, /^(https?:\/\/|mailto:)/, `${r.input} -> ${href}`);
      assert.ok(r.text.length > 0, `${r.input} leaves readable text`);
    }
    // Event handlers would fire asynchronously (image errors, toggles): give them time.
    await page.waitForTimeout(300);
    assert.equal(dialogs, 0, "no payload ran");
    assert.deepEqual(foreign, [], "no remote image or stylesheet was requested");
  });

  it("strips elements and attributes outside the allow-list from markup built any other way", async () => {
    const html = await page.evaluate(() => {
      const w = window as unknown as { sanitizeTree: (root: ParentNode) => void };
      const template = document.createElement("template");
      template.innerHTML =
        '<p onclick="alert(1)" style="x">a<img src=x onerror=alert(1)><a href="javascript:alert(1)" onmouseover="alert(1)">b</a>' +
        '<a href="https://ok.example/">c</a><svg><script>alert(1)</script></svg></p>';
      w.sanitizeTree(template.content);
      const div = document.createElement("div");
      div.append(template.content);
      return div.innerHTML;
    });
    assert.equal(
      html,
      '<p>a<a rel="noopener noreferrer nofollow" target="_blank">b</a>' +
        '<a href="https://ok.example/" rel="noopener noreferrer nofollow" target="_blank">c</a>alert(1)</p>',
    );
  });
});
