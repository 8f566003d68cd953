import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, it } from "node:test";

// The native engine's sampler (src/inference/native/row-sampler.hpp), compiled as the engine compiles it.
const dir = resolve("src/inference/native");
interface Check {
  exp_max_rel_err: number;
  temperature: number;
  logits: number[];
  freq: number[];
  stray: number;
  greedy: number;
  argmax: number;
  same_seed_same_draws: boolean;
}

describe("native engine sampler", () => {
  it("draws tokens with softmax(logits / temperature) frequencies, argmax at 0, same seed same draws", () => {
    const out = join(mkdtempSync(join(tmpdir(), "row-sampler-")), "check");
    execFileSync("g++", [
      "-std=c++17",
      "-O3",
      "-march=native",
      "-fopenmp",
      "-I",
      dir,
      join(dir, "row-sampler-check.cpp"),
      "-o",
      out,
    ]);
    const check = JSON.parse(execFileSync(out, { encoding: "utf8" })) as Check;
    assert.ok(check.exp_max_rel_err < 1e-5, `exp error ${check.exp_max_rel_err}`);
    const weights = check.logits.map((l) => Math.exp(l / check.temperature));
    const total = weights.reduce((a, b) => a + b, 0);
    check.freq.forEach((f, i) => {
      const p = (weights[i] ?? 0) / total;
      // 400,000 draws: the standard error is at most 0.0008; 0.005 is over six of them.
      assert.ok(Math.abs(f - p) < 0.005, `token ${i}: drew ${f}, softmax ${p}`);
    });
    assert.equal(check.stray, 0, "drew a token whose logit is -1e30");
    assert.equal(check.greedy, check.argmax);
    assert.equal(check.same_seed_same_draws, true);
  });
});
