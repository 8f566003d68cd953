import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Redactor } from "../../../src/insights/redaction.ts";

describe("Redactor", () => {
  const r = new Redactor(["ORD-\\d{4,}"]);

  it("replaces e-mail addresses, including plus and sub-domains", () => {
    assert.equal(r.redact("write to jane.doe+shop@mail.example.co.uk today"), "write to [email] today");
  });

  it("replaces card-like numbers with spaces or dashes", () => {
    assert.equal(r.redact("card 4111 1111 1111 1111 was declined"), "card [card] was declined");
    assert.equal(r.redact("card 5500-0000-0000-0004"), "card [card]");
  });

  it("replaces phone numbers in international and local forms", () => {
    assert.equal(r.redact("call +44 20 7946 0958 or (555) 123-4567"), "call [phone] or [phone]");
  });

  it("keeps model numbers, error codes, years and dates", () => {
    const text = "my T100 shows E42 since 2024, bought 12/03";
    assert.equal(r.redact(text), text);
  });

  it("applies configured patterns", () => {
    assert.equal(r.redact("where is ORD-123456?"), "where is [redacted]?");
  });
});
