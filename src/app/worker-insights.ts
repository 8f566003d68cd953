import type { Redis } from "ioredis";
import type { AnswerOutcome } from "../answering/inference-worker.ts";
import type { Config } from "../config.ts";
import { InsightsRecorder } from "../insights/insights-recorder.ts";
import { InsightsStore } from "../insights/insights-store.ts";
import { Redactor } from "../insights/redaction.ts";
import type { KnowledgeBase } from "../knowledge/knowledge-base.ts";
import type { Logger } from "../logger.ts";
import type { Keyspace } from "../redis/keyspace.ts";

export interface WorkerInsightsOptions {
  config: Config;
  redis: Redis;
  keys: Keyspace;
  knowledge: KnowledgeBase;
  logger: Logger;
}

/**
 * What a worker records of each answer it publishes: the `answered` event (kind, time to first text),
 * and a gap for the curators when the knowledge folder had nothing on the question or answered it
 * with low confidence. Recorded where the
 * outcome is decided, once per message (a gateway may follow one answer several times).
 */
export function workerInsights({ config, redis, keys, knowledge, logger }: WorkerInsightsOptions) {
  const recorder = new InsightsRecorder({
    store: new InsightsStore({ redis, keys, retentionMs: config.admin.retentionDays * 86_400_000 }),
    redactor: new Redactor(config.insights.redactPatterns),
    search: (q, limit) => knowledge.search(q, limit),
    // Votes are recorded by gateways; a worker never needs a conversation's turns here.
    turns: async () => [],
    logger,
  });
  return {
    async answered(outcome: AnswerOutcome): Promise<void> {
      const { job, kind, firstTextAt } = outcome;
      const channel = job.conversation.channel;
      await recorder.answered({
        messageId: job.messageId,
        channel,
        kind,
        ttftMs: firstTextAt - job.acceptedAt,
      });
      if (kind === "no_answer")
        await recorder.unanswered(job.conversation, job.userId, job.question, job.messageId);
      else if (outcome.decision?.reason === "uncertain")
        await recorder.lowConfidence(job.conversation, job.userId, job.question, job.messageId);
    },
  };
}
