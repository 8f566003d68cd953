import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { OriginPolicy, originMatches, sitesFromConfig } from "../../../../adapters/webchat/origin-policy.ts";
import { testConfig } from "../../../../src/config.ts";

const own = "http://127.0.0.1:3000";

describe("OriginPolicy", () => {
  it("allows only same-origin pages when the allow-list is empty", () => {
    const policy = new OriginPolicy(sitesFromConfig(testConfig().webchat));
    const same = policy.decide(own, own);
    assert.ok(same.allowed);
    assert.equal(same.site.id, "web");
    assert.equal(same.cors, undefined, "same-origin needs no CORS headers");
    assert.equal(policy.decide("https://evil.example", own).allowed, false);
  });

  it("treats requests without Origin as the default site", () => {
    const policy = new OriginPolicy(sitesFromConfig(testConfig().webchat));
    const decision = policy.decide(undefined, own);
    assert.ok(decision.allowed);
    assert.equal(decision.site.id, "web");
  });

  it("refuses the opaque 'null' origin of sandboxed frames and file pages, and malformed origins", () => {
    const policy = new OriginPolicy(
      sitesFromConfig(testConfig({ WEBCHAT_ALLOWED_ORIGINS: "null,https://ok.example" }).webchat),
    );
    assert.equal(policy.decide("null", own).allowed, false);
    assert.equal(policy.decide("not a url", own).allowed, false);
    assert.equal(policy.decide("javascript:alert(1)", own).allowed, false);
  });

  it("maps each allowed origin to its own site and echoes it for CORS", () => {
    const config = testConfig({
      WEBCHAT_ALLOWED_ORIGINS: "https://www.brightnest.example",
      WEBCHAT_SITES: JSON.stringify([
        { id: "shop", origins: ["https://shop.example", "https://*.shop.example"], requireIdentity: true },
      ]),
    });
    const policy = new OriginPolicy(sitesFromConfig(config.webchat));
    const main = policy.decide("https://www.brightnest.example", own);
    assert.ok(main.allowed);
    assert.equal(main.site.id, "web");
    assert.equal(main.cors, "https://www.brightnest.example");
    const shop = policy.decide("https://eu.shop.example", own);
    assert.ok(shop.allowed);
    assert.equal(shop.site.id, "shop");
    assert.equal(shop.site.requireIdentity, true);
    assert.equal(policy.decide("https://shop.example.evil.example", own).allowed, false);
    assert.equal(policy.decide("http://shop.example", own).allowed, false, "scheme must match");
  });

  it("accepts the configured public URL as the gateway's own origin behind a proxy", () => {
    const policy = new OriginPolicy(sitesFromConfig(testConfig().webchat), "https://support.example/base/");
    assert.ok(policy.decide("https://support.example", "http://10.0.0.5:3000").allowed);
  });
});

describe("originMatches", () => {
  it("matches exact origins regardless of a trailing slash or case", () => {
    assert.ok(originMatches("https://Shop.Example/", "https://shop.example"));
    assert.ok(!originMatches("https://shop.example", "https://shop.example:8443"));
  });

  it("matches wildcard subdomains but not the bare domain or look-alikes", () => {
    assert.ok(originMatches("https://*.shop.example", "https://a.b.shop.example"));
    assert.ok(!originMatches("https://*.shop.example", "https://shop.example"));
    assert.ok(!originMatches("https://*.shop.example", "https://evilshop.example"));
    assert.ok(originMatches("http://*.localhost:8080", "http://app.localhost:8080"));
    assert.ok(!originMatches("http://*.localhost:8080", "http://app.localhost:9090"));
  });
});
