import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { describe, it } from "node:test";
import { signUserId, verifyIdentity } from "../../../../adapters/webchat/identity.ts";
import type { WebchatSite } from "../../../../adapters/webchat/origin-policy.ts";

const secret = "site-secret-0123456789";
const site = (over: Partial<WebchatSite> = {}): WebchatSite => ({
  id: "shop",
  origins: [],
  identitySecret: secret,
  requireIdentity: false,
  ...over,
});
const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return "no error";
};

describe("identity verification", () => {
  it("signs like the host's server would: hex HMAC-SHA256 of the user id", () => {
    assert.equal(signUserId(secret, "user-42"), createHmac("sha256", secret).update("user-42").digest("hex"));
  });

  it("accepts a correctly signed user id (hex in either case)", () => {
    const hash = signUserId(secret, "user-42");
    assert.equal(verifyIdentity(site(), { userId: "user-42", userHash: hash }), "user-42");
    assert.equal(verifyIdentity(site(), { userId: "user-42", userHash: hash.toUpperCase() }), "user-42");
  });

  it("lets anonymous visitors in unless the site requires an identity", () => {
    assert.equal(verifyIdentity(site(), {}), undefined);
    assert.equal(
      codeOf(() => verifyIdentity(site({ requireIdentity: true }), {})),
      "unauthorized",
    );
  });

  it("refuses a signature made for another user, with another secret, or malformed", () => {
    const other = signUserId(secret, "user-43");
    const wrongSecret = signUserId("another-secret-123456", "user-42");
    for (const userHash of [other, wrongSecret, "abc", "", 42, undefined, `${other}00`]) {
      assert.equal(
        codeOf(() => verifyIdentity(site(), { userId: "user-42", userHash })),
        "unauthorized",
        String(userHash),
      );
    }
  });

  it("refuses an identity the site cannot verify (no secret configured)", () => {
    const hash = signUserId(secret, "user-42");
    assert.equal(
      codeOf(() =>
        verifyIdentity(site({ identitySecret: undefined }), { userId: "user-42", userHash: hash }),
      ),
      "forbidden",
    );
  });

  it("refuses user ids that are not printable text or imitate anonymous ids", () => {
    for (const userId of ["", "a\u0000b", "x".repeat(201), 7, "anon-c0ffee"]) {
      assert.equal(
        codeOf(() => verifyIdentity(site(), { userId, userHash: "00" })),
        "bad_request",
        String(userId),
      );
    }
  });
});
