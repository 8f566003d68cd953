import { statSync } from "node:fs";
import { type Gateway, startGateway } from "../app/gateway.ts";
import { openKnowledge } from "../app/knowledge.ts";
import { startWorkerRuntime, type WorkerRuntime } from "../app/worker-runtime.ts";
import type { Config } from "../config.ts";
import { ConfigError, ErrorCode, GatewayError } from "../errors.ts";
import type { KnowledgeBase } from "../knowledge/knowledge-base.ts";
import type { Logger } from "../logger.ts";
import { ensureRedis } from "../redis/private-redis.ts";
import { redisProblem } from "../redis/redis-client.ts";
import { startWorkerHealthServer, type WorkerHealthServer } from "../server/worker-health.ts";

export type Role = "all" | "gateway" | "worker";

/**
 * What stops a worker before it starts: a MODEL_PATH that names no file. (A file that exists but does not
 * load is reported by the running worker in /readyz instead: that needs the model's own loader to tell.)
 */
function modelProblem(config: Config): string | undefined {
  const path = config.llm.modelPath;
  if (!path) return undefined;
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === "ENOENT"
      ? `MODEL_PATH: no file at ${path}: put the GGUF there, fix MODEL_PATH, or leave it empty for retrieval-only mode`
      : `MODEL_PATH: cannot read ${path} (${code}): let this user read it, or fix MODEL_PATH`;
  }
  return isFile ? undefined : `MODEL_PATH: ${path} is a folder: name the .gguf file inside it`;
}

/** One line for the errors `listen` gives for a bad HOST or PORT, instead of a DNS or socket stack. */
function listenError(error: unknown, host: string, port: number, portVariable = "PORT"): unknown {
  const { code, syscall } = error as NodeJS.ErrnoException;
  const at = `${host}:${port}`;
  const fix =
    "use 0.0.0.0 (every interface), 127.0.0.1 (this machine only) or one of this machine's addresses";
  switch (code) {
    case "EADDRINUSE":
      return new ConfigError(
        `${portVariable}: ${at} is already in use: stop what listens there or set ${portVariable} to a free port`,
      );
    case "EACCES":
      return new ConfigError(
        `${portVariable}: listening on ${at} is not allowed for this user: use a port above 1023`,
      );
    case "EADDRNOTAVAIL":
      return new ConfigError(`HOST: ${host} is not an address of this machine: ${fix}`);
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return syscall === "getaddrinfo" || syscall === undefined
        ? new ConfigError(`HOST: ${host} does not resolve (${code}): ${fix}`)
        : error;
    default:
      return error;
  }
}

/**
 * `npm start [-- gateway|worker]`: runs the gateway, a worker, or both in one process. Settings that
 * cannot work (no Redis at REDIS_URL, no model file at MODEL_PATH, a HOST or PORT that cannot be bound)
 * stop it first with one line saying what to fix. SIGTERM/SIGINT stop intake first (the HTTP server, the
 * worker's job fetching), let answers in flight finish within SHUTDOWN_GRACE_MS, then exit 0.
 */
export async function runStart(role: Role, baseConfig: Config, logger: Logger): Promise<void> {
  if (role !== "gateway") {
    const problem = modelProblem(baseConfig);
    if (problem) throw new ConfigError(problem);
  }
  const redis = await ensureRedis(baseConfig, logger);
  const config: Config = { ...baseConfig, redis: { ...baseConfig.redis, url: redis.url } };
  const unreachable = await redisProblem(config.redis.url);
  if (unreachable) {
    await redis.stop();
    throw new GatewayError(ErrorCode.RedisUnavailable, `REDIS_URL: ${unreachable}`);
  }

  let stopping = false;
  let gateway: Gateway | undefined;
  let worker: WorkerRuntime | undefined;
  let health: WorkerHealthServer | undefined;
  let knowledge: KnowledgeBase | undefined;
  const { host, port, workerHealthPort } = config.server;
  try {
    if (role !== "gateway" && workerHealthPort !== undefined) {
      health = await startWorkerHealthServer({
        port: workerHealthPort,
        host,
        status: () => worker?.status,
        stopping: () => stopping,
      }).catch((error: unknown) => {
        throw listenError(error, host, workerHealthPort, "WORKER_HEALTH_PORT");
      });
      logger.info({ port: health.port }, "worker health probes listening (/healthz, /readyz)");
    }
    // Gateway and worker in one process share the knowledge folder's index (one load, one watcher).
    knowledge = role === "all" ? await openKnowledge(config, logger) : undefined;
    const shared = knowledge ? { knowledge } : {};
    if (role !== "worker") {
      gateway = await startGateway(config, logger, shared).catch((error: unknown) => {
        throw listenError(error, host, port);
      });
    }
    if (role !== "gateway") worker = await startWorkerRuntime(config, logger, shared);
  } catch (error) {
    // The process exits next: a private redis-server must not outlive it.
    await redis.stop();
    throw error;
  }

  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(
      { signal, graceMs: config.queue.shutdownGraceMs },
      "shutting down: finishing answers in flight",
    );
    await Promise.all([gateway?.close(), worker?.close()]);
    await knowledge?.close();
    await health?.close();
    await redis.stop();
    logger.info("stopped");
    logger.flush?.();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}
