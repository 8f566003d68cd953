import type { Express } from "express";
import type { Redis } from "ioredis";
import { readWorkerStatuses } from "../answering/worker-status.ts";
import type { Metrics } from "../metrics.ts";
import type { Keyspace } from "../redis/keyspace.ts";

export interface HealthRoutesOptions {
  redis: Redis;
  keys: Keyspace;
  metrics: Metrics;
  /** Extra facts from adapters and the knowledge base (e.g. "teams: JWT validation OFF"). */
  details: () => Record<string, unknown>;
  /** Refresh sampled gauges (queue depth) before a scrape. */
  beforeScrape?: () => Promise<unknown>;
}

/**
 * /healthz: the process answers. /readyz: Redis answers and at least one worker is ready (a model
 * loaded, or retrieval-only mode, said plainly). /metrics: Prometheus text.
 */
export function mountHealthRoutes(
  app: Express,
  { redis, keys, metrics, details, beforeScrape }: HealthRoutesOptions,
) {
  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });

  app.get("/readyz", async (_req, res) => {
    let redisOk = false;
    try {
      redisOk = (await redis.ping()) === "PONG";
    } catch {
      redisOk = false;
    }
    const workers = redisOk ? await readWorkerStatuses(redis, keys).catch(() => []) : [];
    const ready = workers.filter((w) => w.state === "ready");
    const failed = workers.filter((w) => w.state === "failed");
    const mode =
      ready.length === 0
        ? "no worker ready"
        : ready.some((w) => !w.engine.startsWith("retrieval-only"))
          ? "model loaded"
          : "retrieval-only: no MODEL_PATH configured, answers are excerpts from the knowledge base";
    const ok = redisOk && ready.length > 0;
    res.status(ok ? 200 : 503).json({
      status: ok ? "ready" : "not ready",
      redis: redisOk ? "ok" : "unreachable",
      mode,
      workers: workers.map(({ id, state, engine, capacity, error }) => ({
        id,
        state,
        engine,
        capacity,
        error,
      })),
      ...(failed.length > 0 ? { problems: failed.map((w) => w.error) } : {}),
      ...details(),
    });
  });

  app.get("/metrics", async (_req, res) => {
    await beforeScrape?.().catch(() => undefined);
    res.setHeader("Content-Type", metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });
}
