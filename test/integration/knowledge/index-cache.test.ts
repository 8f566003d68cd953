import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createKnowledgeBase } from "../../../src/knowledge/knowledge-base.ts";
import { createLogger } from "../../../src/logger.ts";

const article = (title: string, body: string) => `---\ntitle: ${title}\n---\n${body}\n`;
const logger = createLogger({ level: "silent" });

describe("persisted index (KNOWLEDGE_INDEX_CACHE)", () => {
  let dir: string;
  let knowledge: string;
  let indexCache: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "kb-cache-"));
    knowledge = join(dir, "knowledge");
    indexCache = join(dir, "cache");
    await mkdir(knowledge);
    await writeFile(join(knowledge, "refunds.md"), article("Refunds", "Refunds take five days."));
    await writeFile(join(knowledge, "delivery.md"), article("Delivery", "Parcels arrive in two days."));
    await writeFile(join(knowledge, "warranty.md"), article("Warranty", "Two years of warranty."));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const paths = async (kb: Awaited<ReturnType<typeof createKnowledgeBase>>, q: string) =>
    (await kb.search(q, 10)).map((h) => h.chunk.path);

  it("is written when the base closes and read at the next start, with changes made meanwhile applied", async () => {
    const first = await createKnowledgeBase({ dir: knowledge, logger, indexCache });
    assert.deepEqual(await paths(first, "refunds"), ["refunds.md"]);
    await first.close();
    assert.equal((await readdir(indexCache)).filter((f) => f.endsWith(".v8")).length, 1);

    // While stopped: one file edited, one deleted, one added.
    await writeFile(
      join(knowledge, "refunds.md"),
      article("Refunds", "Refunds now take ten days, by drone."),
    );
    await unlink(join(knowledge, "warranty.md"));
    await writeFile(join(knowledge, "returns.md"), article("Returns", "Return within thirty days."));

    const second = await createKnowledgeBase({ dir: knowledge, logger, indexCache });
    try {
      assert.deepEqual(await paths(second, "drone"), ["refunds.md"]);
      assert.deepEqual(await paths(second, "warranty"), []);
      assert.equal((await paths(second, "return thirty days"))[0], "returns.md");
      assert.deepEqual(await paths(second, "parcels"), ["delivery.md"]);
      assert.equal(second.stats().files, 3);
      const fresh = await createKnowledgeBase({ dir: knowledge, logger });
      for (const q of ["refunds", "days", "parcels arrive", "return"]) {
        assert.deepEqual(
          (await second.search(q, 10)).map((h) => [h.chunk.id, h.score]),
          (await fresh.search(q, 10)).map((h) => [h.chunk.id, h.score]),
          q,
        );
      }
      await fresh.close();
    } finally {
      await second.close();
    }
  });

  it("ignores a damaged cache file and indexes the folder as usual", async () => {
    for (const f of await readdir(indexCache)) await writeFile(join(indexCache, f), "not a cache");
    const kb = await createKnowledgeBase({ dir: knowledge, logger, indexCache });
    assert.deepEqual(await paths(kb, "parcels"), ["delivery.md"]);
    await kb.close();
  });
});
