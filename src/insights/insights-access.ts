import type { Redis } from "ioredis";
import type { Config } from "../config.ts";
import { ErrorCode, GatewayError } from "../errors.ts";
import { createLogger } from "../logger.ts";
import { Keyspace } from "../redis/keyspace.ts";
import { createRedis } from "../redis/redis-client.ts";
import { InsightsStore } from "./insights-store.ts";

/** The support loop's stores, opened from a command-line tool over the configured Redis. */
export async function openInsights(
  config: Config,
): Promise<{ redis: Redis; store: InsightsStore; close(): void }> {
  const redis = createRedis(config.redis.url, createLogger({ level: "silent" }), { name: "cli" });
  try {
    await Promise.race([
      redis.ping(),
      new Promise((_, reject) => setTimeout(() => reject(new Error("no answer in 5 s")), 5000).unref()),
    ]);
  } catch (error) {
    redis.disconnect();
    throw new GatewayError(
      ErrorCode.RedisUnavailable,
      `Cannot reach Redis at REDIS_URL (${(error as Error).message}); start it or set REDIS_URL.`,
    );
  }
  const store = new InsightsStore({
    redis,
    keys: new Keyspace(config.redis.prefix),
    retentionMs: config.admin.retentionDays * 86_400_000,
  });
  return { redis, store, close: () => redis.disconnect() };
}
