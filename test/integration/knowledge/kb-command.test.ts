import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runKb } from "../../../src/cli/kb-command.ts";

async function kb(...argv: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await runKb(argv, {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t), isTTY: false },
  });
  return { code, stdout, stderr };
}

describe("kb command", () => {
  let dir: string;
  let knowledge: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "kb-cli-"));
    knowledge = join(dir, "knowledge");
    await mkdir(join(knowledge, "billing"), { recursive: true });
    await writeFile(
      join(knowledge, "billing", "refunds.md"),
      "---\ntitle: Refunds\nurl: https://help.example.com/refunds\n---\nRefunds take 5 days.\n\n## Partial refunds\nDamaged items are refunded in part.\n",
    );
    await writeFile(join(knowledge, "password.md"), "# Reset your password\nUse the reset link.\n");
    await writeFile(join(knowledge, "delivery.txt"), "Delivery times\n\nParcels arrive within 2 days.\n");
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("lint passes a clean folder with exit 0", async () => {
    const r = await kb("lint", "--knowledge", knowledge);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /3 files checked, 0 problems/);
  });

  it("lint passes warnings alone unless --strict, and counts in the singular", async () => {
    const warned = join(dir, "warned");
    await mkdir(warned);
    await writeFile(join(warned, "a.md"), "---\ntitel: A\n---\n# A\nBody\n");
    const r = await kb("lint", "--knowledge", warned);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^a\.md:2: warning: unknown front matter key "titel"/);
    assert.match(r.stderr, /^1 file checked, 1 problem \(0 errors, 1 warning\), 0 skipped/);
    assert.equal((await kb("lint", "--knowledge", warned, "--strict")).code, 1);
  });

  it("lint refuses a citation URL that is not http(s)", async () => {
    const bad = join(dir, "js-url");
    await mkdir(bad);
    await writeFile(join(bad, "a.md"), '---\ntitle: A\nurl: "javascript:alert(1)"\n---\nBody\n');
    const r = await kb("lint", "--knowledge", bad);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^a\.md:3: bad front matter: url: url must be an absolute http\(s\) URL/);
  });

  it("lint prints every problem as path:line: message and exits 1", async () => {
    const bad = join(dir, "bad");
    await mkdir(bad);
    await writeFile(join(bad, "a.md"), "---\ntitle: A\nurl: nope\n---\nBody\n");
    await writeFile(join(bad, "b.md"), "---\ntitel: B\n---\nBody\n");
    await writeFile(join(bad, "c.md"), Buffer.from([0x41, 0x0a, 0xff, 0xfe]));
    const r = await kb("lint", "--knowledge", bad);
    assert.equal(r.code, 1);
    const lines = r.stdout.trim().split("\n");
    assert.equal(lines.length, 4, r.stdout);
    assert.match(lines[0] ?? "", /^a\.md:3: bad front matter: url: /);
    assert.match(lines[1] ?? "", /^b\.md:2: warning: unknown front matter key "titel"/);
    assert.match(lines[2] ?? "", /^b\.md:1: warning: no title/);
    assert.equal(lines[3], "c.md:2: unreadable content: not valid UTF-8 text");
  });

  it("search prints ranked snippets with scores and citations", async () => {
    const r = await kb("search", "partial refund for a damaged item", "--knowledge", knowledge);
    assert.equal(r.code, 0);
    const [decision, first] = r.stdout.split("\n");
    assert.match(decision ?? "", /^Answer \(confidence \d\.\d{3}, (confident|uncertain), language en\)/);
    // A ranking score that orders the snippets, and the relevance the floor compares.
    assert.match(first ?? "", /^\[1\] score \d+\.\d{3} {2}relevance 1\.000 {2}Refunds > Partial refunds$/);
    assert.match(r.stdout, /https:\/\/help\.example\.com\/refunds {2}\(lines 8-8\)/);
  });

  it("search says when nothing clears the relevance floor", async () => {
    const r = await kb("search", "capital of France", "--knowledge", knowledge);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /does not know/);
  });

  it("search --json gives the snippets the bot would get", async () => {
    const r = await kb("search", "reset password", "--knowledge", knowledge, "--json");
    const parsed = JSON.parse(r.stdout) as { snippets: { citation: { path: string; n: number } }[] };
    assert.equal(parsed.snippets[0]?.citation.path, "password.md");
    assert.equal(parsed.snippets[0]?.citation.n, 1);
  });

  it("stats counts files, chunks and tokens and lists skipped files with the reason", async () => {
    await writeFile(join(knowledge, "broken.md"), "---\ntitle: [x\n---\nBody\n");
    try {
      const r = await kb("stats", "--knowledge", knowledge, "--json");
      const s = JSON.parse(r.stdout) as {
        files: number;
        chunks: number;
        tokens: number;
        skipped: { path: string }[];
      };
      assert.equal(s.files, 3);
      assert.equal(s.chunks, 4);
      assert.ok(s.tokens > 10);
      assert.deepEqual(
        s.skipped.map((p) => p.path),
        ["broken.md"],
      );
      const text = await kb("stats", "--knowledge", knowledge);
      assert.match(text.stdout, /skipped: {3}1\n {2}broken\.md:\d+:\d+: bad front matter/);
    } finally {
      await rm(join(knowledge, "broken.md"));
    }
  });

  it("eval --json prints exactly one JSON object with the metrics", async () => {
    const questions = join(dir, "q.jsonl");
    await writeFile(
      questions,
      [
        { question: "how long does a refund take", expected: "billing/refunds.md" },
        { question: "I forgot my password", expected: "password.md" },
        { question: "when will my parcel arrive", expected: "delivery.txt" },
        { question: "refund of a damaged parcel", expected: "delivery.txt" },
      ]
        .map((q) => JSON.stringify(q))
        .join("\n"),
    );
    const r = await kb("eval", "--knowledge", knowledge, "--questions", questions, "--json");
    assert.equal(r.code, 0);
    const result = JSON.parse(r.stdout) as Record<string, number> & { misses: Record<string, unknown>[] };
    assert.deepEqual(Object.keys(result), [
      "questions",
      "recall@1",
      "recall@5",
      "mrr@10",
      "noAnswer",
      "answeredRight",
      "misses",
    ]);
    assert.equal(result.questions, 4);
    assert.equal(result["recall@1"], 0.75);
    assert.equal(result["recall@5"], 1);
    assert.equal(result["mrr@10"], 0.875);
    assert.equal(result.noAnswer, 0);
    assert.deepEqual(result.misses, [
      {
        question: "refund of a damaged parcel",
        expected: "delivery.txt",
        first: "billing/refunds.md",
        rank: 2,
      },
    ]);
    const text = await kb("eval", "--knowledge", knowledge, "--questions", questions);
    assert.match(
      text.stdout,
      /^questions {2}4\nrecall@1 {3}0\.750\nrecall@5 {3}1\.000\nMRR@10 {5}0\.875\nno answer {2}0 /,
    );
  });

  it("eval --unanswerable reports how many should-abstain questions the bot refuses", async () => {
    const questions = join(dir, "answerable.jsonl");
    await writeFile(
      questions,
      JSON.stringify({ question: "how long do refunds take", expected: "billing/refunds.md" }),
    );
    const refused = join(dir, "refused.jsonl");
    await writeFile(
      refused,
      ["Tell me a joke", "What is the capital of France?", "partial refunds for damaged items"]
        .map((question) => JSON.stringify({ question }))
        .join("\n"),
    );
    const r = await kb(
      "eval",
      "--knowledge",
      knowledge,
      "--questions",
      questions,
      "--unanswerable",
      refused,
      "--json",
    );
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout) as {
      answeredRight: number;
      unanswerable: {
        questions: number;
        abstained: number;
        abstention: number;
        answered: { question: string }[];
      };
    };
    assert.equal(result.answeredRight, 1);
    // The third is answerable after all: it is listed as answered, with what would be cited.
    assert.deepEqual(
      result.unanswerable.answered.map((a) => a.question),
      ["partial refunds for damaged items"],
    );
    assert.deepEqual([result.unanswerable.questions, result.unanswerable.abstained], [3, 2]);
    assert.equal(result.unanswerable.abstention, 0.6667);
    const text = await kb("eval", "--knowledge", knowledge, "--unanswerable", refused);
    assert.match(text.stdout, /^unanswerable {2}3 questions, refused 2 \(abstention 0\.667\)/);
    assert.match(
      text.stdout,
      /answered though unanswerable: 1\n {2}"partial refunds for damaged items" -> billing\/refunds\.md/,
    );
  });

  it("eval lists the misses in text too, and refuses an expected file the folder lacks", async () => {
    const questions = join(dir, "miss.jsonl");
    await writeFile(
      questions,
      [
        { question: "refund of a damaged parcel", expected: "delivery.txt" },
        { question: "reset password", expected: "password.md" },
      ]
        .map((q) => JSON.stringify(q))
        .join("\n"),
    );
    const r = await kb("eval", "--knowledge", knowledge, "--questions", questions);
    assert.match(
      r.stdout,
      /misses \(expected file not first\): 1\n {2}"refund of a damaged parcel"\n {6}expected delivery\.txt \(rank 2\), first billing\/refunds\.md/,
    );
    const wrong = join(dir, "wrong.jsonl");
    await writeFile(wrong, JSON.stringify({ question: "x", expected: "billing/refund.md" }));
    const refusedRun = await kb("eval", "--knowledge", knowledge, "--questions", wrong);
    assert.equal(refusedRun.code, 2);
    assert.match(
      refusedRun.stderr,
      /wrong\.jsonl: expected file not in the knowledge folder: billing\/refund\.md/,
    );
  });

  it("search strips control characters from what it prints", async () => {
    const evil = join(dir, "evil");
    await mkdir(evil);
    await writeFile(
      join(evil, "a.md"),
      "# Refunds \u001b[31mred\n\u001b]0;title\u0007Refunds take 5 days.\n",
    );
    const r = await kb("search", "refunds", "--knowledge", evil);
    assert.ok(!r.stdout.includes("\u001b") && !r.stdout.includes("\u0007"), r.stdout);
    assert.match(r.stdout, /Refunds/);
  });

  it("eval rejects a malformed questions file with the line", async () => {
    const questions = join(dir, "bad.jsonl");
    await writeFile(questions, '{"question": "a", "expected": "x.md"}\n{"question": "b"}\n');
    const r = await kb("eval", "--knowledge", knowledge, "--questions", questions);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /bad\.jsonl:2: expected/);
  });

  it("fails clearly on a missing folder, an unknown command or no command", async () => {
    const missing = await kb("stats", "--knowledge", join(dir, "nope"));
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /knowledge folder not found/);
    assert.equal((await kb("frobnicate")).code, 2);
    const none = await kb();
    assert.equal(none.code, 2);
    assert.match(none.stdout, /Usage: npm run kb/);
  });

  it("shows a progress bar only on a terminal", async () => {
    let stderr = "";
    await runKb(["stats", "--knowledge", knowledge], {
      stdout: { write: () => true },
      stderr: { write: (t: string) => (stderr += t), isTTY: true },
    });
    assert.match(stderr, /indexing \[#+\] 3\/3 files/);
    const plain = await kb("stats", "--knowledge", knowledge);
    assert.doesNotMatch(plain.stderr, /indexing/);
  });
});
