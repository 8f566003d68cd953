import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseAdminTokens, roleOf } from "../../../src/admin/admin-auth.ts";

describe("admin tokens", () => {
  const tokens = parseAdminTokens(["viewer:viewer-0123456789abcdef", "admin:admin-0123456789abcdefgh"]);

  it("finds the role of a bearer token", () => {
    assert.equal(roleOf(tokens, "Bearer viewer-0123456789abcdef"), "viewer");
    assert.equal(roleOf(tokens, "bearer admin-0123456789abcdefgh"), "admin");
  });

  it("knows no role for a missing, malformed or unknown token", () => {
    assert.equal(roleOf(tokens, undefined), undefined);
    assert.equal(roleOf(tokens, "Basic dmlld2VyOg=="), undefined);
    assert.equal(roleOf(tokens, "Bearer viewer-0123456789abcdeX"), undefined);
  });

  it("refuses a bad entry without echoing its token", () => {
    assert.throws(
      () => parseAdminTokens(["owner:secret-value-0123456789"]),
      (error: Error) => {
        assert.match(error.message, /entry 1/);
        assert.doesNotMatch(error.message, /secret-value/);
        return true;
      },
    );
    assert.throws(() => parseAdminTokens(["admin:short"]), /16\+ characters/);
  });
});
