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
import { createLogger } from "../../../src/logger.ts";
import { createMetrics } from "../../../src/metrics.ts";
import { Keyspace } from "../../../src/redis/keyspace.ts";

export interface TeamsTestServer {
  url: string;
  adapter: TeamsAdapter;
  redis: Redis;
  prefix: string;
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
}): Promise<TeamsTestServer> {
  const prefix = `test-${randomUUID()}`;
  const config = testConfig({ REDIS_PREFIX: prefix, LOG_LEVEL: "silent", ...options.env });
  const redis = new Redis(config.redis.url, { lazyConnect: true });
  await redis.connect();
  const app = express();
  const adapter = new TeamsAdapter(config.teams, {
    retry: { baseDelayMs: 50 },
    streamIntervalMs: 0,
    ...options.adapter,
  });
  await adapter.init(
    adapterContext(adapter, {
      config,
      routes: app,
      conversations: options.conversations,
      redis,
      keys: new Keyspace(config.redis.prefix),
      logger: createLogger({ level: "silent" }),
      metrics: createMetrics({ defaults: false }),
      rateLimiter: new RateLimiter(redis, new Keyspace(config.redis.prefix)),
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
    post: (body, headers = {}) =>
      fetch(`${url}/api/messages`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: typeof body === "string" ? body : JSON.stringify(body),
      }),
    async stop() {
      await adapter.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    },
  };
}
