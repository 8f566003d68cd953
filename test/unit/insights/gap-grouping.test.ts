import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { groupGaps } from "../../../src/insights/gap-grouping.ts";
import type { GapRecord } from "../../../src/insights/insights-store.ts";

const gap = (question: string, at: number, extra: Partial<GapRecord> = {}): GapRecord => ({
  at,
  channel: "webchat",
  tenant: "web",
  userId: "u",
  question,
  reason: "no_answer",
  closest: [],
  ...extra,
});

describe("groupGaps", () => {
  it("puts inflected forms of the same question together (stemmed terms)", () => {
    const groups = groupGaps([
      gap("Can I get refunded for a gift?", 1),
      gap("refunds on gifts", 2),
      gap("Is a gift refundable?", 3, { reason: "downvote", channel: "slack" }),
      gap("Does it work with a heat pump?", 4),
    ]);
    assert.equal(groups.length, 2);
    assert.equal(groups[0]?.count, 3);
    assert.deepEqual(groups[0]?.reasons, { no_answer: 2, downvote: 1 });
    assert.deepEqual(groups[0]?.channels, ["slack", "webchat"]);
    assert.equal(groups[1]?.count, 1);
  });

  it("lists distinct examples, newest first, capped", () => {
    const groups = groupGaps(
      [
        gap("pool heater", 1),
        gap("pool heater", 2),
        gap("heater for the pool", 3),
        gap("pool heater setup", 4),
      ],
      { examples: 2 },
    );
    assert.deepEqual(groups[0]?.examples, ["pool heater setup", "heater for the pool"]);
  });

  it("keeps the best score per closest file across the group", () => {
    const groups = groupGaps([
      gap("refund gift", 1, { closest: [{ path: "billing/refunds.md", title: "Refunds", score: 0.2 }] }),
      gap("gift refund", 2, {
        closest: [
          { path: "billing/refunds.md", title: "Refunds", score: 0.4 },
          { path: "returns/return-policy.md", title: "Return policy", score: 0.3 },
        ],
      }),
    ]);
    assert.deepEqual(
      groups[0]?.closest.map((c) => [c.path, c.score]),
      [
        ["billing/refunds.md", 0.4],
        ["returns/return-policy.md", 0.3],
      ],
    );
  });
});
