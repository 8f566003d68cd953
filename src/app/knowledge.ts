import type { Config } from "../config.ts";
import { createKnowledgeBase, type KnowledgeBase } from "../knowledge/knowledge-base.ts";
import type { Logger } from "../logger.ts";

/** The knowledge folder as configured; a process running gateway and worker opens it once for both. */
export function openKnowledge(config: Config, logger: Logger): Promise<KnowledgeBase> {
  return createKnowledgeBase({
    dir: config.knowledge.dir,
    watch: config.knowledge.watch,
    logger,
    minScore: config.knowledge.minScore,
    wordVectors: config.knowledge.wordVectors,
    ...(config.knowledge.embeddingModelPath
      ? { embeddingModelPath: config.knowledge.embeddingModelPath }
      : {}),
  });
}
