import { Queue } from "bullmq";
import type { Config } from "../../../src/config.ts";
import { RedisContextStore } from "../../../src/conversation/context-store.ts";
import { AnswerLedger } from "../../../src/inference/answer-ledger.ts";
import type { Engine, GenerateRequest } from "../../../src/inference/engine.ts";
import { InferenceWorker } from "../../../src/inference/inference-worker.ts";
import { LlamaEngine } from "../../../src/inference/llama-engine.ts";
import type { Logger } from "../../../src/logger.ts";
import { createRedis, keyspace } from "../../../src/redis/redis-client.ts";

export interface RecordingWorker {
  /** Every request the engine received, in order: what the model was actually shown. */
  requests: GenerateRequest[];
  close(): Promise<void>;
}

/**
 * The real inference worker and the real llama engine (tiny model), with the engine's requests
 * recorded, so a test can see which earlier turns a prompt carried.
 */
export async function startRecordingWorker(config: Config, logger: Logger): Promise<RecordingWorker> {
  const keys = keyspace(config.redis.prefix);
  const modelPath = config.llm.modelPath;
  if (!modelPath) throw new Error("MODEL_PATH is needed");
  const llama = await LlamaEngine.load(
    {
      modelPath,
      gpu: config.llm.gpu,
      threads: config.llm.threads,
      contextSize: config.llm.contextSize,
      sequences: config.llm.sequences,
      ignoreEos: config.llm.ignoreEos,
    },
    logger,
  );
  const requests: GenerateRequest[] = [];
  const engine: Engine = {
    description: llama.description,
    capacity: llama.capacity,
    generate: (request, options) => {
      requests.push(request);
      return llama.generate(request, options);
    },
    close: () => llama.close(),
  };
  const redis = createRedis(config.redis.url, logger, { name: "rec-worker" });
  const connection = createRedis(config.redis.url, logger, { blocking: true, name: "rec-worker-bullmq" });
  const queueConnection = createRedis(config.redis.url, logger, { name: "rec-worker-queue" });
  const bullPrefix = keys("bull");
  const queue = new Queue(config.queue.name, { connection: queueConnection, prefix: bullPrefix });
  const storeOptions = { redis, keys, maxTurns: config.conversation.historyTurns };
  const worker = new InferenceWorker({
    queueName: config.queue.name,
    bullPrefix,
    connection,
    queue,
    redis,
    keys,
    ledger: new AnswerLedger({
      ...storeOptions,
      contextTtlSeconds: config.conversation.contextTtlSeconds,
      dedupeTtlSeconds: config.conversation.dedupeTtlSeconds,
    }),
    contextStore: new RedisContextStore({
      ...storeOptions,
      ttlSeconds: config.conversation.contextTtlSeconds,
    }),
    engine,
    logger,
    maxAnswerTokens: config.llm.maxAnswerTokens,
    temperature: config.llm.temperature,
    answerTimeoutMs: config.llm.answerTimeoutMs,
    lockMs: config.queue.lockMs,
    stalledIntervalMs: config.queue.stalledIntervalMs,
  });
  await worker.start();
  return {
    requests,
    close: async () => {
      await worker.close(config.queue.shutdownGraceMs);
      await engine.close();
      await queue.close().catch(() => undefined);
      for (const c of [redis, connection, queueConnection]) c.disconnect();
    },
  };
}
