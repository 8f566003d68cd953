import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { StopMatcher } from "../../../src/inference/stop-matcher.ts";

const feed = (matcher: StopMatcher, pieces: string[]) => pieces.map((p) => matcher.push(p));

describe("StopMatcher", () => {
  it("cuts the text before a stop string split over pieces, and passes nothing after it", () => {
    const matcher = new StopMatcher(["\nUser:"]);
    const out = feed(matcher, ["Hello", " there\nUs", "er: next", " more"]);
    assert.deepEqual(out, ["Hello", " there", "", ""]);
    assert.equal(matcher.matched, "\nUser:");
    assert.equal(matcher.flush(), "");
  });

  it("releases held text once it can no longer begin a stop string", () => {
    const matcher = new StopMatcher(["END"]);
    assert.deepEqual(feed(matcher, ["abE", "N", "x"]), ["ab", "", "ENx"]);
    assert.equal(matcher.matched, undefined);
  });

  it("gives back the held tail at the end when no stop string came", () => {
    const matcher = new StopMatcher(["###"]);
    assert.deepEqual(feed(matcher, ["a#", "#"]), ["a", ""]);
    assert.equal(matcher.flush(), "##");
  });

  it("stops at the earliest of several stop strings", () => {
    const matcher = new StopMatcher(["bb", "a"]);
    assert.deepEqual(feed(matcher, ["xbba"]), ["x"]);
    assert.equal(matcher.matched, "bb");
  });

  it("passes everything through without stop strings", () => {
    const matcher = new StopMatcher([]);
    assert.deepEqual(feed(matcher, ["a", "b"]), ["a", "b"]);
  });
});
