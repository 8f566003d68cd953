import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync, rmSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { build, staleReason } from "../../../scripts/build.mjs";

// The compiled CLI that `npm start` runs (scripts/build.mjs), built into a scratch folder inside the
// checkout (so that node_modules resolves from it) rather than over dist/.
describe("the compiled CLI", () => {
  const outdir = resolve(".cache", `test-dist-${randomUUID().slice(0, 8)}`);
  const run = (...args: string[]) =>
    execFileSync(process.execPath, [join(outdir, "cli.js"), ...args], { encoding: "utf8" });
  before(async () => {
    await build(outdir);
  });
  after(() => rmSync(outdir, { recursive: true, force: true }));

  it("is fresh right after a build, and stale when an output goes missing", () => {
    assert.equal(staleReason(outdir), undefined);
    const info = JSON.parse(readFileSync(join(outdir, "build-info.json"), "utf8")) as {
      inputs: Record<string, string>;
      outputs: string[];
    };
    assert.ok(info.inputs["src/cli/main.ts"], "the entry is an input");
    assert.ok(info.inputs["src/app/gateway.ts"], "lazily imported parts are inputs");
    assert.ok(info.inputs["scripts/build.mjs"], "the build script itself is an input");
    const chunk = info.outputs.find((f) => f.startsWith("chunk-") && f.endsWith(".js"));
    assert.ok(chunk);
    unlinkSync(join(outdir, chunk));
    assert.match(staleReason(outdir) ?? "", /is missing/);
  });

  it("runs its commands: usage, and writing the tiny model (a module that finds files next to itself)", async () => {
    await build(outdir);
    assert.match(run("start", "--help"), /gateway[\s\S]*worker[\s\S]*npm run kb/);
    const out = join(tmpdir(), `tiny-${randomUUID()}.gguf`);
    try {
      assert.match(run("model:tiny", out), /wrote /);
      assert.ok(existsSync(out));
    } finally {
      rmSync(out, { force: true });
    }
    assert.match(run("kb", "stats"), /files:\s+\d+/);
  });
});
