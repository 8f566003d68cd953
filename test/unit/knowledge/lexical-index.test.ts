import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { Chunk } from "../../../src/knowledge/knowledge-document.ts";
import { LexicalIndex } from "../../../src/knowledge/lexical-index.ts";
import { withinOneEdit } from "../../../src/knowledge/term-dictionary.ts";

const words = [
  "refund",
  "password",
  "delivery",
  "invoice",
  "thermostat",
  "battery",
  "router",
  "return",
  "label",
];

function chunk(id: string, text: string, title = "Title"): Chunk {
  return {
    id,
    path: `${id}.md`,
    title,
    tags: [],
    lang: "en",
    headingPath: [],
    lines: [1, 1],
    text,
    tokens: 10,
    hash: `${id}:${title}:${text}`,
  };
}

/** The whole ranking of every word, to compare two indexes that should be equal. */
const rankings = (index: LexicalIndex) =>
  words.map((w) =>
    index.search(w, 50).hits.map((h) => [h.id, Math.round(h.score * 1e9), Math.round(h.coverage * 1e9)]),
  );

describe("LexicalIndex", () => {
  it("ranks the same after any sequence of edits as an index built from the result", () => {
    const text = fc.array(fc.constantFrom(...words), { minLength: 1, maxLength: 12 }).map((w) => w.join(" "));
    const op = fc.record({ id: fc.integer({ min: 0, max: 7 }), text: fc.option(text, { nil: undefined }) });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const index = new LexicalIndex("en");
        const live = new Map<string, Chunk>();
        for (const { id, text: t } of ops) {
          const key = `c${id}`;
          const old = live.get(key);
          const next = t === undefined ? undefined : chunk(key, t);
          index.update(next ? [next] : [], old ? [old] : []);
          if (next) live.set(key, next);
          else live.delete(key);
        }
        const fresh = new LexicalIndex("en", [...live.values()]);
        assert.equal(index.size, live.size);
        // Same scores; ties may come out in another order, so compare sorted.
        const sorted = (r: ReturnType<typeof rankings>) =>
          r.map((l) => [...l].sort((a, b) => String(a).localeCompare(String(b))));
        assert.deepEqual(sorted(rankings(index)), sorted(rankings(fresh)));
      }),
      { numRuns: 150 },
    );
  });

  it("sweeps deleted chunks out and keeps ranking the same", () => {
    const index = new LexicalIndex("en");
    const all = Array.from({ length: 600 }, (_, i) =>
      chunk(`c${i}`, `${words[i % words.length]} filler ${i}`),
    );
    index.update(all, []);
    index.update([], all.slice(0, 400));
    const fresh = new LexicalIndex("en", all.slice(400));
    assert.deepEqual(rankings(index), rankings(fresh));
  });

  it("survives a snapshot and restore unchanged, and keeps taking edits", () => {
    const chunks = words.map((w, i) => chunk(`c${i}`, `${w} and ${words[(i + 1) % words.length]}`, w));
    const index = new LexicalIndex("en", chunks);
    index.update([], [chunks[0] as Chunk]);
    const restored = LexicalIndex.restore(index.snapshot(), new Map(chunks.map((c) => [c.id, c])));
    assert.ok(restored);
    assert.deepEqual(rankings(restored), rankings(index));
    const extra = chunk("new", "refund refund");
    restored.update([extra], []);
    index.update([extra], []);
    assert.deepEqual(rankings(restored), rankings(index));
    assert.equal(
      LexicalIndex.restore(index.snapshot(), new Map()),
      undefined,
      "a missing chunk refuses the snapshot",
    );
  });

  it("reports which query terms each chunk holds and what share of the question it covers", () => {
    const index = new LexicalIndex("en", [chunk("a", "refund of a password"), chunk("b", "refund")]);
    const { hits, query } = index.search("password refund", 10);
    assert.deepEqual(query.terms, ["password", "refund"]);
    const a = hits.find((h) => h.id === "a");
    const b = hits.find((h) => h.id === "b");
    assert.equal(a?.coverage, 1);
    assert.equal(a?.matched, 0b11);
    assert.equal(b?.matched, 0b10);
    assert.ok((b?.coverage ?? 1) < 1);
  });

  it("forgives one typo in a long word the folder does not use, at a lower weight", () => {
    const index = new LexicalIndex("en", [
      chunk("a", "reset the password"),
      chunk("b", "password password reset"),
    ]);
    const typo = index.search("pasword", 10).hits;
    assert.equal(typo.length, 2);
    const exact = index.search("password", 10).hits;
    assert.ok((typo[0]?.score ?? 0) < (exact[0]?.score ?? 0));
    assert.deepEqual(index.search("pasword", 10).query.df, [0]);
  });
});

describe("withinOneEdit", () => {
  it("accepts one insertion, deletion, replacement or swap, nothing more", () => {
    assert.ok(withinOneEdit("password", "pasword"));
    assert.ok(withinOneEdit("pasword", "password"));
    assert.ok(withinOneEdit("password", "passwprd"));
    assert.ok(withinOneEdit("password", "passowrd"));
    assert.ok(withinOneEdit("password", "password"));
    assert.ok(!withinOneEdit("password", "pswrd"));
    assert.ok(!withinOneEdit("password", "psasowrd"));
  });
});
