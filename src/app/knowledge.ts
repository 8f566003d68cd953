import type { Config } from "../config.ts";
import type { KnowledgeBase } from "../knowledge/knowledge-base.ts";
import { createTenantKnowledge } from "../knowledge/tenant-knowledge.ts";
import type { Logger } from "../logger.ts";

/**
 * The knowledge folder as configured, with one base per tenant folder (KNOWLEDGE_TENANTS,
 * WEBCHAT_SITES' `knowledge`); a process running gateway and worker opens it once for both.
 */
export function openKnowledge(config: Config, logger: Logger): Promise<KnowledgeBase> {
  return createTenantKnowledge({
    dir: config.knowledge.dir,
    tenants: config.knowledge.tenants,
    watch: config.knowledge.watch,
    logger,
    minScore: config.knowledge.minScore,
    caution: config.knowledge.caution,
    ...(config.knowledge.indexCache ? { indexCache: config.knowledge.indexCache } : {}),
    wordVectors: config.knowledge.wordVectors,
    ...(config.knowledge.embeddingModelPath
      ? { embeddingModelPath: config.knowledge.embeddingModelPath }
      : {}),
  });
}
