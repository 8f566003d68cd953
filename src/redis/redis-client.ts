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

/** A Redis URL as a log or error line may show it: the password masked. */
export function redactedRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return url;
  }
}

/**
 * Connects once to `url` and says what is wrong, in words an operator can act on, or undefined when Redis
 * answers PING. Start-up calls it so that a wrong REDIS_URL stops the process with one line instead of
 * reconnect warnings and stack traces from every client. One attempt, no retries: an orchestrator restarts
 * the process, and `docker compose` starts it only once Redis is healthy.
 */
export async function redisProblem(url: string, timeoutMs = 3000): Promise<string | undefined> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  // ioredis rejects connect() with a bare "Connection is closed."; the cause arrives as an error event.
  let cause: Error | undefined;
  client.on("error", (error: Error) => {
    cause ??= error;
  });
  const { hostname, port } = new URL(url);
  const where = `${hostname}:${port || "6379"}`;
  try {
    await client.connect();
    await client.ping();
    return undefined;
  } catch (error) {
    const { code, message } = (cause ?? error) as NodeJS.ErrnoException;
    if (code === "ECONNREFUSED")
      return `nothing listens at ${where} (connection refused): start Redis there or point REDIS_URL at a running server`;
    if (code === "ENOTFOUND" || code === "EAI_AGAIN")
      return `the host "${hostname}" does not resolve (${code}): fix the host name in REDIS_URL`;
    if (code === "ETIMEDOUT" || /timeout/i.test(message))
      return `no answer from ${where} within ${timeoutMs / 1000} s: check that Redis runs there and that this machine may reach it`;
    if (/NOAUTH|WRONGPASS|invalid (username-)?password|AUTH/i.test(message))
      return `Redis at ${where} refused the credentials (${message.split("\n")[0]}): put the right user and password in REDIS_URL (redis://USER:PASSWORD@HOST:PORT)`;
    return `cannot talk to Redis at ${where} (${message.split("\n")[0]}): check REDIS_URL (rediss:// for TLS)`;
  } finally {
    client.disconnect();
  }
}
