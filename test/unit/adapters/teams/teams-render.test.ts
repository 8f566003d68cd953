import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isHandoffAction, renderAnswer, withStream } from "../../../../adapters/teams/teams-render.ts";

const answer = {
  messageId: "m-1",
  text: "Refunds take five days [1].",
  kind: "answer" as const,
  citations: [
    { n: 1, title: "Refunds *fast* [guide]", path: "billing/refunds.md", url: "https://help.example.com/r" },
  ],
};

describe("renderAnswer", () => {
  it("lists sources in an Adaptive Card with titles escaped, and adds the hand-off button only when asked", () => {
    const withButton = renderAnswer(answer, { handoff: true, feedback: false });
    const card = withButton.attachments?.[0]?.content as {
      body: { text: string }[];
      actions?: { data: unknown }[];
    };
    assert.equal(card.body[1]?.text, "[1] [Refunds \\*fast\\* \\[guide\\]](https://help.example.com/r)");
    assert.ok(isHandoffAction(card.actions?.[0]?.data));
    const without = renderAnswer(answer, { handoff: false, feedback: false });
    assert.equal(
      (without.attachments?.[0]?.content as { actions?: unknown } | undefined)?.actions,
      undefined,
    );
    assert.ok(without.attachments?.[0], "the sources card is still there");
    assert.equal(
      renderAnswer({ ...answer, citations: [] }, { handoff: false, feedback: false }).attachments,
      undefined,
    );
  });

  it("turns on Teams' feedback buttons only when feedback is recorded, and never sends empty text", () => {
    assert.deepEqual(renderAnswer(answer, { handoff: false, feedback: true }).channelData, {
      feedbackLoopEnabled: true,
    });
    assert.equal(renderAnswer(answer, { handoff: false, feedback: false }).channelData, undefined);
    assert.notEqual(
      renderAnswer({ ...answer, text: "  " }, { handoff: false, feedback: false }).text?.trim(),
      "",
    );
  });
});

describe("renderAnswer for handoff notices", () => {
  it("offers neither votes nor another hand-off on the fixed handoff message", () => {
    const notice = renderAnswer(
      { ...answer, citations: [], kind: "handoff" },
      { handoff: true, feedback: true },
    );
    assert.equal(notice.attachments, undefined);
    assert.equal(notice.channelData, undefined);
  });
});

describe("withStream", () => {
  it("puts the stream fields in channelData as well as in the streaminfo entity", () => {
    const streamed = withStream(
      { type: "typing", text: "a" },
      { streamType: "streaming", streamId: "s-1", streamSequence: 2 },
    );
    const fields = { streamType: "streaming", streamId: "s-1", streamSequence: 2 };
    assert.deepEqual(streamed.channelData, fields);
    assert.deepEqual(streamed.entities, [{ type: "streaminfo", ...fields }]);
  });
});
