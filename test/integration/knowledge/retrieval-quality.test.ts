import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { prepareCovidfaq } from "../../../bench/covidfaq-eval.ts";
import { runKb } from "../../../src/cli/kb-command.ts";
import type { AbstentionResult, EvalResult } from "../../../src/knowledge/retrieval-eval.ts";

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, "../../..");

async function evalJson(
  knowledge: string,
  questions: string,
  ...more: string[]
): Promise<EvalResult & { unanswerable?: AbstentionResult }> {
  let stdout = "";
  const code = await runKb(["eval", "--knowledge", knowledge, "--questions", questions, "--json", ...more], {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: () => true },
  });
  assert.equal(code, 0);
  return JSON.parse(stdout) as EvalResult & { unanswerable?: AbstentionResult };
}

// Quality floors, not speed: they fail when a change to chunking or ranking makes retrieval worse.
describe("retrieval quality", () => {
  it("lints the shipped sample folder clean, with at least 25 articles", async () => {
    let stdout = "";
    let stderr = "";
    const code = await runKb(["lint", "--knowledge", join(repo, "knowledge")], {
      stdout: { write: (t: string) => (stdout += t) },
      stderr: { write: (t: string) => (stderr += t) },
    });
    assert.equal(code, 0, stdout);
    const files = Number(/(\d+) files checked/.exec(stderr)?.[1]);
    assert.ok(files >= 25, `${files} articles`);
  });

  it("finds the right sample article for customer questions worded unlike the articles", async () => {
    const r = await evalJson(join(repo, "knowledge"), join(here, "sample-questions.jsonl"));
    assert.ok(r.questions >= 40);
    const figures = JSON.stringify({ ...r, misses: r.misses.length });
    assert.ok(r["recall@1"] >= 0.75, figures);
    assert.ok(r["recall@5"] >= 0.95, figures);
    assert.ok(r["mrr@10"] >= 0.8, figures);
    // Answered (the answerability decision said yes) with the expected file among the cited sources.
    assert.ok(r.answeredRight >= 0.8, figures);
  });

  it("refuses off-topic questions on the sample folder", async () => {
    const r = await evalJson(
      join(repo, "knowledge"),
      join(here, "sample-questions.jsonl"),
      "--unanswerable",
      join(here, "off-topic-questions.jsonl"),
    );
    assert.ok((r.unanswerable?.questions ?? 0) >= 100);
    assert.ok((r.unanswerable?.abstention ?? 0) >= 0.95, JSON.stringify(r.unanswerable?.answered));
  });

  for (const lang of ["zh", "fr", "de", "es", "pt", "ja"]) {
    it(`finds the right article of the mixed-language folder for ${lang} questions`, async () => {
      const r = await evalJson(join(repo, "knowledge-intl"), join(here, `questions-${lang}.jsonl`));
      const figures = JSON.stringify(r);
      assert.ok(r["recall@1"] >= 0.85, figures);
      assert.ok(r["recall@5"] >= 0.9, figures);
      assert.ok(r.answeredRight >= 0.65, figures);
    });
  }

  it("beats file-level BM25 on CovidFAQ (recall@1 0.337, recall@5 0.689, MRR@10 0.487)", async (t) => {
    const prepared = await prepareCovidfaq();
    if (!prepared) {
      t.skip("CovidFAQ data set not found at ../shared/datasets/covidfaq");
      return;
    }
    try {
      const r = await evalJson(prepared.knowledge, prepared.questions);
      assert.equal(r.questions, 1387);
      assert.ok(r["recall@1"] > 0.337, JSON.stringify(r));
      assert.ok(r["recall@5"] > 0.689, JSON.stringify(r));
      assert.ok(r["mrr@10"] > 0.487, JSON.stringify(r));
    } finally {
      await rm(prepared.dir, { recursive: true, force: true });
    }
  });
});
