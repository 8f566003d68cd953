import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, it } from "node:test";
import { type Harness, startHarness } from "../helpers/harness.ts";

/** A GET with a Host header of our choosing (fetch does not let a caller set it). */
function getWithHost(url: string, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { host } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve(body));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("the gateway's pages and the widget's supporting endpoints (HTTP)", () => {
  let h: Harness;
  let published: Harness;

  before(async () => {
    h = await startHarness({
      model: false,
      worker: false,
      env: { WEBCHAT_ALLOWED_ORIGINS: "https://www.brightnest.example" },
    });
    published = await startHarness({
      model: false,
      worker: false,
      env: { PUBLIC_URL: "https://support.brightnest.example/help/" },
    });
  });

  after(async () => {
    await h?.stop();
    await published?.stop();
  });

  it("says at /webchat/v1/config whether the asking page's origin may use the chat, readable cross-origin", async () => {
    const ask = (origin?: string) =>
      fetch(`${h.baseUrl}/webchat/v1/config`, { headers: origin ? { origin } : {} });
    const allowed = await ask("https://www.brightnest.example");
    assert.equal(allowed.status, 200);
    assert.deepEqual(await allowed.json(), { allowed: true });
    assert.equal(allowed.headers.get("access-control-allow-origin"), "https://www.brightnest.example");
    assert.match(allowed.headers.get("vary") ?? "", /Origin/i);
    assert.equal(allowed.headers.get("cache-control"), "no-store");

    // 200 either way: a refused page learns the answer without a failed request in its console.
    const refused = await ask("https://evil.example");
    assert.equal(refused.status, 200);
    assert.deepEqual(await refused.json(), { allowed: false });
    assert.equal(refused.headers.get("access-control-allow-origin"), "https://evil.example");

    assert.deepEqual(await (await ask()).json(), { allowed: true }, "same-origin pages (the demo)");
    assert.deepEqual(await (await ask(h.baseUrl)).json(), { allowed: true });
    assert.deepEqual(
      await (await ask("null")).json(),
      { allowed: false },
      "sandboxed frames identify no site",
    );
  });

  it("shows an absolute embed snippet on the demo: the request's origin, or PUBLIC_URL when set", async () => {
    const demo = await (await fetch(`${h.baseUrl}/webchat/demo`)).text();
    assert.ok(
      demo.includes(`&lt;script src=&quot;${h.baseUrl}/webchat/widget.js&quot;`),
      "the snippet names the gateway by the URL the page was opened with",
    );
    const behindProxy = await (await fetch(`${published.baseUrl}/webchat/demo`)).text();
    assert.ok(
      behindProxy.includes(
        "&lt;script src=&quot;https://support.brightnest.example/help/webchat/widget.js&quot;",
      ),
    );
    // The page itself still loads the script from its own origin (its CSP allows only 'self').
    assert.match(
      behindProxy,
      /<script src="\/webchat\/widget\.js" data-title="[^"]+" data-accent="#[0-9a-f]+" async>/,
    );

    const hostile = await getWithHost(`${h.baseUrl}/webchat/demo`, 'x"><script>alert(1)</script>');
    assert.doesNotMatch(hostile, /<script>alert/, "a forged Host header is escaped, never markup");
  });

  it("answers GET / with a landing page linking the demo, the health checks and the docs", async () => {
    const res = await fetch(`${h.baseUrl}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
    assert.doesNotMatch(res.headers.get("content-security-policy") ?? "", /unsafe-inline/);
    const page = await res.text();
    for (const path of ["/webchat/demo", "/healthz", "/readyz"]) {
      assert.ok(page.includes(`href="${h.baseUrl}${path}"`), path);
    }
    assert.match(page, /README\.md/);
    assert.match(page, /Configuration/);
    const behindProxy = await (await fetch(`${published.baseUrl}/`)).text();
    assert.ok(behindProxy.includes('href="https://support.brightnest.example/help/webchat/demo"'));
    assert.equal((await fetch(`${h.baseUrl}/no-such-page`)).status, 404, "other paths still 404");
  });
});
