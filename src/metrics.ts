import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** Every Prometheus series the service exports, on one registry per process (injected, never global). */
export function createMetrics({ defaults = true }: { defaults?: boolean } = {}) {
  const registry = new Registry();
  if (defaults) collectDefaultMetrics({ register: registry });
  const messages = new Counter({
    name: "sgw_messages_total",
    help: "Messages accepted, by channel",
    labelNames: ["channel"] as const,
    registers: [registry],
  });
  const rejected = new Counter({
    name: "sgw_messages_rejected_total",
    help: "Messages refused before enqueueing, by channel and error code",
    labelNames: ["channel", "code"] as const,
    registers: [registry],
  });
  const answers = new Counter({
    name: "sgw_answers_total",
    help: "Answers finished, by channel and outcome (answer kind or error code)",
    labelNames: ["channel", "outcome"] as const,
    registers: [registry],
  });
  const queueWait = new Histogram({
    name: "sgw_queue_wait_seconds",
    help: "Time from accepting a message to a worker starting on it",
    labelNames: ["channel"] as const,
    buckets: latencyBuckets,
    registers: [registry],
  });
  const timeToFirstToken = new Histogram({
    name: "sgw_time_to_first_token_seconds",
    help: "Time from accepting a message to its first streamed text",
    labelNames: ["channel"] as const,
    buckets: latencyBuckets,
    registers: [registry],
  });
  const answerTime = new Histogram({
    name: "sgw_answer_seconds",
    help: "Time from accepting a message to its final answer",
    labelNames: ["channel"] as const,
    buckets: latencyBuckets,
    registers: [registry],
  });
  const queueDepth = new Gauge({
    name: "sgw_queue_depth",
    help: "Jobs waiting or running in the inference queue (sampled at scrape)",
    registers: [registry],
  });
  // What an orchestrator scales on (KEDA reads sgw_queue_waiting_jobs through Prometheus) and what says
  // whether anybody is there to answer, now that readiness no longer depends on workers.
  const queueWaiting = new Gauge({
    name: "sgw_queue_waiting_jobs",
    help: "Answer jobs waiting for a worker (BullMQ waiting + prioritized), sampled at scrape",
    registers: [registry],
  });
  const oldestWaiting = new Gauge({
    name: "sgw_oldest_waiting_job_age_seconds",
    help: "Age of the oldest answer job no worker has taken yet (0 when none waits), sampled at scrape",
    registers: [registry],
  });
  const workersAlive = new Gauge({
    name: "sgw_workers_alive",
    help: "Inference workers that sent a heartbeat recently, by state (loading, ready, failed)",
    labelNames: ["state"] as const,
    registers: [registry],
  });
  const queueWaitExpired = new Counter({
    name: "sgw_queue_wait_expired_total",
    help: "Messages ended with an `unavailable` error because no worker took them within QUEUE_WAIT_MS",
    registers: [registry],
  });
  const feedback = new Counter({
    name: "sgw_feedback_total",
    help: "Votes on answers, by channel and vote",
    labelNames: ["channel", "vote"] as const,
    registers: [registry],
  });
  const handoffs = new Counter({
    name: "sgw_handoffs_total",
    help: "Conversations handed to a person, by channel",
    labelNames: ["channel"] as const,
    registers: [registry],
  });
  const gaps = new Counter({
    name: "sgw_gaps_total",
    help: "Questions recorded for curators, by channel and reason (no_answer, low_confidence, downvote, handoff)",
    labelNames: ["channel", "reason"] as const,
    registers: [registry],
  });
  // Outbound deliveries (Slack, Teams, the hand-off webhook), one BullMQ queue each.
  const deliveries = new Counter({
    name: "sgw_deliveries_total",
    help: "Outbound delivery attempts, by channel, queue and outcome (delivered, retry, dead)",
    labelNames: ["channel", "queue", "outcome"] as const,
    registers: [registry],
  });
  const deliverySeconds = new Histogram({
    name: "sgw_delivery_seconds",
    help: "Time from storing an outbound message to its delivery, by channel and queue",
    labelNames: ["channel", "queue"] as const,
    buckets: latencyBuckets,
    registers: [registry],
  });
  const deliveryDeadLetters = new Gauge({
    name: "sgw_delivery_dead_letters",
    help: "Outbound messages given up after their attempts and kept for an operator (sampled at scrape)",
    labelNames: ["channel", "queue"] as const,
    registers: [registry],
  });
  const deliveryPending = new Gauge({
    name: "sgw_delivery_pending",
    help: "Outbound messages waiting, retrying or being sent (sampled at scrape)",
    labelNames: ["channel", "queue"] as const,
    registers: [registry],
  });
  // The report's figures over its window (REPORT_WINDOW_DAYS), recomputed at scrape time from the
  // analytics streams, so a dashboard and `npm run report` agree.
  const report = {
    questions: new Gauge({
      name: "sgw_report_questions",
      help: "Questions accepted in the report window, by channel",
      labelNames: ["channel"] as const,
      registers: [registry],
    }),
    deflection: new Gauge({
      name: "sgw_report_deflection_ratio",
      help: "Share of questions answered from knowledge without a handoff in the report window",
      labelNames: ["channel"] as const,
      registers: [registry],
    }),
    thumbsUp: new Gauge({
      name: "sgw_report_thumbs_up_ratio",
      help: "Thumbs up / all votes in the report window",
      labelNames: ["channel"] as const,
      registers: [registry],
    }),
    handoffs: new Gauge({
      name: "sgw_report_handoffs",
      help: "Handoffs in the report window, by channel",
      labelNames: ["channel"] as const,
      registers: [registry],
    }),
    ttft: new Gauge({
      name: "sgw_report_ttft_median_seconds",
      help: "Median time to first token in the report window, by channel",
      labelNames: ["channel"] as const,
      registers: [registry],
    }),
  };
  return {
    registry,
    messages,
    rejected,
    answers,
    queueWait,
    timeToFirstToken,
    answerTime,
    queueDepth,
    queueWaiting,
    oldestWaiting,
    workersAlive,
    queueWaitExpired,
    feedback,
    handoffs,
    gaps,
    deliveries,
    deliverySeconds,
    deliveryDeadLetters,
    deliveryPending,
    report,
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
