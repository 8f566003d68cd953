import type { InsightsStore } from "../insights/insights-store.ts";
import type { Logger } from "../logger.ts";

/**
 * Retention for what the support loop stores. Handoff state, follow-up logs and user index sets carry a
 * TTL of the retention period; conversation contexts (turns and their feedback) expire with
 * CONTEXT_TTL_SECONDS; analytics events and gaps are streams trimmed by age on every write and, for
 * quiet periods, by this sweep (at start and then hourly).
 */
export function startRetentionSweep(
  insights: InsightsStore,
  logger: Logger,
  intervalMs = 3_600_000,
): () => void {
  const log = logger.child({ component: "retention" });
  const sweep = () =>
    insights
      .trim()
      .then((removed) => {
        if (removed > 0) log.info({ removed }, "expired analytics entries removed");
      })
      .catch((error: unknown) => log.warn({ err: (error as Error).message }, "retention sweep failed"));
  void sweep();
  const timer = setInterval(sweep, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
