import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { followAnswer } from "../../../src/answering/answer-follower.ts";
import type { ReplyHub, StreamHandler } from "../../../src/answering/reply-hub.ts";
import { compareIds } from "../../../src/answering/reply-hub.ts";
import type { ReplyEntry } from "../../../src/answering/reply-stream.ts";
import type { FinalAnswer, ReplyFailure, ReplySink } from "../../../src/conversation/conversations.ts";

/** A hub that replays a fixed list of entries (a stand-in for Redis in this unit test). */
function fakeHub(entries: ReplyEntry[]): ReplyHub {
  return {
    subscribe(_key: string, _after: string, handler: StreamHandler) {
      entries.forEach((e, i) => {
        handler(["t", e.t, "d", JSON.stringify(e.d)], `1-${i}`);
      });
      return () => {};
    },
  } as unknown as ReplyHub;
}

function recorder() {
  const calls: string[] = [];
  let final: FinalAnswer | undefined;
  let failure: ReplyFailure | undefined;
  const sink: ReplySink = {
    onStart: async () => {
      calls.push("start");
    },
    onChunk: async (t) => {
      calls.push(`chunk:${t}`);
    },
    onFinal: async (a) => {
      final = a;
      calls.push("final");
    },
    onError: async (f) => {
      failure = f;
      calls.push("error");
    },
  };
  return { sink, calls, final: () => final, failure: () => failure };
}

const tok = (attempt: number, text: string): ReplyEntry => ({ t: "token", d: { attempt, text } });
const start = (attempt: number): ReplyEntry => ({ t: "start", d: { attempt, at: 0 } });
const final = (text: string): ReplyEntry => ({
  t: "final",
  d: { text, citations: [], kind: "answer", tokens: 3, at: 0 },
});

describe("followAnswer", () => {
  it("passes start, chunks and the final answer in order", async () => {
    const r = recorder();
    await followAnswer(fakeHub([start(1), tok(1, "Hel"), tok(1, "lo"), final("Hello")]), "k", "m1", r.sink);
    assert.deepEqual(r.calls, ["start", "chunk:Hel", "chunk:lo", "final"]);
    assert.equal(r.final()?.text, "Hello");
  });

  it("does not repeat text when a second attempt regenerates the same words", async () => {
    const r = recorder();
    const entries = [
      start(1),
      tok(1, "Hel"),
      start(2),
      tok(2, "He"),
      tok(2, "llo"),
      tok(2, " there"),
      final("Hello there"),
    ];
    await followAnswer(fakeHub(entries), "k", "m1", r.sink);
    assert.deepEqual(r.calls, ["start", "chunk:Hel", "chunk:lo", "chunk: there", "final"]);
  });

  it("stops streaming when a second attempt diverges, and still delivers the final answer", async () => {
    const r = recorder();
    const entries = [
      start(1),
      tok(1, "Hello"),
      start(2),
      tok(2, "Goodbye"),
      tok(2, " now"),
      final("Goodbye now"),
    ];
    await followAnswer(fakeHub(entries), "k", "m1", r.sink);
    assert.deepEqual(r.calls, ["start", "chunk:Hello", "final"]);
    assert.equal(r.final()?.text, "Goodbye now");
  });

  it("ignores late tokens of an abandoned attempt and anything after the terminal entry", async () => {
    const r = recorder();
    const entries = [
      start(1),
      start(2),
      tok(1, "stale"),
      tok(2, "fresh"),
      final("fresh"),
      tok(2, "late"),
      final("again"),
    ];
    await followAnswer(fakeHub(entries), "k", "m1", r.sink);
    assert.deepEqual(r.calls, ["start", "chunk:fresh", "final"]);
  });

  it("delivers an error entry as the one terminal call", async () => {
    const r = recorder();
    await followAnswer(
      fakeHub([start(1), { t: "error", d: { code: "timeout", message: "too long", at: 0 } }]),
      "k",
      "m1",
      r.sink,
    );
    assert.deepEqual(r.calls, ["start", "error"]);
    assert.equal(r.failure()?.code, "timeout");
  });

  it("orders stream ids numerically", () => {
    assert.equal(compareIds("10-0", "9-5"), 1);
    assert.equal(compareIds("9-5", "9-10"), -1);
    assert.equal(compareIds("0", "0-0"), 0);
  });
});
