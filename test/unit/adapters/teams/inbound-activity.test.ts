import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  checkActivityShape,
  mentionsBot,
  plainText,
  scopeOf,
  serviceUrlAllowed,
  tenantOf,
} from "../../../../adapters/teams/inbound-activity.ts";
import { testConfig } from "../../../../src/config.ts";
import { channelMessage, personalMessage } from "../../../fakes/teams-activities.ts";

/** The default allow-list (TEAMS_SERVICE_URL_ALLOWLIST unset). */
const microsoft = testConfig().teams.serviceUrlAllowlist;

describe("serviceUrlAllowed", () => {
  it("accepts Teams' real connector hosts over https", () => {
    assert.ok(serviceUrlAllowed("https://smba.trafficmanager.net/amer/", microsoft));
    assert.ok(serviceUrlAllowed("https://smba.trafficmanager.net/emea/", microsoft));
    assert.ok(serviceUrlAllowed("https://api.botframework.com/", microsoft));
  });

  it("refuses look-alike hosts, plain http and the bare wildcard domain's neighbours", () => {
    assert.equal(serviceUrlAllowed("https://evilbotframework.com/", microsoft), false);
    assert.equal(serviceUrlAllowed("https://botframework.com.attacker.net/", microsoft), false);
    assert.equal(serviceUrlAllowed("http://smba.trafficmanager.net/amer/", microsoft), false);
    assert.equal(serviceUrlAllowed("https://127.0.0.1:8080/", microsoft), false);
    assert.equal(serviceUrlAllowed("not a url", microsoft), false);
  });

  it("matches an entry with a scheme by exact origin (how tests allow a local connector)", () => {
    const local = ["http://127.0.0.1:4567"];
    assert.ok(serviceUrlAllowed("http://127.0.0.1:4567/", local));
    assert.equal(serviceUrlAllowed("http://127.0.0.1:4568/", local), false);
    assert.equal(serviceUrlAllowed("https://127.0.0.1:4567/", local), false);
  });
});

describe("checkActivityShape", () => {
  const good = personalMessage({ serviceUrl: "https://smba.trafficmanager.net/amer/", text: "hi" });

  it("passes a real Teams message and turns its timestamps into Dates", () => {
    const activity = checkActivityShape(structuredClone(good));
    assert.ok(activity.timestamp instanceof Date);
  });

  it("names what is missing", () => {
    assert.throws(() => checkActivityShape([]), /JSON object/);
    assert.throws(() => checkActivityShape({ ...good, type: "" }), /no type/);
    assert.throws(() => checkActivityShape({ ...good, serviceUrl: "ftp://x" }), /http/);
    assert.throws(() => checkActivityShape({ ...good, conversation: {} }), /conversation id/);
    assert.throws(() => checkActivityShape({ ...good, from: { name: "x" } }), /from\.id/);
  });
});

describe("Teams activity fields", () => {
  it("reads the tenant, the scope and whether the bot itself is mentioned", () => {
    const serviceUrl = "https://smba.trafficmanager.net/amer/";
    const mentioned = checkActivityShape(
      channelMessage({ serviceUrl, text: "hi", mention: true, tenantId: "t-1" }),
    );
    const plain = checkActivityShape(channelMessage({ serviceUrl, text: "hi", mention: false }));
    assert.equal(tenantOf(mentioned), "t-1");
    assert.equal(scopeOf(mentioned), "channel");
    assert.equal(scopeOf(checkActivityShape(personalMessage({ serviceUrl, text: "x" }))), "personal");
    assert.equal(mentionsBot(mentioned), true);
    assert.equal(mentionsBot(plain), false);
    const other = structuredClone(mentioned);
    const entity = other.entities?.[0] as unknown as { mentioned: { id: string } } | undefined;
    assert.ok(entity);
    entity.mentioned.id = "29:someone-else";
    assert.equal(mentionsBot(other), false, "a mention of someone else is not a mention of the bot");
  });
});

describe("plainText", () => {
  it("drops Teams' HTML and decodes entities, keeping line breaks", () => {
    assert.equal(
      plainText("<p>How do I <b>reset</b> my&nbsp;password?</p><p>Thanks &amp; bye</p>"),
      "How do I reset my password?\nThanks & bye",
    );
    assert.equal(plainText("ask <at>Jane Doe</at> &lt;3 &#233;&#x41;"), "ask Jane Doe <3 éA");
    assert.equal(plainText("  plain text  "), "plain text");
  });
});
