import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { InsightEvent } from "../../../src/insights/insights-store.ts";
import { buildReport, formatReport, parseSince } from "../../../src/insights/support-report.ts";

const q = (channel: string, id: string, conversationKey: string): InsightEvent => ({
  type: "q",
  at: 1,
  channel,
  tenant: "t",
  conversationKey,
  userId: "u",
  messageId: id,
});
const a = (channel: string, id: string, kind: string, ttftMs: number): InsightEvent => ({
  type: "a",
  at: 2,
  channel,
  messageId: id,
  kind,
  ttftMs,
});

describe("support report", () => {
  const events: InsightEvent[] = [
    q("teams", "m1", "c1"),
    q("teams", "m2", "c2"),
    a("teams", "m1", "answer", 400),
    a("teams", "m1", "answer", 900), // a second follower of the same answer: counted once
    a("teams", "m2", "handoff", 5),
    { type: "h", at: 3, channel: "teams", tenant: "t", userId: "u", conversationKey: "c2" },
    { type: "f", at: 4, channel: "teams", tenant: "t", userId: "u", messageId: "m1", vote: "up" },
  ];

  it("counts deflection, thumbs-up rate, handoffs and a median TTFT of model answers only", () => {
    const r = buildReport(events, 0, 10);
    assert.deepEqual(r.channels[0], {
      channel: "teams",
      questions: 2,
      deflected: 1,
      deflectionRate: 0.5,
      thumbsUp: 1,
      thumbsDown: 0,
      thumbsUpRate: 1,
      handoffs: 1,
      medianTtftMs: 400,
    });
  });

  it("gives null rates when there is nothing to divide", () => {
    const r = buildReport([], 0, 10);
    assert.equal(r.total.deflectionRate, null);
    assert.equal(r.total.thumbsUpRate, null);
    assert.match(formatReport(r, "md"), /\| all \| 0 \| - \(0\) \| - \(0\/0\) \| 0 \| - \|/);
  });

  it("formats CSV with one row per channel and a total", () => {
    const csv = formatReport(buildReport(events, 0, 10), "csv").split("\n");
    assert.equal(csv.length, 3);
    assert.equal(csv[1], "teams,2,1,0.5000,1,0,1.0000,1,400");
  });

  it("parses windows and refuses nonsense with a coded error", () => {
    assert.equal(parseSince("7d"), 7 * 86_400_000);
    assert.equal(parseSince("12h"), 12 * 3_600_000);
    assert.throws(() => parseSince("last week"), { code: "bad_request" });
  });
});
