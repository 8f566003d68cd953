import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SessionTokens, tokenFrom } from "../../../../adapters/webchat/session-token.ts";

describe("SessionTokens", () => {
  const tokens = new SessionTokens("secret", 60);

  it("accepts its own token for its own conversation", () => {
    const claims = tokens.verify(tokens.issue("c1", "u1"), "c1");
    assert.equal(claims.c, "c1");
    assert.equal(claims.u, "u1");
  });

  it("refuses a token for another conversation", () => {
    assert.throws(() => tokens.verify(tokens.issue("c1", "u1"), "c2"), { code: "token_wrong_conversation" });
  });

  it("refuses an expired token", () => {
    const old = tokens.issue("c1", "u1", Date.now() - 61_000);
    assert.throws(() => tokens.verify(old, "c1"), { code: "token_expired" });
  });

  it("refuses tampered claims and foreign signatures", () => {
    const [, signature] = tokens.issue("c1", "u1").split(".");
    const forgedBody = Buffer.from(JSON.stringify({ c: "c1", u: "admin", e: 9e9 })).toString("base64url");
    assert.throws(() => tokens.verify(`${forgedBody}.${signature}`, "c1"), { code: "token_invalid" });
    assert.throws(() => tokens.verify(new SessionTokens("other", 60).issue("c1", "u1"), "c1"), {
      code: "token_invalid",
    });
    assert.throws(() => tokens.verify("a.b.c", "c1"), { code: "token_invalid" });
    assert.throws(() => tokens.verify(undefined, "c1"), { code: "token_missing" });
  });

  it("reads the bearer header before the query parameter", () => {
    assert.equal(tokenFrom("Bearer abc", "def"), "abc");
    assert.equal(tokenFrom(undefined, "def"), "def");
    assert.equal(tokenFrom("Basic xyz", undefined), undefined);
  });
});
