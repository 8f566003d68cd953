import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildWidget, WIDGET_GZIP_BUDGET_BYTES } from "../../../../../adapters/webchat/widget/build.ts";
import { languagePacks } from "../../../../../adapters/webchat/widget/i18n/packs.ts";
import { en } from "../../../../../adapters/webchat/widget/strings.ts";

describe("widget build", () => {
  it("bundles the widget into one script under the 30 KB gzipped budget", async () => {
    const bundle = await buildWidget();
    assert.ok(bundle.rawBytes > 1000, "the bundle is not empty");
    assert.ok(
      bundle.gzipBytes < WIDGET_GZIP_BUDGET_BYTES,
      `widget.js is ${bundle.gzipBytes} bytes gzipped; the budget is ${WIDGET_GZIP_BUDGET_BYTES}`,
    );
  });

  it("carries the English texts only: other languages are packs fetched when a page asks for them", async () => {
    const { code } = await buildWidget();
    assert.ok(code.includes(en.greeting));
    for (const [lang, pack] of Object.entries(languagePacks)) {
      assert.ok(!code.includes(pack.greeting), `the ${lang} pack is not in the bundle`);
    }
  });

  it("is a self-contained classic script with no imports or eval", async () => {
    const { code } = await buildWidget();
    assert.doesNotMatch(code, /^\s*import\s|\bimport\(|\brequire\(/m);
    assert.doesNotMatch(code, /\beval\(|new Function\(/);
    assert.match(code, /customElements\.define\("support-chat"/);
  });

  it("writes answer text only through text nodes: the one innerHTML is the constant launcher icon", async () => {
    const { code } = await buildWidget({ minify: false });
    const uses = code.match(/\.(innerHTML|outerHTML|insertAdjacentHTML)\b/g) ?? [];
    assert.deepEqual(uses, [".innerHTML"]);
    assert.match(code, /\.innerHTML = chatIcon/);
  });
});
