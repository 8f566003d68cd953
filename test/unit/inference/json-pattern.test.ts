import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ErrorCode } from "../../../src/errors.ts";
import { patternToGbnf, samplePattern } from "../../../src/inference/json-pattern.ts";

describe("JSON Schema patterns", () => {
  it("translates classes, escapes, groups, alternation and counted repetition", () => {
    assert.equal(patternToGbnf("^[A-Z]{2}-[0-9]{4}$"), "[A-Z]{2} [\\u002d] [0-9]{4}");
    assert.equal(patternToGbnf("^\\d+(?:\\.\\d{1,2})?$"), "[0-9]+ ([\\u002e] [0-9]{1,2})?");
    assert.equal(patternToGbnf("^(yes|no)$"), "(([y] [e] [s] | [n] [o]))");
  });

  it("keeps quotes, backslashes and control characters out of classes and '.', and escapes literal ones", () => {
    assert.equal(patternToGbnf("^.$"), '[^"\\\\\\x00-\\x1F\\x7F]');
    assert.equal(patternToGbnf('^[^a"]$'), '[^a"\\\\\\x00-\\x1F\\x7F]');
    assert.equal(patternToGbnf('^["a]$'), "[a]");
    assert.equal(patternToGbnf('^"$'), '"\\\\\\""');
  });

  it("refuses what it cannot express with bad_request", () => {
    for (const pattern of ["abc", "^(?=a)b$", "^a\\bb$", "^(a$", "^[a$", '^["]$']) {
      assert.throws(
        () => patternToGbnf(pattern),
        (error: { code?: string }) => error.code === ErrorCode.BadRequest,
        pattern,
      );
    }
  });

  it("samples strings the pattern matches (the FakeEngine's values)", () => {
    let x = 7;
    const random = () => {
      x = (x * 1103515245 + 12345) % 2147483648;
      return x / 2147483648;
    };
    for (const pattern of [
      "^[A-Z]{2}-[0-9]{4}$",
      "^\\d+(?:\\.\\d{1,2})?$",
      "^(yes|no)$",
      "^[^0-9]{3,}$",
      "^\\w+@\\w+\\.com$",
    ]) {
      const regex = new RegExp(pattern);
      for (let i = 0; i < 100; i++) {
        const value = samplePattern(pattern, random);
        assert.match(value, regex, pattern);
      }
    }
  });
});
