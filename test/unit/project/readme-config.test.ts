import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { configVariables } from "../../../src/config.ts";

describe("README configuration table", () => {
  it("documents every setting the config schema reads", () => {
    const readme = readFileSync("README.md", "utf8");
    const missing = configVariables.filter((name) => !readme.includes(`| \`${name}\` |`));
    assert.deepEqual(missing, []);
  });
});
