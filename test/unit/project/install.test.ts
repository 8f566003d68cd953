import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { completeLock, type Lock, missingEntries } from "../../../scripts/complete-lock.mjs";
import { installProblem } from "../../../scripts/ensure-deps.mjs";

const readLock = (): Lock => JSON.parse(readFileSync("package-lock.json", "utf8")) as Lock;

describe("package-lock.json", () => {
  it("has an entry for every dependency npm ci resolves (so `npm ci` accepts it)", () => {
    assert.deepEqual(missingEntries(readLock()), []);
  });

  it("is found incomplete when a platform package is left out, and completed again", () => {
    const lock = readLock();
    const before = lock.packages["node_modules/@node-llama-cpp/mac-arm64-metal"];
    assert.ok(before, "the lock records node-llama-cpp's macOS build");
    delete lock.packages["node_modules/@node-llama-cpp/mac-arm64-metal"];
    assert.deepEqual(
      missingEntries(lock).map((m) => m.name),
      ["@node-llama-cpp/mac-arm64-metal"],
    );
    assert.deepEqual(completeLock(lock), ["node_modules/@node-llama-cpp/mac-arm64-metal@3.22.1"]);
    assert.deepEqual(lock.packages["node_modules/@node-llama-cpp/mac-arm64-metal"], before);
    assert.deepEqual(missingEntries(lock), []);
  });

  it("refuses to invent an entry for a package that is not a known optional platform build", () => {
    const lock = readLock();
    delete lock.packages["node_modules/zod"];
    assert.throws(() => completeLock(lock), /zod .* is missing from the lock/);
  });
});

describe("package.json scripts", () => {
  const scripts = (JSON.parse(readFileSync("package.json", "utf8")) as { scripts: Record<string, string> })
    .scripts;

  it("each installs the locked dependencies first, so that it works on a fresh clone", () => {
    for (const [name, command] of Object.entries(scripts)) {
      if (name === "lock") continue; // npm install itself
      assert.match(
        command,
        /^node scripts\/(run\.mjs |ensure-deps\.mjs && )/,
        `npm run ${name} must start with scripts/run.mjs or scripts/ensure-deps.mjs: ${command}`,
      );
    }
  });

  it("never uses a command that fails with this lock, and npm ci where it installs", () => {
    const install = readFileSync("scripts/ensure-deps.mjs", "utf8");
    assert.match(install, /\["ci", "--ignore-scripts", "--no-audit", "--no-fund"\]/);
    for (const file of ["Dockerfile", ".ci/run"]) {
      const text = readFileSync(file, "utf8");
      assert.doesNotMatch(text, /npm install(?! --package-lock-only)/, `${file} uses npm install`);
      assert.match(text, /npm ci|ensure-deps/, `${file} installs with npm ci`);
    }
  });
});

describe("ensure-deps: is node_modules what the lock says?", () => {
  const make = (installed: Record<string, { version: string }> | undefined) => {
    const root = mkdtempSync(join(tmpdir(), "sgw-deps-"));
    const lock = {
      packages: {
        "": { name: "x" },
        "node_modules/a": { version: "1.0.0" },
        "node_modules/b": { version: "2.0.0", dev: true },
        "node_modules/mac-only": { version: "3.0.0", optional: true, os: ["darwin"] },
      },
    };
    writeFileSync(join(root, "package-lock.json"), JSON.stringify(lock));
    if (installed) {
      mkdirSync(join(root, "node_modules"));
      writeFileSync(
        join(root, "node_modules", ".package-lock.json"),
        JSON.stringify({ packages: installed }),
      );
    }
    return root;
  };
  const both = { "node_modules/a": { version: "1.0.0" }, "node_modules/b": { version: "2.0.0" } };

  it("says why not, or nothing when it matches (another platform's optional packages may be absent)", () => {
    const cases: [Record<string, { version: string }> | undefined, RegExp | undefined][] = [
      [undefined, /not installed/],
      [both, undefined],
      [{ ...both, "node_modules/a": { version: "0.9.0" } }, /a 0\.9\.0 is installed, the lock says 1\.0\.0/],
      [{ "node_modules/a": { version: "1.0.0" } }, /^b is not installed/],
    ];
    for (const [installed, expected] of cases) {
      const root = make(installed);
      try {
        const problem = installProblem(root);
        if (expected) assert.match(problem ?? "", expected);
        else assert.equal(problem, undefined);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    }
  });
});
