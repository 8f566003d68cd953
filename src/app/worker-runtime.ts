import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { Queue } from "bullmq";
import { ledgerFor } from "../answering/answer-ledger.ts";
import { Answerer } from "../answering/answerer.ts";
import { InferenceWorker } from "../answering/inference-worker.ts";
import { publishWorkerStatus, removeWorkerStatus, type WorkerStatus } from "../answering/worker-status.ts";
import type { Config } from "../config.ts";
import { contextStoreFor } from "../conversation/context-store.ts";
import type { Engine } from "../inference/engine.ts";
import { chooseEngine, resolveNativeBin } from "../inference/engine-choice.ts";
import type { KnowledgeBase } from "../knowledge/knowledge-base.ts";
import type { Logger } from "../logger.ts";
import { Keyspace } from "../redis/keyspace.ts";
import { createRedis } from "../redis/redis-client.ts";
import { openKnowledge } from "./knowledge.ts";
import { workerInsights } from "./worker-insights.ts";

export interface WorkerRuntime {
  readonly status: WorkerStatus;
  /** Stops taking jobs, finishes those in flight within the grace period, releases the model. */
  close(): Promise<void>;
}

/** Loads the configured engine; node-llama-cpp is imported only in processes that run a model. */
async function loadEngine(config: Config, logger: Logger): Promise<Engine | undefined> {
  const { llm } = config;
  if (llm.engine === "fake") {
    // No model: deterministic filler at a fixed pace, for load tests of the service itself.
    const { FakeEngine } = await import("../inference/fake-engine.ts");
    return new FakeEngine({
      capacity: llm.sequences,
      contextSize: llm.contextSize,
      tokenMs: llm.fakeTokenMs,
      firstTokenMs: llm.fakeFirstTokenMs,
      ignoreEos: llm.ignoreEos,
    });
  }
  if (!llm.modelPath) return undefined;
  const nativeBin = await resolveNativeBin(llm.nativeEngineBin);
  let engine = llm.engine;
  if (engine === "auto") {
    const choice = await chooseEngine({ gpu: llm.gpu, nativeBin });
    logger.info({ engine: choice.engine, reason: choice.reason }, `ENGINE=auto chose ${choice.engine}`);
    engine = choice.engine;
  }
  if (engine === "native") {
    const { NativeBatchEngine } = await import("../inference/native-batch-engine.ts");
    return NativeBatchEngine.load(
      {
        binPath: nativeBin,
        modelPath: llm.modelPath,
        gpu: llm.gpu,
        threads: llm.threads,
        contextSize: llm.contextSize,
        sequences: llm.sequences,
        ignoreEos: llm.ignoreEos,
        kvUnified: llm.nativeKvUnified,
        prefixCache: llm.nativePrefixCache,
        ...(llm.batchSize ? { batchSize: llm.batchSize } : {}),
      },
      logger,
    );
  }
  const { LlamaEngine } = await import("../inference/llama-engine.ts");
  return LlamaEngine.load(
    {
      modelPath: llm.modelPath,
      gpu: llm.gpu,
      threads: llm.threads,
      contextSize: llm.contextSize,
      sequences: llm.sequences,
      ignoreEos: llm.ignoreEos,
      ...(llm.batchSize ? { batchSize: llm.batchSize } : {}),
    },
    logger,
  );
}

/**
 * One inference worker process's parts: the engine (or retrieval-only mode), the BullMQ worker, and a
 * heartbeat that tells gateways what this worker can do. A model that fails to load is reported (the
 * gateway's /readyz shows the error) and the process stays up without taking jobs, rather than
 * crash-looping.
 */
export interface WorkerRuntimeOptions {
  /** Wraps the loaded engine (tests use it to record what the model was shown). */
  wrapEngine?: (engine: Engine) => Engine;
  /** The knowledge folder, already open (one process running gateway and worker shares it). */
  knowledge?: KnowledgeBase;
}

export async function startWorkerRuntime(
  config: Config,
  logger: Logger,
  options: WorkerRuntimeOptions = {},
): Promise<WorkerRuntime> {
  const log = logger.child({ component: "worker" });
  const keys = new Keyspace(config.redis.prefix);
  const redis = createRedis(config.redis.url, log, { name: "worker", autoPipeline: true });
  const status: WorkerStatus = {
    id: `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`,
    state: "loading",
    engine:
      config.llm.engine === "fake" || config.llm.modelPath
        ? `${config.llm.engine}: ${config.llm.modelPath ?? "no model"}`
        : "retrieval-only (no MODEL_PATH)",
    capacity: 0,
    at: Date.now(),
  };
  const beat = () => publishWorkerStatus(redis, keys, { ...status, at: Date.now() }).catch(() => undefined);
  await beat();
  const heartbeat = setInterval(beat, 5000);
  heartbeat.unref();

  let engine: Engine | undefined;
  try {
    engine = await loadEngine(config, log);
    if (engine && options.wrapEngine) engine = options.wrapEngine(engine);
  } catch (error) {
    status.state = "failed";
    status.error = (error as Error).message;
    log.error({ err: status.error }, "the model could not be loaded; this worker takes no jobs");
    await beat();
    return {
      status,
      close: async () => {
        clearInterval(heartbeat);
        await removeWorkerStatus(redis, keys, status.id).catch(() => undefined);
        redis.disconnect();
      },
    };
  }
  if (engine) status.engine = engine.description;
  else log.warn("MODEL_PATH is not set: retrieval-only mode, answers are excerpts from the knowledge base");

  // The knowledge folder: retrieval runs in the worker (a process running the gateway too shares it).
  const ownsKnowledge = options.knowledge === undefined;
  const knowledge = options.knowledge ?? (await openKnowledge(config, logger));
  const insights = workerInsights({ config, redis, keys, knowledge, logger });
  const connection = createRedis(config.redis.url, log, { blocking: true, name: "worker-bullmq" });
  const queueConnection = createRedis(config.redis.url, log, { name: "worker-queue" });
  const bullPrefix = keys.bullPrefix();
  const queue = new Queue(config.queue.name, { connection: queueConnection, prefix: bullPrefix });
  const worker = new InferenceWorker({
    queueName: config.queue.name,
    bullPrefix,
    connection,
    queue,
    redis,
    keys,
    ledger: ledgerFor(redis, keys, config.conversation),
    contextStore: contextStoreFor(redis, keys, config.conversation),
    answerer: new Answerer({
      retriever: knowledge,
      tokenBudget: config.knowledge.tokenBudget,
      ...(engine ? { engine } : {}),
      maxAnswerTokens: config.llm.maxAnswerTokens,
      temperature: config.llm.temperature,
    }),
    // Excerpt answers are cheap: without a model, take more at once than a model's sequences.
    concurrency: engine?.capacity ?? 16,
    onAnswered: (outcome) => insights.answered(outcome),
    logger: log,
    answerTimeoutMs: config.llm.answerTimeoutMs,
    queueWaitMs: config.queue.waitMs,
    lockMs: config.queue.lockMs,
    stalledIntervalMs: config.queue.stalledIntervalMs,
  });
  await worker.start();
  status.state = "ready";
  status.capacity = worker.concurrency;
  await beat();
  log.info({ engine: status.engine, concurrency: status.capacity }, "worker ready");

  return {
    status,
    close: async () => {
      clearInterval(heartbeat);
      await worker.close(config.queue.shutdownGraceMs);
      await engine?.close();
      if (ownsKnowledge) await knowledge.close();
      await queue.close().catch(() => undefined);
      await removeWorkerStatus(redis, keys, status.id).catch(() => undefined);
      for (const c of [redis, connection, queueConnection]) c.disconnect();
    },
  };
}
