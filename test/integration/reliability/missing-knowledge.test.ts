import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Harness, startHarness } from "../../helpers/harness.ts";

interface ReadyBody {
  status: string;
  problems?: string[];
  knowledge: { ready: boolean; reason?: string; files: number };
}

async function readyz(baseUrl: string): Promise<{ status: number; body: ReadyBody }> {
  const res = await fetch(`${baseUrl}/readyz`);
  return { status: res.status, body: (await res.json()) as ReadyBody };
}

describe("fault: KNOWLEDGE_DIR names a folder that does not exist", () => {
  const parent = mkdtempSync(join(tmpdir(), "sgw-knowledge-"));
  const dir = join(parent, "knowledge");
  let h: Harness;
  before(async () => {
    h = await startHarness({ model: false, env: { KNOWLEDGE_DIR: dir, KNOWLEDGE_WATCH: "true" } });
  });
  after(async () => {
    await h.stop();
    rmSync(parent, { recursive: true, force: true });
  });

  it("is not ready and says why, then becomes ready once the folder appears and loads", async () => {
    const missing = await readyz(h.baseUrl);
    assert.equal(missing.status, 503);
    assert.equal(missing.body.status, "not ready");
    assert.equal(missing.body.knowledge.ready, false);
    assert.match(missing.body.knowledge.reason ?? "", /not found.*KNOWLEDGE_DIR/);
    assert.ok(missing.body.problems?.some((p) => p.includes(dir) && p.includes("KNOWLEDGE_DIR")));

    const loaded = new Promise<void>((resolve) => {
      const onReload = () => {
        if (!h.gateway.knowledge.stats().exists) return;
        h.gateway.knowledge.off("reload", onReload);
        resolve();
      };
      h.gateway.knowledge.on("reload", onReload);
    });
    mkdirSync(dir);
    writeFileSync(join(dir, "refunds.md"), "# Refunds\n\nRefunds are paid within 5 days of the return.\n");
    await loaded;

    const ready = await readyz(h.baseUrl);
    assert.equal(ready.status, 200, JSON.stringify(ready.body));
    assert.equal(ready.body.knowledge.ready, true);
    assert.equal(ready.body.knowledge.reason, undefined);
    assert.equal(ready.body.knowledge.files, 1);
  });
});
