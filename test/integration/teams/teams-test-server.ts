import { randomUUID } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { Redis } from "ioredis";
import { TeamsAdapter, type TeamsAdapterOptions } from "../../../adapters/teams/teams-adapter.ts";
import { adapterContext } from "../../../src/app/channel-adapters.ts";
import { testConfig } from "../../../src/config.ts";
import type { Conversations } from "../../../src/conversation/conversations.ts";
import { RateLimiter } from "../../../src/conversation/rate-limiter.ts";
import { DeliveryQueues } from "../../../src/delivery/delivery-queues.ts";
import { createLogger } from "../../../src/logger.ts";
import { createMetrics } from "../../../src/metrics.ts";
import { Keyspace } from "../../../src/redis/keyspace.ts";

export interface TeamsTestServer {
  url: string;
  adapter: TeamsAdapter;
  redis: Redis;
  prefix: string;
  queues: DeliveryQueues;
  metrics: ReturnType<typeof createMetrics>;
  post(body: unknown, headers?: Record<string, string>): Promise<globalThis.Response>;
  stop(): Promise<void>;
}

/**
 * The Teams adapter alone on an express app (port 0) with a real Redis under a random prefix, for unit
 * tests that bring their own Conversations port.
 */
export async function startTeamsServer(options: {
  env: Record<string, string>;
  conversations: Conversations;
  adapter?: TeamsAdapterOptions;
  extra?: Record<string, unknown>;
  /** Another server's prefix: a second gateway of the same deployment (keys are left to the first). */
  prefix?: string;
}): Promise<TeamsTestServer> {
  const prefix = options.prefix ?? `test-${randomUUID()}`;
  const config = testConfig({
    REDIS_PREFIX: prefix,
    LOG_LEVEL: "silent",
    SHUTDOWN_GRACE_MS: "1000",
    ...options.env,
  });
  const redis = new Redis(config.redis.url, { lazyConnect: true });
  await redis.connect();
  const workerRedis = new Redis(config.redis.url, { maxRetriesPerRequest: null });
  const app = express();
  const logger = createLogger({ level: "silent" });
  const metrics = createMetrics({ defaults: false });
  const keys = new Keyspace(config.redis.prefix);
  // Short locks and quick first retries, so that take-overs and retries happen within a test.
  const queues = new DeliveryQueues({
    connection: redis,
    workerConnection: workerRedis,
    prefix: keys.bullPrefix(),
    metrics,
    logger,
    lockMs: 1000,
    stalledIntervalMs: 500,
  });
  const adapter = new TeamsAdapter(config.teams, { streamIntervalMs: 0, ...options.adapter });
  await adapter.init(
    adapterContext(adapter, {
      config,
      routes: app,
      conversations: options.conversations,
      redis,
      keys,
      logger,
      metrics,
      rateLimiter: new RateLimiter(redis, keys),
      queues,
      ...options.extra,
    }),
  );
  await adapter.start();
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    adapter,
    redis,
    prefix,
    queues,
    metrics,
    post: (body, headers = {}) =>
      fetch(`${url}/api/messages`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: typeof body === "string" ? body : JSON.stringify(body),
      }),
    async stop() {
      await adapter.stop();
      await queues.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (!options.prefix) {
        const left = await redis.keys(`${prefix}:*`);
        if (left.length > 0) await redis.del(...left);
      }
      await redis.quit();
      workerRedis.disconnect();
    },
  };
}
