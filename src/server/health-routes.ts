import type { Express } from "express";
import type { Redis } from "ioredis";
import type { QueueStats } from "../answering/queue-stats.ts";
import type { Metrics } from "../metrics.ts";

export interface HealthRoutesOptions {
  redis: Redis;
  metrics: Metrics;
  /** The answer queue and its workers (readyz details and the queue gauges on /metrics). */
  queueStats: () => Promise<QueueStats>;
  /** Reasons this gateway cannot accept work besides Redis (e.g. the knowledge folder is missing). */
  problems?: () => string[];
  /** Extra facts from adapters and the knowledge base (e.g. "teams: JWT validation OFF"). */
  details: () => Record<string, unknown>;
  /** Refresh sampled gauges (queue depth, report figures) before a scrape. */
  beforeScrape?: () => Promise<unknown>;
}

const NO_WORKER =
  "no worker is ready: accepted messages wait up to QUEUE_WAIT_MS for one, then end with an `unavailable` error";

/**
 * /healthz: the process answers (liveness; cheap). /readyz: this gateway can accept and queue work —
 * Redis answers and nothing else stops it — so an orchestrator keeps it in its Service while workers
 * restart; whether workers are alive is reported in the details (and on /metrics), and handled by the
 * queue-wait budget, not by readiness. /metrics: Prometheus text.
 */
export function mountHealthRoutes(app: Express, o: HealthRoutesOptions) {
  const { redis, metrics } = o;
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
    const stats = redisOk ? await o.queueStats().catch(() => undefined) : undefined;
    const workers = stats?.workers ?? [];
    const ready = workers.filter((w) => w.state === "ready");
    const failed = workers.filter((w) => w.state === "failed");
    const mode =
      ready.length === 0
        ? "no worker ready"
        : ready.some((w) => !w.engine.startsWith("retrieval-only"))
          ? "model loaded"
          : "retrieval-only: no MODEL_PATH configured, answers are excerpts from the knowledge base";
    const problems = [...(redisOk ? [] : ["redis unreachable"]), ...(o.problems?.() ?? [])];
    const ok = problems.length === 0;
    res.status(ok ? 200 : 503).json({
      status: ok ? "ready" : "not ready",
      redis: redisOk ? "ok" : "unreachable",
      mode,
      queue: stats ? { waiting: stats.waiting, oldestWaitingMs: stats.oldestWaitingMs } : undefined,
      workers: workers.map(({ id, state, engine, capacity, error }) => ({
        id,
        state,
        engine,
        capacity,
        error,
      })),
      ...(problems.length > 0 ? { problems } : {}),
      warnings: [
        ...(redisOk && ready.length === 0 ? [NO_WORKER] : []),
        ...failed.map((w) => `worker ${w.id} failed: ${w.error ?? "unknown error"}`),
      ],
      ...o.details(),
    });
  });

  app.get("/metrics", async (_req, res) => {
    await Promise.all([
      o.beforeScrape?.(),
      o.queueStats().then((stats) => {
        metrics.queueWaiting.set(stats.waiting);
        metrics.oldestWaiting.set(stats.oldestWaitingMs / 1000);
        metrics.workersAlive.reset();
        for (const state of ["loading", "ready", "failed"] as const)
          metrics.workersAlive.set({ state }, stats.workers.filter((w) => w.state === state).length);
      }),
    ]).catch(() => undefined);
    res.setHeader("Content-Type", metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });
}
