import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { testConfig } from "../../../src/config.ts";
import type { KnowledgeBase } from "../../../src/knowledge/knowledge-base.ts";
import { createTenantKnowledge, tenantFolder, tenantKeyOf } from "../../../src/knowledge/tenant-knowledge.ts";
import { createLogger } from "../../../src/logger.ts";

const article = (title: string, body: string) => `---\ntitle: ${title}\n---\n${body}\n`;

describe("knowledge per tenant", () => {
  let dir: string;
  let kb: KnowledgeBase;
  let tenants: Record<string, string>;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "kb-tenants-"));
    // The default folder holds a shared article and the shop's subfolder; the school has a folder apart.
    await mkdir(join(dir, "default", "shop"), { recursive: true });
    await mkdir(join(dir, "school"), { recursive: true });
    await writeFile(join(dir, "default", "refunds.md"), article("Refunds", "Refunds take five days."));
    await writeFile(
      join(dir, "default", "shop", "gift-wrapping.md"),
      article("Gift wrapping", "Gift wrapping costs two euros."),
    );
    await writeFile(
      join(dir, "school", "timetable.md"),
      article("Timetable", "Lessons start at eight, refunds of fees in June."),
    );
    tenants = { "webchat:shop": join(dir, "default", "shop"), T0SCHOOL: join(dir, "school") };
    kb = await createTenantKnowledge({
      dir: join(dir, "default"),
      tenants,
      logger: createLogger({ level: "silent" }),
    });
  });
  after(async () => {
    await kb.close();
    await rm(dir, { recursive: true, force: true });
  });

  const files = async (q: string, tenant?: string, channel?: string) =>
    (
      await kb.retrieve(q, {
        tokenBudget: 500,
        ...(tenant ? { tenant } : {}),
        ...(channel ? { channel } : {}),
      })
    ).snippets.map((s) => s.citation.path);

  it("answers a mapped tenant from its own folder only", async () => {
    assert.deepEqual(await files("gift wrapping", "shop", "webchat"), ["gift-wrapping.md"]);
    assert.deepEqual(await files("refunds", "shop", "webchat"), [], "the shared article is not the shop's");
    assert.deepEqual(await files("lessons timetable", "T0SCHOOL", "slack"), ["timetable.md"]);
  });

  it("keeps a tenant's subfolder out of everyone else's answers", async () => {
    assert.deepEqual(await files("gift wrapping"), []);
    assert.deepEqual(await files("gift wrapping", "other-site", "webchat"), []);
    assert.deepEqual(await files("refunds"), ["refunds.md"]);
    // A key with a channel matches that channel only.
    assert.deepEqual(await files("gift wrapping", "shop", "slack"), []);
  });

  it("reports each tenant's folder in stats", () => {
    const stats = kb.stats();
    assert.equal(stats.files, 1);
    assert.deepEqual(stats.tenants?.["webchat:shop"], {
      dir: tenants["webchat:shop"],
      exists: true,
      files: 1,
      chunks: 1,
    });
  });

  it("resolves tenant keys with or without their channel", () => {
    assert.equal(tenantKeyOf(tenants, "shop", "webchat"), "webchat:shop");
    assert.equal(tenantKeyOf(tenants, "shop"), "webchat:shop", "kb --tenant shop");
    assert.equal(tenantKeyOf(tenants, "T0SCHOOL", "teams"), "T0SCHOOL");
    assert.equal(tenantKeyOf(tenants, "nobody", "webchat"), undefined);
    assert.deepEqual(tenantFolder({ dir: join(dir, "default"), tenants }), {
      dir: join(dir, "default"),
      exclude: ["shop"],
    });
  });

  it("reads tenant folders from KNOWLEDGE_TENANTS and WEBCHAT_SITES", () => {
    const config = testConfig({
      KNOWLEDGE_TENANTS: '{"slack:T0123": "/srv/kb-acme"}',
      WEBCHAT_SITES: '[{"id": "shop", "origins": ["https://shop.example"], "knowledge": "./knowledge/shop"}]',
    });
    assert.deepEqual(config.knowledge.tenants, {
      "webchat:shop": "./knowledge/shop",
      "slack:T0123": "/srv/kb-acme",
    });
    assert.throws(() => testConfig({ KNOWLEDGE_TENANTS: "[1]" }), /KNOWLEDGE_TENANTS/);
    assert.throws(() => testConfig({ RETRIEVAL_CAUTION: "1.5" }), /RETRIEVAL_CAUTION/);
  });
});
