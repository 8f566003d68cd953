import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Snippet } from "../../../src/knowledge/citation.ts";
import { composeExcerptAnswer, quotedSnippets, reflow } from "../../../src/knowledge/excerpt-answer.ts";

const snippet = (n: number, path: string, text: string): Snippet => ({
  citation: { n, title: `T${n}`, path },
  text,
  score: 1,
});

describe("excerpt answers", () => {
  it("reflows the hard line breaks a file wraps its paragraphs with", () => {
    const text =
      "We issue refunds within 3 days. Banks\nthen take 5 to 10 days.\n\nSecond paragraph\ncontinues here.";
    assert.equal(
      reflow(text),
      "We issue refunds within 3 days. Banks then take 5 to 10 days.\n\nSecond paragraph continues here.",
    );
  });

  it("keeps list items, headings, tables, code and Markdown hard breaks on their own lines", () => {
    const text = [
      "Steps:",
      "1. Open the app",
      "2. Tap Add device and scan the",
      "   QR code",
      "- a bullet",
      "## A heading",
      "| a | b |",
      "| 1 | 2 |",
      "```",
      "code line one",
      "code line two",
      "```",
      "Line with a hard break  ",
      "next line",
    ].join("\n");
    assert.equal(
      reflow(text),
      [
        "Steps:",
        "1. Open the app",
        "2. Tap Add device and scan the QR code",
        "- a bullet",
        "## A heading",
        "| a | b |",
        "| 1 | 2 |",
        "```",
        "code line one",
        "code line two",
        "```",
        "Line with a hard break",
        "next line",
      ].join("\n"),
    );
  });

  it("joins Chinese lines without a space", () => {
    assert.equal(
      reflow("我们在批准退款后的 3 个工作日内把款项退回原支付方式。银行通常\n还需要 5 到 10 个工作日。"),
      "我们在批准退款后的 3 个工作日内把款项退回原支付方式。银行通常还需要 5 到 10 个工作日。",
    );
  });

  it("quotes the best snippet and the best one from another file", () => {
    const s = [snippet(1, "a.md#x", "A1"), snippet(2, "a.md#y", "A2"), snippet(3, "b.md", "B")];
    assert.deepEqual(
      quotedSnippets(s).map((x) => x.citation.n),
      [1, 3],
    );
    assert.deepEqual(
      quotedSnippets(s.slice(0, 2)).map((x) => x.citation.n),
      [1, 2],
    );
    const answer = composeExcerptAnswer(s);
    assert.match(answer, /\[1\] T1:\n> A1/);
    assert.match(answer, /\[3\] T3:\n> B/);
    assert.doesNotMatch(answer, /\[2\]/);
  });
});
