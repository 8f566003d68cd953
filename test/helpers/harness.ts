import { randomUUID } from "node:crypto";
import { resolve } from "node:path";
import type { Redis } from "ioredis";
import type { ChannelAdapter } from "../../adapters/types.ts";
import type { ConversationManager } from "../../src/answering/conversation-manager.ts";
import { type Gateway, startGateway } from "../../src/app/gateway.ts";
import { startWorkerRuntime, type WorkerRuntime } from "../../src/app/worker-runtime.ts";
import { type Config, loadConfig } from "../../src/config.ts";
import { createLogger, type Logger } from "../../src/logger.ts";
import { ensureTinyModel } from "../../src/tiny-model/tiny-model.ts";

export interface HarnessOptions {
  /** Settings on top of the test defaults below (same names as the environment variables). */
  env?: Record<string, string>;
  /** Start an in-process worker. @defaultValue true */
  worker?: boolean;
  /** Give the worker the generated tiny model (false: retrieval-only mode). @defaultValue true */
  model?: boolean;
  /** Replace the configured channels (e.g. a Slack adapter pointed at a fake API). */
  adapters?: (config: Config) => ChannelAdapter[];
  logger?: Logger;
  /** The gateway's clock for time windows (rate limits). */
  now?: () => number;
}

export interface Harness {
  baseUrl: string;
  config: Config;
  /** The gateway's Redis client (keys are under config.redis.prefix). */
  redis: Redis;
  conversations: ConversationManager;
  gateway: Gateway;
  worker: WorkerRuntime | undefined;
  /** The env the harness used, for starting extra worker processes with the same settings. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * Gateway + worker in this process, on the real Redis (a fresh key prefix per harness), with the tiny
 * generated model and the sample knowledge folder. Tests talk to it over HTTP like a client would.
 */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const prefix = `test-${randomUUID()}`;
  const env: Record<string, string> = {
    PORT: "0",
    HOST: "127.0.0.1",
    REDIS_URL: process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379",
    REDIS_PREFIX: prefix,
    LOG_LEVEL: "silent",
    LLM_GPU: "false",
    LLM_THREADS: "1",
    LLM_SEQUENCES: "4",
    LLM_CONTEXT_SIZE: "2048",
    MAX_ANSWER_TOKENS: "24",
    LLM_TEMPERATURE: "0.8",
    KNOWLEDGE_DIR: resolve("knowledge"),
    KNOWLEDGE_WATCH: "false",
    RETRIEVAL_TOKEN_BUDGET: "120",
    RATE_LIMIT_USER_PER_MINUTE: "0",
    RATE_LIMIT_TENANT_PER_MINUTE: "0",
    RATE_LIMIT_IP_PER_MINUTE: "0",
    SHUTDOWN_GRACE_MS: "2000",
    ...(options.model === false ? {} : { MODEL_PATH: await ensureTinyModel() }),
    ...options.env,
  };
  const config = loadConfig(env);
  const logger = options.logger ?? createLogger({ level: config.log.level });
  const gateway = await startGateway(config, logger, {
    ...(options.adapters ? { adapters: options.adapters(config) } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  const worker = options.worker === false ? undefined : await startWorkerRuntime(config, logger);
  return {
    baseUrl: `http://127.0.0.1:${gateway.port}`,
    config,
    redis: gateway.redis,
    conversations: gateway.conversations,
    gateway,
    worker,
    env,
    stop: async () => {
      await worker?.close();
      const redis = gateway.redis;
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 500);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== "0");
      await gateway.close();
    },
  };
}
