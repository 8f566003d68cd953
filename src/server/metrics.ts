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
  return { registry, messages, rejected, answers, queueWait, timeToFirstToken, answerTime, queueDepth };
}

export type Metrics = ReturnType<typeof createMetrics>;
