import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Harness, startHarness } from "../../helpers/harness.ts";

describe("report gauges on /metrics", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ worker: false, model: false });
  });
  after(async () => {
    await h?.stop();
  });

  const gauge = async (name: string, channel: string) => {
    const text = await h.gateway.metrics.registry.metrics();
    const line = text.split("\n").find((l) => l.startsWith(`${name}{channel="${channel}"}`));
    return line === undefined ? undefined : Number(line.split(" ").at(-1));
  };

  it("follows new analytics events incrementally and matches the report", async () => {
    const store = h.gateway.support.store;
    const now = Date.now();
    const question = (n: number) => ({
      type: "q" as const,
      at: now,
      channel: "slack",
      tenant: "T",
      conversationKey: `c${n}`,
      userId: `u${n}`,
      messageId: `m${n}`,
    });
    await store.recordEvent(question(1));
    await store.recordEvent({
      type: "a",
      at: now,
      channel: "slack",
      messageId: "m1",
      kind: "answer",
      ttftMs: 300,
    });
    await h.gateway.support.refreshMetrics(true);
    assert.equal(await gauge("sgw_report_questions", "slack"), 1);
    assert.equal(await gauge("sgw_report_deflection_ratio", "slack"), 1);
    assert.equal(await gauge("sgw_report_ttft_median_seconds", "slack"), 0.3);

    await store.recordEvent(question(2));
    await store.recordEvent({
      type: "a",
      at: now,
      channel: "slack",
      messageId: "m2",
      kind: "no_answer",
      ttftMs: 100,
    });
    await store.recordEvent({
      type: "h",
      at: now,
      channel: "slack",
      tenant: "T",
      userId: "u2",
      conversationKey: "c2",
    });
    await h.gateway.support.refreshMetrics(true);
    assert.equal(await gauge("sgw_report_questions", "slack"), 2);
    assert.equal(await gauge("sgw_report_questions", "all"), 2);
    assert.equal(await gauge("sgw_report_deflection_ratio", "slack"), 0.5);
    assert.equal(await gauge("sgw_report_handoffs", "slack"), 1);
    assert.equal(await gauge("sgw_report_ttft_median_seconds", "slack"), 0.2);
    // No votes yet: no thumbs-up ratio rather than a made-up 0.
    assert.equal(await gauge("sgw_report_thumbs_up_ratio", "slack"), undefined);
  });
});
