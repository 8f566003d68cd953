import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { resolve } from "node:path";
import { Redis } from "ioredis";
import type { Config } from "../config.ts";
import { ErrorCode, GatewayError } from "../errors.ts";
import type { Logger } from "../logger.ts";

/** True when a Redis server answers PING at `url` (one try, no reconnects). */
export async function redisAnswers(url: string): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1000,
  });
  client.on("error", () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

export interface RedisEndpoint {
  url: string;
  /** Stops the private redis-server, when one was started. */
  stop(): Promise<void>;
}

/**
 * Finds Redis for `npm start` on a bare machine: REDIS_URL when given; otherwise 127.0.0.1:6379 if it
 * answers; otherwise a private `redis-server` child (AOF on, data in .cache/redis) when the binary is
 * installed; otherwise a clear error saying how to get one.
 */
export async function ensureRedis(config: Config, logger: Logger): Promise<RedisEndpoint> {
  const none = { url: config.redis.url, stop: async () => {} };
  if (config.redis.explicit || (await redisAnswers(config.redis.url))) return none;
  const found = spawnSync("redis-server", ["--version"], { stdio: "ignore" });
  if (found.error || found.status !== 0) {
    throw new GatewayError(
      ErrorCode.RedisUnavailable,
      "Nothing answers at redis://127.0.0.1:6379 and redis-server is not installed. Install Redis " +
        "(e.g. `apt-get install redis-server`), run `docker compose up redis`, or set REDIS_URL.",
    );
  }
  const port = await freePort();
  const dir = resolve(".cache", "redis");
  mkdirSync(dir, { recursive: true });
  const child: ChildProcess = spawn(
    "redis-server",
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--dir",
      dir,
      "--appendonly",
      "yes",
      "--appendfsync",
      "everysec",
      "--save",
      "",
      "--maxmemory-policy",
      "noeviction",
    ],
    { stdio: "ignore" },
  );
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 100 && !(await redisAnswers(url)); i++) await new Promise((r) => setTimeout(r, 50));
  if (!(await redisAnswers(url))) {
    child.kill();
    throw new GatewayError(
      ErrorCode.RedisUnavailable,
      `A private redis-server did not start on port ${port}.`,
    );
  }
  logger.warn(
    { url, dir },
    "REDIS_URL is not set and nothing answers on 6379: started a private redis-server",
  );
  return {
    url,
    stop: async () => {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    },
  };
}
