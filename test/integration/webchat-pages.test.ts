import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, it } from "node:test";
import { fr } from "../../adapters/webchat/widget/i18n/fr.ts";
import { packLanguages } from "../../adapters/webchat/widget/language.ts";
import type { InboundMessage } from "../../src/conversation/inbound-message.ts";
import { type Harness, startHarness } from "../helpers/harness.ts";
import { createConversation } from "../helpers/webchat-client.ts";

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

  it("serves each language pack as cacheable, cross-origin JSON, and 404s an unknown one", async () => {
    for (const lang of packLanguages) {
      const res = await fetch(`${h.baseUrl}/webchat/i18n/${lang}.json`);
      assert.equal(res.status, 200, lang);
      assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
      assert.equal(res.headers.get("access-control-allow-origin"), "*");
      assert.equal(res.headers.get("cross-origin-resource-policy"), "cross-origin");
      assert.equal(typeof ((await res.json()) as Record<string, unknown>).send, "string");
    }
    const gz = await fetch(`${h.baseUrl}/webchat/i18n/fr.json`, { headers: { "accept-encoding": "gzip" } });
    assert.equal(gz.headers.get("content-encoding"), "gzip");
    assert.deepEqual(await gz.json(), fr, "fetch undid the gzip");
    const etag = gz.headers.get("etag");
    assert.ok(etag);
    assert.equal(
      (await fetch(`${h.baseUrl}/webchat/i18n/fr.json`, { headers: { "if-none-match": etag } })).status,
      304,
    );

    for (const path of ["xx.json", "fr", "..%2Fwidget.js", "en.json"]) {
      const res = await fetch(`${h.baseUrl}/webchat/i18n/${path}`);
      assert.equal(res.status, 404, path);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, "not_found");
    }
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

  it("puts the demo in another language with ?lang=, and ignores a value that is not a language tag", async () => {
    const french = await (await fetch(`${h.baseUrl}/webchat/demo?lang=fr`)).text();
    assert.match(
      french,
      /<script src="\/webchat\/widget\.js" data-lang="fr" data-accent="#[0-9a-f]+" async>/,
    );
    const bad = await (
      await fetch(`${h.baseUrl}/webchat/demo?lang=${encodeURIComponent('fr" onload="x')}`)
    ).text();
    assert.match(
      bad,
      /<script src="\/webchat\/widget\.js" data-title="[^"]+" data-accent="#[0-9a-f]+" async>/,
    );
    assert.doesNotMatch(bad, /onload/);
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

  it("passes a message's language on to the conversation layer and refuses one that is not a language tag", async () => {
    const seen: InboundMessage[] = [];
    const conversations = h.conversations;
    const submit = conversations.submit.bind(conversations);
    conversations.submit = (message) => {
      seen.push(message);
      return submit(message);
    };
    const { conversationId, token } = await createConversation(h.baseUrl);
    const post = (body: unknown) =>
      fetch(`${h.baseUrl}/webchat/v1/conversations/${conversationId}/messages`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      });
    assert.equal((await post({ text: "Wie lange dauert eine Rückerstattung?", lang: "de-AT" })).status, 202);
    assert.equal((await post({ text: "How long does a refund take?" })).status, 202);
    const bad = await post({ text: "hello", lang: "<script>" });
    assert.equal(bad.status, 400);
    const error = ((await bad.json()) as { error: { code: string; message: string } }).error;
    assert.equal(error.code, "bad_request");
    assert.match(error.message, /"lang"/);
    assert.deepEqual(
      seen.map((m) => m.lang),
      ["de-AT", undefined],
    );
    assert.ok(!("lang" in (seen[1] ?? {})), "no language: no field at all");
    conversations.submit = submit;
  });
});
