import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DeliveryRetryError, retryDelay } from "../../../src/delivery/delivery-queue.ts";
import { retryAfterMs } from "../../../src/delivery/retry-after.ts";

describe("retryDelay", () => {
  it("doubles per failed attempt from the base, with at most 10% jitter, up to the cap", () => {
    for (let attempt = 1; attempt <= 12; attempt++) {
      const step = Math.min(10_000, 100 * 2 ** (attempt - 1));
      for (let i = 0; i < 50; i++) {
        const d = retryDelay(attempt, 100, 10_000);
        assert.ok(d >= step && d <= Math.round(step * 1.1), `attempt ${attempt}: ${d}`);
      }
    }
  });

  it("never retries sooner than the platform's Retry-After, even past the cap", () => {
    assert.equal(retryDelay(1, 100, 1000, new DeliveryRetryError("429", { retryAfterMs: 30_000 })), 30_000);
    assert.ok(retryDelay(5, 100, 1000, new DeliveryRetryError("429", { retryAfterMs: 50 })) >= 1000);
    assert.ok(retryDelay(1, 100, 1000, new Error("plain")) <= 110);
  });
});

describe("retryAfterMs", () => {
  it("reads seconds and HTTP dates, and ignores what it cannot read", () => {
    assert.equal(retryAfterMs("2"), 2000);
    assert.equal(retryAfterMs("0"), 0);
    const now = Date.parse("2026-01-01T00:00:00Z");
    assert.equal(retryAfterMs("Thu, 01 Jan 2026 00:00:30 GMT", now), 30_000);
    assert.equal(retryAfterMs("Wed, 31 Dec 2025 23:00:00 GMT", now), 0);
    for (const bad of [null, undefined, "", "soon", "-5"])
      assert.equal(retryAfterMs(bad), undefined, String(bad));
  });
});
