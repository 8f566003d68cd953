import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { prepareCovidfaq } from "../../../bench/covidfaq-eval.ts";
import { runKb } from "../../../src/cli/kb-command.ts";
import type { EvalResult } from "../../../src/knowledge/retrieval-eval.ts";

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, "../../..");

async function evalJson(knowledge: string, questions: string): Promise<EvalResult> {
  let stdout = "";
  const code = await runKb(["eval", "--knowledge", knowledge, "--questions", questions, "--json"], {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: () => true },
  });
  assert.equal(code, 0);
  return JSON.parse(stdout) as EvalResult;
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
    assert.ok(r["recall@5"] >= 0.9, JSON.stringify(r));
    assert.ok(r["mrr@10"] >= 0.75, JSON.stringify(r));
  });

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
