import { Redis, type RedisOptions } from "ioredis";
import type { Logger } from "../logger.ts";

export interface RedisClientOptions {
  /**
   * BullMQ workers and blocking readers need `maxRetriesPerRequest: null` so that a command waits for a
   * reconnect instead of failing; plain clients fail fast so an HTTP request gets a clear 503.
   * @defaultValue false
   */
  blocking?: boolean;
  /** Connection name shown by CLIENT LIST. */
  name?: string;
  /**
   * Send the commands issued in one event-loop tick as one pipeline (ioredis `enableAutoPipelining`):
   * concurrent requests then share round trips. Not for connections that block or subscribe.
   * @defaultValue false
   */
  autoPipeline?: boolean;
}

/**
 * Opens a Redis connection that reconnects by itself (capped backoff), so gateways and workers survive a
 * Redis restart without supervision.
 */
export function createRedis(
  url: string,
  logger: Logger,
  { blocking = false, name, autoPipeline = false }: RedisClientOptions = {},
): Redis {
  const options: RedisOptions = {
    maxRetriesPerRequest: blocking ? null : 2,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
    ...(name ? { connectionName: name } : {}),
    ...(autoPipeline ? { enableAutoPipelining: true } : {}),
  };
  const client = new Redis(url, options);
  let down = false;
  client.on("error", (error: Error) => {
    if (!down) logger.warn({ err: error.message, name }, "redis connection error; reconnecting");
    down = true;
  });
  client.on("ready", () => {
    if (down) logger.info({ name }, "redis connection restored");
    down = false;
  });
  return client;
}

/**
 * True for the errors ioredis raises while Redis cannot be reached (a command given up after its
 * retries, a closed connection, a refused or reset socket), so that a request can say "try again
 * shortly" (503) instead of "internal error".
 */
export function isRedisDown(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === "MaxRetriesPerRequestError") return true;
  return /Connection is closed|Stream isn't writeable|ECONNREFUSED|ECONNRESET|EPIPE|max retries per request/i.test(
    error.message,
  );
}
