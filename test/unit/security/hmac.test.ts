import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { describe, it } from "node:test";
import { signUserId } from "../../../adapters/webchat/identity.ts";
import { SessionTokens } from "../../../adapters/webchat/session-token.ts";
import { signWebhook, verifyWebhook } from "../../../src/handoff/webhook-delivery.ts";
import { hmacSha256, safeEqual, verifyHmac } from "../../../src/security/hmac.ts";
import { slackSignature } from "../../fakes/slack-events.ts";

// Slack's documented example: this body, timestamp and secret give this signature.
const slackSecret = "8f742231b10e8888abcd99yyyzzz85a5";
const slackBody =
  "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";

describe("hmac: one sign/verify pair, formats unchanged", () => {
  it("computes Slack's documented example signature (what the test fakes send)", () => {
    assert.equal(
      slackSignature(slackSecret, "1531420618", slackBody),
      "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
    );
  });

  it("keeps the webhook signature format: sha256=hex HMAC of timestamp.body", () => {
    const expected = createHmac("sha256", "s3cret").update("1700000000.{}").digest("hex");
    assert.equal(signWebhook("s3cret", "1700000000", "{}"), `sha256=${expected}`);
    assert.ok(verifyWebhook("s3cret", "1700000000", "{}", `sha256=${expected}`));
    assert.ok(verifyWebhook("s3cret", "1700000000", "{}", `sha256=${expected.toUpperCase()}`));
    assert.equal(verifyWebhook("s3cret", "1700000001", "{}", `sha256=${expected}`), false);
    assert.equal(
      verifyWebhook("s3cret", "1700000000", "{}", expected),
      false,
      "the sha256= prefix is required",
    );
  });

  it("keeps the identity format (hex of the user id) and the session token format (base64url claims.signature)", () => {
    assert.equal(signUserId("k", "user-42"), createHmac("sha256", "k").update("user-42").digest("hex"));
    const token = new SessionTokens("secret", 60).issue("c1", "u1");
    const [body, signature] = token.split(".");
    assert.equal(
      signature,
      createHmac("sha256", "secret")
        .update(body ?? "")
        .digest("base64url"),
    );
  });

  it("verifies in constant time and never throws on a malformed or short signature", () => {
    const good = hmacSha256("k", ["a", "b"], "hex");
    assert.equal(good, hmacSha256("k", "ab", "hex"), "parts are fed in order without a separator");
    assert.ok(verifyHmac("k", "ab", good, "hex"));
    for (const bad of ["", "00", `${good}00`, good.replace(/.$/, "g"), "é".repeat(64)]) {
      assert.equal(verifyHmac("k", "ab", bad, "hex"), false, bad);
    }
    const b64 = hmacSha256("k", "ab", "base64url");
    assert.ok(verifyHmac("k", "ab", b64, "base64url"));
    assert.equal(verifyHmac("k", "ab", `${b64}A`, "base64url"), false);
    assert.equal(safeEqual(Buffer.from("ab"), Buffer.from("abc")), false);
  });
});
