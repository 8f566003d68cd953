import { type Gateway, startGateway } from "../app/gateway.ts";
import { openKnowledge } from "../app/knowledge.ts";
import { startWorkerRuntime, type WorkerRuntime } from "../app/worker-runtime.ts";
import type { Config } from "../config.ts";
import type { Logger } from "../logger.ts";
import { ensureRedis } from "../redis/private-redis.ts";

export type Role = "all" | "gateway" | "worker";

/**
 * `npm start [-- gateway|worker]`: runs the gateway, a worker, or both in one process. SIGTERM/SIGINT
 * stop intake first (the HTTP server, the worker's job fetching), let answers in flight finish within
 * SHUTDOWN_GRACE_MS, then exit 0.
 */
export async function runStart(role: Role, baseConfig: Config, logger: Logger): Promise<void> {
  const redis = await ensureRedis(baseConfig, logger);
  const config: Config = { ...baseConfig, redis: { ...baseConfig.redis, url: redis.url } };
  let gateway: Gateway | undefined;
  let worker: WorkerRuntime | undefined;
  // Gateway and worker in one process share the knowledge folder's index (one load, one watcher).
  const knowledge = role === "all" ? await openKnowledge(config, logger) : undefined;
  const shared = knowledge ? { knowledge } : {};
  if (role !== "worker") gateway = await startGateway(config, logger, shared);
  if (role !== "gateway") worker = await startWorkerRuntime(config, logger, shared);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(
      { signal, graceMs: config.queue.shutdownGraceMs },
      "shutting down: finishing answers in flight",
    );
    await Promise.all([gateway?.close(), worker?.close()]);
    await knowledge?.close();
    await redis.stop();
    logger.info("stopped");
    logger.flush?.();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}
